#!/usr/bin/env python3
"""Memory stays steady under load: the daemon on the fixture tree (the same processes every
cycle, so every cycle's data is the same size) at the shortest interval allowed (100 ms), with
basic auth on, while this test scrapes it 10,000 times in every variant (text, gzip, OpenMetrics,
OpenMetrics gzip, HEAD, the other endpoints, 404s, 405s, a wrong password now and then, fresh
connections among keep-alive ones). Its resident memory (VmRSS) is read once warmed up (every
variant served, 1,000 scrapes, 20 cycles) and again at the end (10,000 scrapes and 1,000
cycles); it may not grow by more than 1 MiB (a bound on memory, not on time: retained growth of
a few hundred bytes per scrape or a KiB per cycle would cross it). Leaks as such are valgrind's
(make check-valgrind); this catches what valgrind cannot: memory still referenced but growing
without bound, like a cache or a publication that is never released.

1,000 cycles at 100 ms make this the longest integration test (about two minutes)."""
import base64
import gzip
import http.client
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import FIXTURES, Daemon, Test, parse, read_kb_fields, sample_value, skip, tempdir  # noqa: E402

SCRAPES, WARM_SCRAPES, CYCLES, WARM_CYCLES, BOUND = 10000, 1000, 1000, 20, 1 << 20

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt
    except ImportError:
        skip("python3 has no crypt module to make a bcrypt hash")
hashed = crypt.crypt("pw", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))

t = Test(f"memory steady over {SCRAPES} scrapes and {CYCLES} cycles")
users = os.path.join(tempdir(), "users")
with open(users, "w") as f:
    f.write(f"prom:{hashed}\n")

GOOD = {"Authorization": "Basic " + base64.b64encode(b"prom:pw").decode()}
BAD = {"Authorization": "Basic " + base64.b64encode(b"prom:nope").decode()}
OM = "application/openmetrics-text; version=1.0.0"
VARIANTS = [("GET", "/metrics", {}), ("GET", "/metrics", {"Accept-Encoding": "gzip"}),
            ("GET", "/metrics", {"Accept": OM}),
            ("GET", "/metrics", {"Accept": OM, "Accept-Encoding": "gzip"}),
            ("HEAD", "/metrics", {}), ("GET", "/", {}), ("GET", "/-/healthy", {}),
            ("GET", "/nope", {}), ("POST", "/metrics", {}), ("FRESH", "/metrics", {})]

d = Daemon("--procfs", os.path.join(FIXTURES, "proc"), "--interval", "100ms", "--smaps", "full",
           "--top", "0", "--detail-top", "0", "--basic-auth-file", users)
host, port = d.addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=30)
statuses = {}


def scrape(i):
    global conn
    method, path, headers = VARIANTS[i % len(VARIANTS)]
    if method == "FRESH":  # a new connection now and then
        conn.close()
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        method = "GET"
    # a bcrypt for each wrong password: a few only, they are slow on purpose
    conn.request(method, path, headers={**headers, **(BAD if i % 500 == 7 else GOOD)})
    r = conn.getresponse()
    body = r.read()
    statuses[r.status] = statuses.get(r.status, 0) + 1
    if r.status == 200 and r.getheader("Content-Encoding") == "gzip":
        gzip.decompress(body)  # raises if the gzip is broken
    if r.getheader("Connection", "").lower() == "close":
        conn.close()


def cycles():
    return sample_value(parse(d.metrics_text(headers=GOOD)), "procmem_collect_cycles_total")


def rss():
    return read_kb_fields(f"/proc/{d.pid}/status")["VmRSS"]


for i in range(WARM_SCRAPES):
    scrape(i)
d.wait_cycles(WARM_CYCLES, headers=GOOD)
warm = rss()
# the rest spread over the cycles: about 10 per 100 ms cycle until both counts are reached
i, n = WARM_SCRAPES, cycles()
while i < SCRAPES or n < CYCLES:
    for _ in range(10):
        scrape(i)
        i += 1
    if d.proc.poll() is not None:
        t.fatal("the daemon died")
    time.sleep(0.1)
    if i % 100 == 0:
        n = cycles()
conn.close()
end = rss()
print(f"VmRSS {warm // 1024} KiB after {WARM_SCRAPES} scrapes and {WARM_CYCLES} cycles, "
      f"{end // 1024} KiB after {i} scrapes and {n} cycles; statuses {statuses}")
t.ok(n >= CYCLES and i >= SCRAPES, f"{i} scrapes and {n} cycles")
t.eq(sorted(statuses), [200, 401, 404, 405], "every variant answered as it should (401: the wrong passwords)")
t.ok(end - warm <= BOUND, f"resident memory grew by {(end - warm) // 1024} KiB (at most {BOUND >> 10})")
t.eq(d.stop(), 0, "the daemon stops cleanly")
t.done()
