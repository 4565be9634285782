#!/usr/bin/env python3
"""Memory stays steady under load: the daemon on the fixture tree (the same processes every
cycle, so every cycle's data is the same size) at the shortest interval allowed (100 ms), while
this test scrapes it 10,000 times in every variant (text, gzip, OpenMetrics, OpenMetrics gzip,
HEAD, the other endpoints, 404s). Its resident memory (VmRSS) is read once warmed up (every
variant rendered, 1,000 scrapes, 20 cycles) and again at the end (10,000 scrapes, 400 cycles or
more); it may not grow by more than 1 MiB (a bound on memory, not on time: retained growth of
even a few hundred bytes per scrape or a few KiB per cycle would cross it). Leaks as such are
valgrind's (make check-valgrind); this catches what valgrind cannot: memory that is still
referenced but grows without bound, like a cache or a publication that is never released.

400 cycles rather than the 1,000 of the issue: the interval cannot go under 100 ms, and 1,000
cycles would take more than the minute an integration test may take.
"""
import http.client
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import FIXTURES, Daemon, Test, parse, read_kb_fields, sample_value  # noqa: E402

t = Test("memory steady over 10,000 scrapes and 400 cycles")

SCRAPES, WARM_SCRAPES, CYCLES, WARM_CYCLES = 10000, 1000, 400, 20
OM = "application/openmetrics-text; version=1.0.0"
VARIANTS = [("GET", "/metrics", {}), ("GET", "/metrics", {"Accept-Encoding": "gzip"}),
            ("GET", "/metrics", {"Accept": OM}),
            ("GET", "/metrics", {"Accept": OM, "Accept-Encoding": "gzip"}),
            ("HEAD", "/metrics", {}), ("GET", "/", {}), ("GET", "/-/healthy", {}),
            ("GET", "/nope", {}), ("POST", "/metrics", {})]

d = Daemon("--procfs", os.path.join(FIXTURES, "proc"), "--interval", "100ms", "--smaps", "full",
           "--top", "0")
host, port = d.addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=30)
statuses = {}


def scrape(i):
    method, path, headers = VARIANTS[i % len(VARIANTS)]
    conn.request(method, path, headers=headers)
    r = conn.getresponse()
    r.read()
    statuses[r.status] = statuses.get(r.status, 0) + 1
    if r.getheader("Connection", "").lower() == "close":
        conn.close()


def cycles():
    return sample_value(parse(d.metrics_text()), "procmem_collect_cycles_total")


def rss():
    return read_kb_fields(f"/proc/{d.pid}/status")["VmRSS"]


for i in range(WARM_SCRAPES):
    scrape(i)
d.wait_cycles(WARM_CYCLES)
warm = rss()
# the rest spread over the cycles, 25 between one cycle and the next
i, n = WARM_SCRAPES, cycles()
while i < SCRAPES or n < CYCLES:
    for _ in range(25):
        scrape(i)
        i += 1
    if d.proc.poll() is not None:
        t.fatal("the daemon died")
    n = sample_value(parse(d.wait_cycles(n + 1)), "procmem_collect_cycles_total")
conn.close()
end = rss()
print(f"VmRSS {warm // 1024} KiB after {WARM_SCRAPES} scrapes and {WARM_CYCLES} cycles, "
      f"{end // 1024} KiB after {i} scrapes and {n} cycles; statuses {statuses}")
t.ok(n >= CYCLES and i >= SCRAPES, f"{i} scrapes and {n} cycles")
t.eq(sorted(statuses), [200, 404, 405], "every variant answered as it should")
t.ok(end - warm <= 1 << 20, f"resident memory grew by {(end - warm) // 1024} KiB (at most 1024)")
t.eq(d.stop(), 0, "the daemon stops cleanly")
t.done()
