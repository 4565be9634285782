#!/usr/bin/env python3
"""The landing page as a person sees it: Debian's headless Chromium loads / from the real daemon;
the DOM it built must list the live helper processes (started with known layouts, stopped) with
the figures the kernel gives for them in smaps_rollup, status and smaps; a hostile comm must be
text, not markup; the page must run no script and load nothing (its CSP would refuse it, and
Chromium would say so on its console); and the screenshot must show the bars in the page's own
colours, which only the one <style> the CSP allows by digest can give them.

The screenshot is kept in build/test-logs/landing_page.png (not in the repository) for a person
to look at.
"""
import hashlib
import html.parser
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (MIB, QUADRANTS, Helpers, kernel_view, make_file, quadrant_sums,  # noqa: E402
                     user_name)
from procmem import ROOT, Daemon, Test, http_get, skip, tempdir  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
if not os.access(CHROMIUM, os.X_OK):
    skip("no /usr/bin/chromium (Debian package chromium, in tools/deps.sh test)")

t = Test("the landing page in headless Chromium: the live helpers with the kernel's figures")


def chromium(*args, timeout=180):
    """Runs headless Chromium with a fresh profile; returns (exit code, stdout, stderr). Its
    process group is killed afterwards, by id, whatever happened."""
    profile = tempdir()
    p = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking", "--disable-component-update",
                          "--disable-sync", "--no-first-run", "--disable-extensions",
                          "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                         # its crash handler writes under $XDG_CONFIG_HOME whatever the profile
                         env=dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile))
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = b"", b"timed out"
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    return p.returncode, out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace")


