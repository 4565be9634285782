#!/usr/bin/env python3
"""Raw-socket abuse of the real daemon on 127.0.0.1, with bounded counts: hundreds of idle
connections (from one address, then from several loopback addresses) do not keep a scrape out;
50 concurrent scrapes are all answered in full; a garbage request line, a 64 KiB header, a
16 KiB URL and unknown methods are answered with an error or dropped; and after all of it the
daemon still serves /metrics and still runs.

Loopback is 127.0.0.0/8: binding a client socket to 127.0.0.2 and so on gives connections from
distinct addresses without leaving the machine.
"""
import http.client
import os
import select
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import Daemon, Test  # noqa: E402

t = Test("HTTP abuse: idle connections, concurrent scrapes, malformed and oversized requests")

# The daemon's connection limit is 512 and it evicts past 448 (src/http.c); one address keeps
# at most 64. 300 idle connections is over the per-address share and a good part of the total.
IDLE = 300


def raise_nofile(n):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


raise_nofile(4096)
daemon = Daemon("--interval", "1h", "--smaps", "rollup")
HOST, PORT = daemon.addr.rsplit(":", 1)
PORT = int(PORT)


def scrape(path="/metrics", timeout=30):
    """(status, body) of one GET on a fresh connection."""
    c = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def raw(data, timeout=30):
    """Sends bytes on a fresh connection and reads until the server closes it (or it resets):
    what came back."""
    out = b""
    with socket.create_connection((HOST, PORT), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before taking all of an oversized request
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except ConnectionResetError:
            pass
    return out


def status_of(resp):
    if not resp.startswith(b"HTTP/1."):
        return None
    return int(resp.split(b" ", 2)[1])


def open_idle(n, sources):
    """n connections that send nothing, spread over the source addresses."""
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sources[i % len(sources)], 0))
        s.settimeout(30)
        s.connect((HOST, PORT))
        socks.append(s)
    return socks


def close_all(socks):
    for s in socks:
        s.close()


status, body = scrape()
t.eq(status, 200, "a scrape before any abuse answers 200")
t.ok(b"procmem_processes" in body or len(body) > 1000, "and carries the exposition")

# 1. idle connections from the scraper's own address: its scrape still gets in
idle = open_idle(IDLE, ["127.0.0.1"])
status, body = scrape()
t.eq(status, 200, f"with {IDLE} idle connections open from 127.0.0.1, a scrape from 127.0.0.1 answers 200")
close_all(idle)

# 2. idle connections from other addresses than the scraper's, more than the server's limit of
# 512 in total: without eviction the scrape would wait in the listen backlog until idle ones
# time out; with it, the longest idle ones are closed to make room
sources = [f"127.0.0.{i}" for i in range(2, 11)]  # 9 addresses x 60 = 540
idle = open_idle(540, sources)
r, _, _ = select.select([idle[0]], [], [], 5)  # the daemon's idle timeout is 10 s
first_closed = False
if r:
    try:
        first_closed = idle[0].recv(1) == b""
    except ConnectionResetError:
        first_closed = True
t.ok(first_closed, "with 540 idle connections open, the longest idle one was closed to make room")
status, body = scrape()
t.eq(status, 200, "with 540 idle connections from 9 other loopback addresses, a scrape answers 200")
close_all(idle)

# 3. 50 concurrent scrapes, each answered in full
full = scrape()[1]
results = [None] * 50


def one(i):
    try:
        results[i] = scrape()
    except OSError as e:
        results[i] = (str(e), b"")


threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
for th in threads:
    th.start()
for th in threads:
    th.join(60)
t.eq(sum(1 for r in results if r and r[0] == 200), 50, "50 concurrent scrapes all answer 200")
# the body differs from scrape to scrape only in its per-scrape tail (request counters, CPU)
sizes_ok = all(r and abs(len(r[1]) - len(full)) < 200 for r in results)
t.ok(sizes_ok, "and each carries the whole exposition")

# 4. malformed and oversized requests: an error status, or the connection dropped
resp = raw(b"\x16\x03\x01garbage \x00\xff not http\r\n\r\n")
t.ok(status_of(resp) in (None, 400), f"a garbage request line gets 400 or a closed connection ({resp[:40]!r})")

resp = raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
t.ok(status_of(resp) in (None, 400, 413, 431), f"a 64 KiB header gets 4xx or a closed connection ({resp[:40]!r})")

resp = raw(b"GET /" + b"m" * 16384 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
t.ok(status_of(resp) in (None, 400, 404, 414, 431), f"a 16 KiB URL gets 4xx or a closed connection ({resp[:40]!r})")

for method in (b"BREW", b"DELETE", b"PUT", b"OPTIONS"):
    resp = raw(method + b" /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.ok(status_of(resp) in (405, 501), f"{method.decode()} /metrics gets 405 or 501 ({resp[:40]!r})")

resp = raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nabc")
t.ok(status_of(resp) in (None, 200, 400, 413), f"a GET announcing a huge body gets answered or dropped ({resp[:40]!r})")

resp = raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
t.ok(status_of(resp) in (None, 200, 400), f"a broken chunked body gets answered or dropped ({resp[:40]!r})")

# a request cut in the middle of its headers, the client gone
with socket.create_connection((HOST, PORT), timeout=30) as s:
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Half: ")

# 5. after all of it, still serving, still running
status, body = scrape()
t.eq(status, 200, "after the abuse, a scrape answers 200")
t.ok(abs(len(body) - len(full)) < 200, "with the whole exposition")
t.ok(daemon.proc.poll() is None, "the daemon is still running")
t.eq(daemon.stop(), 0, "and stops cleanly on SIGTERM")
t.done()
