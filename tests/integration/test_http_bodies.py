#!/usr/bin/env python3
"""Requests a client controls, over raw sockets: bodies, chunked bodies, Expect, a body that
holds another request, pipelining, HEAD against GET, and the answers libmicrohttpd sends by
itself. And the request counters: procmem_http_requests_total{code} must count exactly the
responses that went out, libmicrohttpd's own included.

Before the fix a request with a body got an empty reply (the answer was queued while the body
was still arriving, which libmicrohttpd refuses, and the connection was dropped) yet was counted
as answered; libmicrohttpd's own 400, 413, 414, 431 and 505 answers were not counted at all.
Now: a request with a body is answered before its body is read (405 for methods other than GET
and HEAD, 400 for GET and HEAD) and its connection closed; without auth and with it.
"""
import base64
import os
import socket
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import Daemon, Test, bcrypt, parse, tempdir  # noqa: E402

t = Test("HTTP: requests with bodies, pipelining, HEAD, libmicrohttpd's own answers, counters")


def send(port, data, timeout=15):
    """Sends data on a fresh connection and reads until the server closes it: (what came
    back, closed); closed is False when the server kept the connection open (timeout)."""
    got = b""
    closed = True
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            pass
    return got, closed


def exchange(port, data, timeout=15):
    """send(), the answer split into responses: ([(status, headers, body)], closed), each body
    read by its Content-Length (none for a HEAD)."""
    got, closed = send(port, data, timeout)
    responses = []
    heads = heads_of(data)
    while got:
        head, sep, rest = got.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError(f"a response without its header block: {got[:80]!r}")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        is_head = len(responses) < len(heads) and heads[len(responses)]
        body_len = 0 if is_head else int(headers.get("content-length", "0"))
        responses.append((status, headers, rest[:body_len]))
        got = rest[body_len:]
    return responses, closed


def heads_of(data):
    """For each request line in data, whether it is a HEAD (its response has no body)."""
    return [ln.startswith(b"HEAD ") for ln in data.split(b"\r\n")
            if ln.split(b" ")[0] in (b"GET", b"HEAD", b"POST", b"PUT")]


