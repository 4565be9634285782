#!/usr/bin/env python3
"""SIGTERM in the middle of a long smaps read stops the daemon after that read, not after the
file: the collector checks the stop flag between reads of a process's smaps, not only between
processes.

Four stopped memlayout helpers of 60,000 mappings each (about 43 MB of smaps text apiece). The
daemon runs 1-second cycles over them; the test watches its descriptors until one is a helper's
smaps, stops the daemon there with SIGSTOP, checks that less than half of that file has been read
(fdinfo's pos), attaches strace to the collecting thread, sends SIGTERM and SIGCONT, and counts
the daemon's read() calls on that descriptor after the signal. Before the fix the collector read
the rest of the file (some 12,000 reads: the kernel hands smaps out a few KiB at a time) before it
looked at the flag; now at most the read under way when the signal came may finish. Nothing here
is timed: strace counts the reads.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import Helpers  # noqa: E402
from procmem import Daemon, Test, spawn, stop_process, tempdir  # noqa: E402

t = Test("SIGTERM during a long smaps read: the daemon stops after the read under way")

MAPPINGS = 60000
with open("/proc/sys/vm/max_map_count") as f:
    if int(f.read()) < MAPPINGS + 100:
        t.fatal(f"vm.max_map_count is too low for {MAPPINGS} mappings")

h = Helpers()
helpers = [h.start(f"big{i}", "--alternate-anon", str(MAPPINGS)) for i in range(4)]
smaps_of = {f"/proc/{p.pid}/smaps": p.pid for p in helpers}
size = {}
for path in smaps_of:
    with open(path, "rb") as f:
        size[path] = len(f.read())
    t.ok(size[path] > 200 * 65536, f"{path}: {size[path]} bytes, hundreds of 64 KiB reads")

# --smaps-max-age 1s: stopped helpers would otherwise be read in full once and then carried
d = Daemon("--interval", "1", "--smaps", "full", "--smaps-budget", "0", "--smaps-max-rss", "0",
           "--smaps-max-age", "1s",
           "--top", "0", "--detail-top", "0")


def smaps_fd(pid):
    """(fd, path) of the helper smaps pid has open, or None."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target in smaps_of:
            return int(fd), target
    return None


def pos_of(pid, fd):
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        return int(re.search(r"^pos:\s+(\d+)", f.read(), re.M).group(1))


# catch the collector early in a helper's smaps, and hold it there
caught = None
deadline = time.monotonic() + 120
while caught is None and time.monotonic() < deadline:
    if not smaps_fd(d.pid):
        time.sleep(0.001)
        continue
    stop_process(d.pid)
    found = smaps_fd(d.pid)
    if found and pos_of(d.pid, found[0]) < size[found[1]] // 2:
        caught = found
    else:
        os.kill(d.pid, signal.SIGCONT)
if caught is None:
    t.fatal("the daemon was never seen in the first half of a helper's smaps")
fd, path = caught
read_before = pos_of(d.pid, fd)
t.ok(True, f"the daemon was stopped {read_before} bytes into {path} ({size[path]} bytes)")

log = os.path.join(tempdir(), "strace.out")
st = spawn(["strace", "-p", str(d.pid), "-e", "trace=read", "-e", "signal=SIGTERM", "-o", log],
           stderr=subprocess.PIPE)
attached = st.stderr.readline().decode()
if not t.ok("attached" in attached, f"strace attached to the daemon ({attached.strip()})"):
    t.fatal("cannot go on without strace")
os.kill(d.pid, signal.SIGTERM)
os.kill(d.pid, signal.SIGCONT)
t.eq(d.stop(timeout=120), 0, "the daemon exits 0 after SIGTERM")
st.wait(timeout=60)

with open(log) as f:
    lines = f.read().splitlines()
sig = [i for i, ln in enumerate(lines) if "SIGTERM" in ln]
t.ok(sig, "strace saw SIGTERM arrive")
after = [ln for ln in lines[sig[0] + 1:] if ln.startswith(f"read({fd},")] if sig else []
t.ok(len(after) <= 1,
     f"at most the read under way finished on {path} after SIGTERM: {len(after)} read(s) "
     f"({size[path] - read_before} bytes of it were left)")
t.done()
