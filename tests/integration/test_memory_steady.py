#!/usr/bin/env python3
"""The daemon's memory stays steady over 10,000 scrapes: its VmRSS (from /proc/PID/status) after
10,000 more scrapes is within 1 MiB of what it was after a 1,000-scrape warm-up. The scrapes
mix what a scrape can allocate: keep-alive and fresh connections, text, OpenMetrics and gzip,
HEAD, 404s, and basic auth (the first check goes through bcrypt, the rest through the cache;
wrong passwords through bcrypt each time). The collector's memory is held still: one cycle,
then an hour's interval, on the captured /proc fixture.

The bound is generous on purpose: it is memory, not time, and a leak of even 100 bytes a scrape
would pass 1 MiB."""
import base64
import gzip
import http.client
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import FIXTURES, Daemon, Test, read_kb_fields, skip, tempdir  # noqa: E402

WARMUP, SCRAPES, BOUND_KIB = 1000, 10000, 1024

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt
    except ImportError:
        skip("python3 has no crypt module to make a bcrypt hash")
hashed = crypt.crypt("pw", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))

t = Test(f"memory: VmRSS steady over {SCRAPES} scrapes after a {WARMUP}-scrape warm-up")
d = tempdir()
users = os.path.join(d, "users")
with open(users, "w") as f:
    f.write(f"prom:{hashed}\n")

procfs = os.path.join(FIXTURES, "proc")
daemon = Daemon("--interval", "1h", "--smaps", "full", "--procfs", procfs, "--basic-auth-file", users)
HOST, PORT = daemon.addr.rsplit(":", 1)
GOOD = {"Authorization": "Basic " + base64.b64encode(b"prom:pw").decode()}
BAD = {"Authorization": "Basic " + base64.b64encode(b"prom:nope").decode()}
OM = "application/openmetrics-text;version=1.0.0"
counts = {}


def scrapes(n):
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    for i in range(n):
        kind = i % 10
        headers = dict(GOOD)
        method, path = "GET", "/metrics"
        if kind == 1:
            headers["Accept-Encoding"] = "gzip"
        elif kind == 2:
            headers["Accept"] = OM
        elif kind == 3:
            method = "HEAD"
        elif kind == 4:
            path = "/nope"
        elif kind == 5:
            path = "/"
        elif kind == 6 and i % 100 == 6:
            headers = BAD  # a bcrypt each: a few only, they are slow on purpose
        elif kind == 7:
            c.close()  # a fresh connection now and then
            c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
        c.request(method, path, headers=headers)
        r = c.getresponse()
        body = r.read()
        counts[r.status] = counts.get(r.status, 0) + 1
        if kind == 1 and r.status == 200:
            gzip.decompress(body)  # raises if the gzip is broken
    c.close()


def rss_kib():
    return read_kb_fields(f"/proc/{daemon.pid}/status")["VmRSS"] // 1024  # it gives bytes


scrapes(WARMUP)
before = rss_kib()
scrapes(SCRAPES)
after = rss_kib()
print(f"VmRSS after {WARMUP} scrapes: {before} KiB; after {SCRAPES} more: {after} KiB "
      f"({after - before:+d} KiB); statuses {sorted(counts.items())}")
t.ok(counts.get(200, 0) > 0.7 * (WARMUP + SCRAPES), "most scrapes answered 200")
t.ok(counts.get(401, 0) > 0, "and the wrong passwords 401")
t.ok(after - before < BOUND_KIB, f"VmRSS grew by less than {BOUND_KIB} KiB ({after - before:+d} KiB)")
t.ok(daemon.proc.poll() is None, "the daemon is still running")
t.eq(daemon.stop(), 0, "and stops cleanly")
t.done()
