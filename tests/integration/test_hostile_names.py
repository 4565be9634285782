#!/usr/bin/env python3
"""Hostile names end to end, beyond what test_http.py (a hostile comm) and test_live_issue5.py
(a mapped file name with quotes, a backslash, a newline and a byte that is never UTF-8) cover:

  - a comm that imitates the rest of /proc/PID/stat ("x) Z 1 2 (" ...): state, ppid and start
    time must still come from the real fields after the last ')';
  - an executable and a mapped file under a path of about 4 KiB whose components hold quotes,
    backslashes, newlines, bytes that are never UTF-8 and a UTF-8 character cut in half;
  - that executable deleted while it runs (the exe label ends in " (deleted)"), and a mapped file
    deleted while mapped (smaps names it "... (deleted)"; still a file: private/file quadrant);
  - processes started before and after them, read in the same cycle, exported exactly.

Each stopped helper's every figure must equal /proc of the same process; labels must be the
kernel's bytes as valid UTF-8 (each maximal ill-formed subpart replaced by U+FFFD), escaped;
the text and OpenMetrics bodies must be valid UTF-8; promtool must have nothing to say; the
cycle must count no parse error.
"""
import os
import select
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (MEMLAYOUT, MIB, Helpers, compare_series, expected_series,  # noqa: E402
                     exported_series, kernel_view, make_file, read_stat)
from procmem import Daemon, Test, parse, promtool_check, sample_value, spawn, stop_process, tempdir  # noqa: E402

t = Test("hostile names: stat-like comm, 4 KiB paths, (deleted) files and executables")

h = Helpers()
before = h.start("before", "--private-anon", "4:2")

# a directory path of about 3.9 KiB made of hostile components (each at most 255 bytes)
COMPONENT = b'q"\\ \n\xff\xc3 x) (deleted) ' * 9  # 198 bytes
base = os.fsencode(tempdir())
long_dir = base
while len(long_dir) + len(COMPONENT) + 1 < 3960:
    long_dir = os.path.join(long_dir, COMPONENT)
long_dir = os.path.join(long_dir, COMPONENT[:3968 - len(long_dir) - 1])  # 3968 bytes
os.makedirs(long_dir)
exe_kept = os.path.join(long_dir, b'exe "kept"\n\xfe')
exe_gone = os.path.join(long_dir, b"exe gone\\\xe2\x82")
mapped_kept = os.path.join(long_dir, b'map "kept" \n\x80.bin')
mapped_gone = os.path.join(long_dir, b"map gone \xf0\x9f.bin")
for p in (exe_kept, exe_gone, mapped_kept, mapped_gone):
    t.ok(3900 <= len(p) < 4096, f"a path of {len(p)} bytes")
for exe in (exe_kept, exe_gone):
    shutil.copy(MEMLAYOUT, exe)
make_file(mapped_kept, MIB)
make_file(mapped_gone, MIB)


def start(exe, comm, *layout):
    p = spawn([exe, *layout, "--comm", comm], stdout=subprocess.PIPE)
    ready, _, _ = select.select([p.stdout], [], [], 60)
    if not ready or p.stdout.readline() != b"ready\n":
        t.fatal(f"{exe!r} did not get ready")
    return p


# comm looks like the end of a stat line: a parser that looks for the first ')' is misled
STAT_COMM = b"x) Z 1 2 (\"\\\n\xff"
kept = start(exe_kept, STAT_COMM, "--file-private", mapped_kept)
gone = start(exe_gone, h.prefix + b"gone", "--file-private", mapped_kept, "--file-private", mapped_gone)
os.unlink(exe_gone)
os.unlink(mapped_gone)
stop_process(kept.pid)
stop_process(gone.pid)
after = h.start("after", "--shared-anon", "2")
procs = {"before": before, "kept": kept, "gone": gone, "after": after}
k = {n: kernel_view(p.pid) for n, p in procs.items()}


def label(raw):
    """A label value from the kernel's bytes: valid UTF-8, ill-formed subparts as U+FFFD."""
    return raw.decode("utf-8", errors="replace")


for n in ("kept", "gone"):
    k[n]["exe"] = label(os.readlink(os.fsencode(f"/proc/{procs[n].pid}/exe")))
t.eq(k["kept"]["exe"], label(exe_kept), "kept: the kernel names the executable by its long path")
t.eq(k["gone"]["exe"], label(exe_gone) + " (deleted)", "gone: the kernel marks its executable deleted")
t.eq(read_stat(kept.pid)["comm"], STAT_COMM[:15], "kept: comm holds the stat-like bytes")

# one cycle, then the daemon serves it for the rest of the test
d = Daemon("--interval", "1h", "--smaps", "full", "--smaps-budget", "0", "--top", "0", "--detail-top", "0",
           "--mapping-top", "100000")
body = d.get("/metrics").body
om = d.get("/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"}).body
t.eq(d.stop(), 0, "the daemon stops cleanly")
try:
    text = body.decode("utf-8")
    om.decode("utf-8")
    t.ok(True, "text and OpenMetrics bodies are valid UTF-8")
except UnicodeDecodeError as e:
    t.fatal(f"a body is not valid UTF-8: {e}")
t.eq(promtool_check(text), (0, ""), "promtool check metrics: nothing to report")
t.ok(om.endswith(b"\n# EOF\n"), "the OpenMetrics body is whole")
s = parse(text)
t.eq(sample_value(s, "procmem_collect_errors_total", reason="parse"), 0, "no parse error in the cycle")

for n, p in procs.items():
    got, comms = exported_series(s, p.pid)
    compare_series(t, got, expected_series(k[n], "full"), n)
    t.eq(comms, {label(k[n]["stat"]["comm"])}, f"{n}: its comm label")
want_line = ('procmem_process_info{pid="%d",comm="x) Z 1 2 (\\"\\\\\\n\ufffd",' % kept.pid)
t.ok(want_line in text, f"kept: comm escaped in the text format: {want_line!r}")

# mapped files: the kernel prints a newline in a path as \012 (and nothing else escaped), and
# appends " (deleted)"; the label is the name, the escape undone, as exe's label has it
paths = {l["path"]: int(v) for n, l, v in s if n == "procmem_mapping_resident_bytes"}
for raw, mappers, what in ((mapped_kept, ("kept", "gone"), "the long mapped file"),
                           (mapped_gone + b" (deleted)", ("gone",), "the deleted mapped file")):
    shown = raw.replace(b"\n", b"\\012")
    ms = [m for n in mappers for m in k[n]["smaps"] if m["path"] == shown]
    t.eq(len(ms), len(mappers), f"{what}: smaps shows it under {len(shown)} bytes of name")
    t.eq(paths.get(label(raw)), sum(m["fields"]["Rss"] for m in ms),
         f"{what}: exported under its name, its Rss summed")
# kept's executable has a newline in its name: its exe label and its mapping's path label are
# the same string, so the two join
t.ok("\n" in k["kept"]["exe"] and k["kept"]["exe"] in paths,
     "kept: the exe label is also a path label of procmem_mapping_resident_bytes")
t.done()