class Page(html.parser.HTMLParser):
    """The rows of table.procs: [{"cells": [text...], "data": [value or None per cell],
    "rects": [(class, x, width)]}], and every tag name seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.tags, self.styles = [], set(), []
        self.in_procs = self.in_style = False
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "style":
            self.in_style = True
            self.styles.append("")
        if tag == "table":
            self.in_procs = a.get("class") == "procs"
        if not self.in_procs:
            return
        if tag == "tr":
            self.rows.append({"cells": [], "data": [], "rects": []})
        elif tag in ("td", "th") and self.rows:
            self.rows[-1]["cells"].append("")
            self.rows[-1]["data"].append(None)
        elif tag == "data":
            self.rows[-1]["data"][-1] = int(a["value"])
        elif tag == "rect":
            self.rows[-1]["rects"].append((a["class"], int(a["x"]), int(a["width"])))

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_procs = False
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.styles[-1] += data
        elif self.in_procs and self.rows and self.rows[-1]["cells"] and not data.isspace():
            self.rows[-1]["cells"][-1] += data


# ---- the helpers: large enough to rank among the machine's top 20 by PSS --------------------

h = Helpers()
d = tempdir()
shared_file = make_file(os.path.join(d, "shared.bin"), 64 * MIB)
private_file = make_file(os.path.join(d, "private.bin"), 96 * MIB)
# a comm of markup, a quote, an ampersand and a byte that is not UTF-8 (15 bytes in all)
HOSTILE = h.prefix + b"<b>&\"\xff"
helpers = [
    h.start("big", "--private-anon", "700:700", "--file-private", private_file),
    h.start("shm", "--shared-anon", "500", "--file-shared-write", shared_file),
    h.start("evil", "--private-anon", "600:600", comm=HOSTILE),
]
kernel = {p.pid: kernel_view(p.pid) for p in helpers}

started = time.time()
# --smaps-budget 0: every process read in full every cycle; with the default budget (a third of
# the interval) a loaded machine makes the daemon skip some smaps, and a skipped helper would
# rightly show no PSS
with Daemon("--interval", "1", "--smaps-budget", "0") as daemon:
    daemon.wait_cycles(2)
    r = http_get(daemon.url("/"))
    t.eq(r.status, 200, "GET / answers 200")
    csp = r.headers.get("Content-Security-Policy") or ""
    rc, dom, err = chromium("--dump-dom", daemon.url("/"))
    t.eq(rc, 0, f"chromium --dump-dom exits 0 ({err[-300:]})")
    shot = os.path.join(ROOT, "build", "test-logs", "landing_page.png")
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    if os.path.exists(shot):
        os.unlink(shot)
    rc2, _, err2 = chromium("--window-size=1200,1100", f"--screenshot={shot}", daemon.url("/"))
    t.eq(rc2, 0, f"chromium --screenshot exits 0 ({err2[-300:]})")
after = {p.pid: kernel_view(p.pid) for p in helpers}
t.eq({pid: (k["rollup"], k["status"]) for pid, k in after.items()},
     {pid: (k["rollup"], k["status"]) for pid, k in kernel.items()},
     "the stopped helpers' figures did not move while the page was made")

# ---- what Chromium built ---------------------------------------------------------------------

page = Page()
page.feed(dom)
t.ok(len(page.rows) >= 2, f"the DOM has the process table ({len(page.rows)} rows)")
head = page.rows[0]["cells"] if page.rows else []
t.eq(head, ["PID", "Command", "User", "Unit", "PSS", "USS", "RSS", "Swap", "Quadrants (PSS)"],
     "the table's columns")
rows = {int(r["cells"][0]): r for r in page.rows[1:] if r["cells"] and r["cells"][0].isdigit()}
# the page ranks every process the cycle read, 20 at most; a small machine (CI's container) may
# have fewer than 20, and the page's own status line says how many that cycle read
m = re.search(r"read (\d+) processes", dom)
if t.ok(m is not None, "the page says how many processes the cycle read"):
    t.eq(len(page.rows) - 1, min(20, int(m.group(1))),
         f"min(20, {m.group(1)} read) processes listed")
t.ok("script" not in page.tags and "img" not in page.tags and "b" not in page.tags,
     f"no script, image or <b> element in the DOM: the hostile comm stayed text ({sorted(page.tags)})")

for p in helpers:
    k = kernel[p.pid]
    row = rows.get(p.pid)
    if not t.ok(row is not None, f"pid {p.pid} ({p.name}) is in the table"):
        continue
    ru, st = k["rollup"], k["status"]
    comm = p.comm_arg[:15].decode("utf-8", errors="replace")
    t.eq(row["cells"][1:4], [comm, user_name(st["ruid"]), k["unit"]],
         f"{p.name}: comm, user and unit as the kernel names them")
    t.eq(row["data"][4:8], [ru["Pss"], ru["Private_Clean"] + ru["Private_Dirty"], st["VmRSS"], st["VmSwap"]],
         f"{p.name}: PSS, USS, RSS and swap equal smaps_rollup's and status's")
    # the bar: each quadrant's PSS share of 1000, as cumulative sums of the kernel's smaps
    sums = quadrant_sums(k["smaps"])
    pss = [sums[q]["Pss"] for q in QUADRANTS]
    total, before, want = sum(pss), 0, []
    for cls, v in zip(("pa", "pf", "sa", "sf"), pss):
        x = before * 1000 // total
        before += v
        if before * 1000 // total > x:
            want.append((cls, x, before * 1000 // total - x))
    t.eq(row["rects"], want, f"{p.name}: the quadrant bar splits its PSS as its smaps does")

# the helpers in the order of their PSS, among the others
order = [pid for pid in rows if pid in kernel]
t.eq(order, sorted(kernel, key=lambda pid: (-kernel[pid]["rollup"]["Pss"], pid)),
     "the helpers are listed by PSS, most first")

m = re.search(r'<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)">', dom)
t.ok(m is not None, "the cycle's time is on the page")
if m:
    stamp = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    t.ok(started - 2 <= stamp <= time.time() + 1, f"the cycle's time {m.group(1)} is this test's")
t.ok(re.search(r'<span class="age">\d+ s ago</span>', dom), "its age in seconds")
for link in ("/metrics", "/top", "/-/healthy", "/-/ready"):
    t.ok(f'href="{link}"' in dom, f"the page links to {link}")

# ---- nothing but the page's own style --------------------------------------------------------

t.ok(csp.startswith("default-src 'none'; ") and "unsafe" not in csp, f"a strict CSP: {csp}")
t.eq(len(page.styles), 1, "one <style> element")
if page.styles:
    digest = hashlib.sha256(page.styles[0].encode()).digest()
    import base64
    t.ok(f"'sha256-{base64.b64encode(digest).decode()}'" in csp, "the CSP allows that style by its digest")
t.eq([l for l in err.splitlines() if "Content Security Policy" in l or "Refused" in l], [],
     "Chromium reports no CSP violation")


def png_pixels(path):
    """The RGB(A) rows of a PNG (8-bit, colour types 2 and 6, as Chromium writes them)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    i, idat, w = 8, b"", 0
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if kind == b"IHDR":
            w, hgt, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError(f"PNG depth {depth} colour type {ctype}")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    raw, rows, prev = zlib.decompress(idat), [], bytearray(w * bpp)
    stride = w * bpp
    for y in range(hgt):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return [{tuple(r[x:x + 3]) for x in range(0, stride, bpp)} for r in rows]


if os.path.exists(shot):
    colours = set().union(*png_pixels(shot))
    for name, rgb in (("private anonymous", (0xE6, 0x9F, 0x00)), ("private file", (0x56, 0xB4, 0xE9)),
                      ("shared anonymous", (0x00, 0x9E, 0x73)), ("shared file", (0xCC, 0x79, 0xA7))):
        t.ok(rgb in colours, f"the screenshot shows {name} in its colour #{bytes(rgb).hex()}")
else:
    t.ok(False, "chromium wrote the screenshot")
t.done()