def req(method, path="/metrics", headers=(), body=b"", close=False):
    h = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    if close:
        h.append("Connection: close")
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def run(port, tally, auth=None):
    """The cases, against the daemon on port; auth: an Authorization header or None."""
    extra = [f"Authorization: {auth}"] if auth else []

    def case(what, data, want_statuses, want_closed=True):
        try:
            resps, closed = exchange(port, data)
        except ValueError as e:
            t.ok(False, f"{what}: {e}")
            return []
        t.eq([r[0] for r in resps], want_statuses, f"{what}: answered")
        if want_closed is not None:
            t.eq(closed, want_closed, f"{what}: connection {'closed' if want_closed else 'kept'}")
        tally.update(r[0] for r in resps)
        return resps

    # bodies: answered before they are read, then the connection closes
    r = case("POST /metrics with a body", req("POST", headers=extra + ["Content-Length: 1"], body=b"x"), [405])
    if r:
        t.eq(r[0][1].get("allow"), "GET, HEAD", "POST with a body: 405 with Allow")
    case("GET /metrics with a body", req("GET", headers=extra + ["Content-Length: 1"], body=b"x"), [400])
    case("HEAD /metrics with a body", req("HEAD", headers=extra + ["Content-Length: 3"], body=b"abc"), [400])
    case("GET with a chunked body", req("GET", headers=extra + ["Transfer-Encoding: chunked"],
                                        body=b"1\r\nx\r\n0\r\n\r\n"), [400])
    case("GET with an empty chunked body", req("GET", headers=extra + ["Transfer-Encoding: chunked"],
                                               body=b"0\r\n\r\n"), [400])
    case("GET with a Transfer-Encoding libmicrohttpd does not know",
         req("GET", headers=extra + ["Transfer-Encoding: gzip"]), [400])
    case("GET with Content-Length and Transfer-Encoding",
         req("GET", headers=extra + ["Content-Length: 5", "Transfer-Encoding: chunked"], body=b"0\r\n\r\n"), [400])
    # a body that holds a second request: one answer, the second request never seen
    inner = req("GET", "/nope", close=True)
    case("GET whose body is another request",
         req("GET", "/-/healthy", headers=extra + [f"Content-Length: {len(inner)}"], body=inner), [400])
    case("POST whose chunked body is another request",
         req("POST", "/-/healthy", headers=extra + ["Transfer-Encoding: chunked"],
             body=b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"), [405])
    # Expect: 100-continue: the final answer at once, no 100 first
    case("POST with Expect: 100-continue", req("POST", headers=extra + ["Content-Length: 10",
                                                                       "Expect: 100-continue"]), [405])
    # the body's size is never waited for
    case("POST announcing 1 GB", req("POST", headers=extra + ["Content-Length: 1000000000"], body=b"x"), [405])
    case("GET to an unknown path with a body",
         req("GET", "/nope", headers=extra + ["Content-Length: 1"], body=b"x"), [404])

    # no body: answered after the request, on a connection that stays open
    case("POST with Content-Length: 0, then a GET on the same connection",
         req("POST", headers=extra + ["Content-Length: 0"]) + req("GET", "/-/ready", headers=extra, close=True),
         [405, 200])
    case("GET with Content-Length: 000", req("GET", "/-/healthy", headers=extra + ["Content-Length: 000"],
                                             close=True), [200])
    # pipelining: three requests in one packet, three answers in order
    r = case("three pipelined requests",
             req("GET", "/-/healthy", headers=extra) + req("HEAD", headers=extra) +
             req("GET", "/-/ready", headers=extra, close=True), [200, 200, 200])
    if len(r) == 3:
        t.eq((r[0][2], r[2][2]), (b"OK\n", b"Ready\n"), "pipelined: each body in order")
        t.eq(r[1][2], b"", "pipelined HEAD: no body")
    # HEAD and GET: the same headers, no body
    g = case("GET /metrics", req("GET", headers=extra, close=True), [200])
    h = case("HEAD /metrics", req("HEAD", headers=extra, close=True), [200])
    if g and h:
        t.eq(h[0][1].get("content-type"), g[0][1].get("content-type"), "HEAD: the GET's Content-Type")
        t.ok(abs(int(h[0][1]["content-length"]) - len(g[0][2])) < 100,
             "HEAD: a Content-Length within the per-scrape tail of the GET's body")
    # a client that half-closes after its request still gets its answer
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(req("GET", "/-/healthy", headers=extra))
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    t.ok(data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\nOK\n"),
         f"a half-closed connection gets its answer ({data[:20]!r})")
    tally[200] += 1


def own_answers(port, tally):
    """What libmicrohttpd answers by itself (no handler is called): each must be counted."""
    for what, data, want in (
        ("a 40 KiB URL", b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("a 40 KiB header", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 40000 + b"\r\n\r\n", 431),
        ("HTTP/2.0", b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("a header line without a colon", b"GET /metrics HTTP/1.1\r\nHost: x\r\nbogus\r\n\r\n", 400),
        ("a Content-Length of 30 digits", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: "
         + b"9" * 30 + b"\r\n\r\n", 413),
    ):
        got, closed = send(port, data)
        # libmicrohttpd 0.9.75 writes the header block of its 400 and 413 for a bad
        # Content-Length twice (its bug, not ours): only the first status line is looked at
        t.ok(got.startswith(b"HTTP/1.1 %d " % want), f"{what}: libmicrohttpd answers {want} ({got[:40]!r})")
        t.ok(closed, f"{what}: and closes")
        tally[want] += 1


def counters(port, extra):
    resps, _ = exchange(port, req("GET", headers=extra, close=True))
    return {int(l["code"]): int(v) for n, l, v in parse(resps[0][2].decode())
            if n == "procmem_http_requests_total"}


# ---- without auth -----------------------------------------------------------------------------
d = Daemon("--interval", "1h", "--smaps", "off")
port = int(d.addr.rsplit(":", 1)[1])
tally = Counter()
run(port, tally)
own_answers(port, tally)
got = counters(port, [])
t.eq({c: v for c, v in got.items() if v}, dict(tally),
     "procmem_http_requests_total counts exactly the responses sent (this last scrape not yet)")
t.ok({400, 405, 413, 414, 431, 505} <= set(got), "every code libmicrohttpd may send has a counter")
t.eq(d.stop(), 0, "the daemon stops cleanly")

# ---- with basic auth: a body waits neither for the password check nor for itself ------------
users = os.path.join(tempdir(), "users")
with open(users, "w") as f:
    f.write(f"prom:{bcrypt('pw')}\n")
d = Daemon("--interval", "1h", "--smaps", "off", "--basic-auth-file", users)
port = int(d.addr.rsplit(":", 1)[1])
good = "Basic " + base64.b64encode(b"prom:pw").decode()
tally = Counter()
run(port, tally, auth=good)
for what, auth in (("no credentials", None), ("a wrong password", "Basic " + base64.b64encode(b"prom:no").decode())):
    data = req("POST", headers=(["Authorization: " + auth] if auth else []) + ["Content-Length: 1"], body=b"x")
    resps, closed = exchange(port, data)
    t.eq([r[0] for r in resps], [401], f"auth, {what}, with a body: 401")
    t.ok(closed, f"auth, {what}, with a body: connection closed")
    tally.update(r[0] for r in resps)
got = counters(port, ["Authorization: " + good])
t.eq({c: v for c, v in got.items() if v}, dict(tally), "with auth: the counters match too")
t.eq(d.stop(), 0, "the daemon stops cleanly")
t.done()
