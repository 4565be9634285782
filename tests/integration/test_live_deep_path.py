#!/usr/bin/env python3
"""Live: a mapped file 540 directories deep. The kernel prints a mapping's path whole in smaps,
not cut at PATH_MAX, so its header line is over 135 KiB long. Before the fix that one line made
the process a `parse` error that cost it its PSS, USS and quadrants.

Any user can build this: the tree is made with directory descriptors (openat), so no call ever
passes the long path, and the helper opens the file through /proc/self/fd. The stopped
helper's every figure must equal the kernel's, no parse error may be counted, and the file
must appear among the top mapped files under its first 4,096 bytes followed by " (cut)", with
its Rss. A helper started after it is read as well.
"""
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (MEMLAYOUT, MIB, Helpers, compare_series, expected_series,  # noqa: E402
                     exported_series, kernel_view)
from procmem import (Test, once, parse, promtool_check, sample_value, spawn,  # noqa: E402
                     stop_process, tempdir)

t = Test("live: a mapped file whose path makes a 135 KiB smaps line")

COMPONENT = "d" * 250
DEPTH = 540
base = tempdir()
fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
for _ in range(DEPTH):
    os.mkdir(COMPONENT, dir_fd=fd)
    nfd = os.open(COMPONENT, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
ffd = os.open("deep.bin", os.O_RDWR | os.O_CREAT, 0o644, dir_fd=fd)
os.write(ffd, b"\x5a" * MIB)
os.close(fd)
path = os.path.join(base, *([COMPONENT] * DEPTH), "deep.bin")
t.ok(len(path) > 128 * 1024, f"the file's path is {len(path)} bytes")

h = Helpers()
deep = spawn([MEMLAYOUT, "--file-private", f"/proc/self/fd/{ffd}", "--comm", h.prefix + b"deep"],
             stdout=subprocess.PIPE, pass_fds=(ffd,))
ready, _, _ = select.select([deep.stdout], [], [], 60)
if not ready or deep.stdout.readline() != b"ready\n":
    t.fatal("the helper did not get ready")
os.close(ffd)
stop_process(deep.pid)
after = h.start("after", "--private-anon", "4:4")

k = {"deep": kernel_view(deep.pid), "after": kernel_view(after.pid)}
mine = [m for m in k["deep"]["smaps"] if m["path"] == os.fsencode(path)]
t.eq(len(mine), 1, "smaps shows the mapping under its whole path")
with open(f"/proc/{deep.pid}/smaps", "rb") as f:
    longest = max(len(line) for line in f)
t.ok(longest > 128 * 1024, f"its smaps holds a line of {longest} bytes")

text = once("--smaps", "full", "--top", "0", "--detail-top", "0", "--smaps-budget", "0", "--include", h.include_regex(),
            "--mapping-top", "100000")
t.eq(promtool_check(text), (0, ""), "promtool check metrics: nothing to report")
# every file mapped on the machine is a top mapped file here: keep only ours to parse
s = parse("\n".join(ln for ln in text.split("\n")
                     if not ln.startswith("procmem_mapping_") or COMPONENT in ln))
t.eq(sample_value(s, "procmem_collect_errors_total", reason="parse"), 0, "no parse error")
for n, p in (("deep", deep), ("after", after)):
    got, _ = exported_series(s, p.pid)
    compare_series(t, got, expected_series(k[n], "full"), n)
label = path[:4096] + " (cut)"
t.eq(sample_value(s, "procmem_mapping_resident_bytes", path=label), mine[0]["fields"]["Rss"] if mine else None,
     "the file is a top mapped file under its first 4,096 bytes and \" (cut)\", with its Rss")
t.done()
