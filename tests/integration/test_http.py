#!/usr/bin/env python3
"""The HTTP face of the real daemon on 127.0.0.1: endpoints, status codes, content types, 404
and 405, HEAD, gzip, content negotiation (OpenMetrics for Prometheus's real Accept header,
text otherwise), Vary, promtool on what is served, the request counters against the requests
this test made, a scrape that never touches /proc, a hostile comm escaped into valid UTF-8, and
a web configuration's headers on the pages beside the pages' own (nosniff sent once).

The daemon runs one cycle and then sleeps for an hour, so every scrape here serves the same
snapshot: bodies must be identical apart from the per-scrape tail.
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import Helpers, expected_comm  # noqa: E402
from procmem import (Daemon, Test, families, once, parse, promtool_check, sample_value,  # noqa: E402
                     spawn, tempdir)

t = Test("HTTP: endpoints, negotiation, gzip, HEAD, counters, escaping")

TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

# A helper named with every byte a label value must escape or repair: '"', '\', a newline, a
# byte that is never UTF-8, a good two-byte character, and a three-byte one the kernel cuts
# after its second byte (comm keeps 15 bytes).
h = Helpers()
HOSTILE = h.prefix + b'"\\\n\xff\xc3\xa9\xe2\x82\xac'
assert len(HOSTILE) == 16
hostile = h.start("hostile", comm=HOSTILE)

daemon = Daemon("--interval", "1h", "--smaps", "full", "--top", "0", "--detail-top", "0", "--smaps-budget", "0")
HOST, PORT = daemon.addr.rsplit(":", 1)
tally = Counter()  # status code -> requests this test made


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name)


def request(method, path, headers=None):
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        resp = Resp(r.status, r.headers, r.read())
    finally:
        c.close()
    tally[resp.status] += 1
    return resp


def raw_request(text):
    """Sends one request as raw bytes and reads until the server closes: (status, headers,
    everything after the header block)."""
    with socket.create_connection((HOST, int(PORT)), timeout=30) as s:
        s.sendall(text.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    tally[status] += 1
    return status, headers, rest


TAIL_MARK = "# HELP procmem_http_requests"


def split_tail(text):
    """(snapshot part, per-scrape tail) of an exposition."""
    i = text.index(TAIL_MARK)
    return text[:i], text[i:]


def tail_shape(tail):
    return re.sub(r"^([^#].*) \S+$", r"\1 V", tail, flags=re.M)


def tail_value(tail, name):
    m = re.search(rf"^{re.escape(name)} (\S+)$", tail, flags=re.M)
    return m.group(1)


# ---- the endpoints -------------------------------------------------------------------------

r = request("GET", "/metrics")
t.eq(r.status, 200, "GET /metrics: 200")
t.eq(r.header("Content-Type"), TEXT_TYPE, "GET /metrics: text format 0.0.4 by default")
t.eq(r.header("Content-Encoding"), None, "GET /metrics: not compressed unless asked")
vary = {v.strip().lower() for v in (r.header("Vary") or "").split(",")}
t.ok({"accept", "accept-encoding"} <= vary, f"GET /metrics: Vary names Accept and Accept-Encoding ({vary})")
plain = r.body.decode("utf-8")  # strict: the body is valid UTF-8
plain_head, plain_tail = split_tail(plain)

r = request("GET", "/")
t.eq(r.status, 200, "GET /: 200")
t.eq(r.header("Content-Type"), "text/html; charset=utf-8", "GET /: HTML")
t.ok(b'href="/metrics"' in r.body, "GET /: links to /metrics")
t.ok("default-src 'none'" in (r.header("Content-Security-Policy") or ""), "GET /: a Content-Security-Policy")
r = request("GET", "/top")
t.eq((r.status, r.header("Content-Type")), (200, "text/plain; charset=utf-8"), "GET /top: 200, text")
t.ok(re.search(rb"\n *PID User +Command", r.body), "GET /top: the table's heading")
for path, body in (("/-/healthy", b"OK\n"), ("/-/ready", b"Ready\n")):
    r = request("GET", path)
    t.eq((r.status, r.header("Content-Type"), r.body), (200, "text/plain; charset=utf-8", body),
         f"GET {path}: 200, text")

for path in ("/nope", "/metrics/", "/metricsx", "/-/", "/-/reload", "/favicon.ico",
             "/debug/pprof/", "//metrics", "/metrics%00.css", "/metrics%00", "/-/healthy%00x"):
    r = request("GET", path)
    t.eq(r.status, 404, f"GET {path}: 404")

for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
    for path in ("/metrics", "/", "/top", "/-/healthy", "/-/ready"):
        r = request(method, path)
        t.eq((r.status, r.header("Allow")), (405, "GET, HEAD"), f"{method} {path}: 405 with Allow")
r = request("POST", "/nope")
t.eq(r.status, 404, "POST to an unknown path: 404")

# ---- HEAD ------------------------------------------------------------------------------------

before = request("GET", "/metrics").body.decode()
counts_at_head = dict(tally)  # a response is counted once sent: the HEAD is not in its own tail
status, hdrs, rest = raw_request("HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
after = request("GET", "/metrics").body.decode()
t.eq(status, 200, "HEAD /metrics: 200")
t.eq(rest, b"", "HEAD /metrics: no body on the wire")
t.eq(hdrs.get("content-type"), TEXT_TYPE, "HEAD /metrics: the GET's Content-Type")
if t.ok("content-length" in hdrs, "HEAD /metrics: Content-Length reported"):
    # The HEAD's body would have been the snapshot part and a tail with the request counters
    # known here and a CPU time between the two GETs' (its digit count unknown within that).
    _, tail = split_tail(before)
    tail = re.sub(r'^(procmem_http_requests_total\{code="(\d+)"\}) \d+$',
                  lambda m: f"{m.group(1)} {counts_at_head.get(int(m.group(2)), 0)}", tail, flags=re.M)
    tail = re.sub(r"^(process_cpu_seconds_total) \S+$", r"\1 ", tail, flags=re.M)
    cpu_len = int(hdrs["content-length"]) - len((split_tail(before)[0] + tail).encode())
    lo = len(tail_value(split_tail(before)[1], "process_cpu_seconds_total").split(".")[0])
    hi = len(tail_value(split_tail(after)[1], "process_cpu_seconds_total").split(".")[0]) + 7
    t.ok(lo <= cpu_len <= hi, f"HEAD /metrics: Content-Length is the GET body's length "
                              f"(CPU time field {cpu_len} bytes, {lo}..{hi} possible)")

# ---- one snapshot, many scrapes ----------------------------------------------------------------

t.eq(split_tail(before)[0], plain_head, "two scrapes in one cycle: identical but for the tail")
t.eq(tail_shape(split_tail(before)[1]), tail_shape(plain_tail), "... and the tail's lines are the same")

# ---- gzip --------------------------------------------------------------------------------------


def gunzip_one_member(data):
    d = zlib.decompressobj(wbits=31)
    out = d.decompress(data)
    return out, d.eof and d.unused_data == b""


r = request("GET", "/metrics", {"Accept-Encoding": "gzip"})
t.eq((r.status, r.header("Content-Encoding"), r.header("Content-Type")), (200, "gzip", TEXT_TYPE),
     "Accept-Encoding: gzip: gzip, same Content-Type")
t.ok("accept-encoding" in (r.header("Vary") or "").lower(), "gzip: Vary: Accept-Encoding")
text, whole = gunzip_one_member(r.body)
t.ok(whole, "gzip: one complete gzip member, nothing after it")
text = text.decode("utf-8")
t.eq(split_tail(text)[0], plain_head, "gzip: decompresses to the plain exposition ...")
t.eq(tail_shape(split_tail(text)[1]), tail_shape(plain_tail), "... but for the tail's values")
for enc, want in (("gzip;q=0", None), ("deflate, br", None), ("identity", None), ("*", "gzip"),
                  ("br;q=1.0, gzip;q=0.5", "gzip"), ("x-gzip", "gzip")):
    r = request("GET", "/metrics", {"Accept-Encoding": enc})
    t.eq(r.header("Content-Encoding"), want, f"Accept-Encoding: {enc}: Content-Encoding {want}")

# ---- content negotiation -------------------------------------------------------------------------


def sample_lines(text):
    return [ln for ln in text.split("\n") if ln and not ln.startswith("#")]


def check_openmetrics(body, what):
    text = body.decode("utf-8")
    t.ok(text.endswith("\n# EOF\n"), f"{what}: ends with # EOF")
    comments = [ln for ln in text.split("\n") if ln.startswith("#")]
    t.eq([ln for ln in comments if not re.match(r"# (HELP|TYPE|UNIT) \S+ ", ln) and ln != "# EOF"], [],
         f"{what}: no comment lines but metadata and # EOF")
    t.eq(comments.count("# EOF"), 1, f"{what}: one # EOF")
    fams = families(text)
    counters = sorted(f for f, m in fams.items() if m.get("type") == "counter")
    t.ok(len(counters) >= 3, f"{what}: counter families present ({counters})")
    t.eq([f for f in counters if f.endswith("_total")], [], f"{what}: counters TYPEd without _total")
    names = {re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", ln).group(0) for ln in sample_lines(text)}
    t.eq([f for f in counters if f + "_total" not in names or f in names], [],
         f"{what}: counter samples carry _total")
    t.eq(sorted(f for f, m in fams.items() if m.get("type") == "info"), ["procmem_exporter_build", "procmem_process"],
         f"{what}: info families")
    # the same samples as the text format
    t.eq(sample_lines(split_tail(text)[0]), sample_lines(plain_head), f"{what}: the text format's samples")
    return text


for accept in ("application/openmetrics-text; version=1.0.0", PROMETHEUS_ACCEPT,
               "application/openmetrics-text", "text/plain;q=0.5, application/openmetrics-text;q=0.9"):
    r = request("GET", "/metrics", {"Accept": accept})
    t.eq((r.status, r.header("Content-Type")), (200, OM_TYPE), f"Accept: {accept}: OpenMetrics")
    check_openmetrics(r.body, f"Accept: {accept}")
r = request("GET", "/metrics", {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"})
t.eq((r.header("Content-Type"), r.header("Content-Encoding")), (OM_TYPE, "gzip"), "OpenMetrics, gzipped")
body, whole = gunzip_one_member(r.body)
t.ok(whole, "OpenMetrics, gzipped: one complete member")
check_openmetrics(body, "OpenMetrics, gzipped")

for accept in ("*/*", "text/plain", "text/plain; version=0.0.4",
               "application/openmetrics-text;q=0.5,text/plain;q=0.9",
               "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5",
               "application/json", "text/*"):
    r = request("GET", "/metrics", {"Accept": accept})
    t.eq((r.status, r.header("Content-Type")), (200, TEXT_TYPE), f"Accept: {accept}: text format")
    t.eq(split_tail(r.body.decode())[0], plain_head, f"Accept: {accept}: the same exposition")

# ---- promtool ------------------------------------------------------------------------------------

rc, out = promtool_check(plain)
t.eq((rc, out), (0, ""), "promtool check metrics on the served text: nothing to report")

# ---- the hostile comm ------------------------------------------------------------------------------

want_comm = expected_comm(HOSTILE)
t.eq(want_comm, h.prefix.decode() + '"\\\n\ufffd\u00e9\ufffd', "the expected label (first principles)")
escaped = want_comm.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
line = f'procmem_process_info{{pid="{hostile.pid}",comm="{escaped}",'
t.ok(line in plain, f"hostile comm: escaped in the text format as {escaped!r}")
samples = parse(plain)
t.eq({l["comm"] for n, l, _ in samples if l.get("pid") == str(hostile.pid)}, {want_comm},
     "hostile comm: parses back to the kernel's bytes, invalid ones as U+FFFD")
t.eq(sample_value(samples, "procmem_process_resident_bytes", pid=str(hostile.pid)) is not None, True,
     "hostile comm: the process is exported")
r = request("GET", "/metrics", {"Accept": PROMETHEUS_ACCEPT})
t.ok(line.encode() in r.body, "hostile comm: escaped the same way in OpenMetrics")
# --include matches the raw comm: '.' takes the newline and the bytes that are not UTF-8
text = once("--smaps", "off", "--top", "0", "--detail-top", "0", "--include", h.include_regex())
t.eq({l["pid"] for n, l, _ in parse(text) if n == "procmem_process_info"}, {str(hostile.pid)},
     "hostile comm: --include PREFIX.* selects it (and only it)")

# ---- a scrape never reads /proc --------------------------------------------------------------------

trace = os.path.join(tempdir(), "strace.out")
st = spawn(["strace", "-f", "-p", str(daemon.pid), "-e", "trace=%file,%network", "-o", trace],
           stderr=subprocess.PIPE)
attached = st.stderr.readline().decode()
if t.ok("attached" in attached, f"strace attached to the daemon ({attached.strip()})"):
    request("GET", "/metrics")
    request("GET", "/metrics", {"Accept-Encoding": "gzip"})
    request("GET", "/metrics", {"Accept": PROMETHEUS_ACCEPT})
    raw_request("HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    request("GET", "/-/healthy")
    request("GET", "/nope")
    time.sleep(0.2)  # let strace write out the last lines (not a timed assertion)
    st.send_signal(signal.SIGINT)
    st.wait(timeout=30)
    with open(trace) as f:
        calls = f.read()
    t.ok(re.search(r"\baccept4?\(", calls) is not None, "strace saw the daemon accept the scrapes")
    t.eq([ln for ln in calls.split("\n") if "/proc" in ln], [], "no /proc file touched while serving scrapes")

# ---- the request counters ---------------------------------------------------------------------------

t.eq(daemon.proc.poll(), None, "the daemon is still running")
made = dict(tally)
final = request("GET", "/metrics").body.decode()  # counted once sent: not in its own tail
exported = {l["code"]: int(v) for n, l, v in parse(final) if n == "procmem_http_requests_total"}
t.eq({int(c): v for c, v in exported.items() if v or made.get(int(c))}, made,
     "procmem_http_requests_total{code} counts exactly the requests this test made")
t.ok({200, 404, 405} <= set(tally), f"requests of each kind were made ({dict(tally)})")

t.eq(daemon.stop(), 0, "the daemon stops cleanly on SIGTERM")

# ---- the web configuration's headers on the pages ---------------------------------------------
# The page sends its own nosniff and Content-Security-Policy; the operator's nosniff is not sent
# a second time, the operator's policy goes beside the page's (a browser enforces both).
web = os.path.join(tempdir(), "web.yml")
with open(web, "w") as f:
    f.write("http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n"
            "    Content-Security-Policy: frame-ancestors 'none'\n")
daemon = Daemon("--interval", "1h", "--smaps", "off", "--web.config.file", web)
for path in ("/", "/top", "/metrics"):
    r = daemon.get(path)
    t.eq((r.status, r.headers.get_all("X-Content-Type-Options")), (200, ["nosniff"]),
         f"web configuration with nosniff, GET {path}: 200, nosniff once")
    policies = r.headers.get_all("Content-Security-Policy") or []
    t.ok("frame-ancestors 'none'" in policies and (path != "/" or any("default-src 'none'" in p for p in policies)),
         f"GET {path}: the operator's Content-Security-Policy{', beside the page' + chr(39) + 's' if path == '/' else ''}"
         f" ({policies})")
t.eq(daemon.stop(), 0, "that daemon stops cleanly too")
t.done()
