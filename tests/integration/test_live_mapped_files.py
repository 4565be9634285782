#!/usr/bin/env python3
"""Live checks of issue 13, items 1 and 4: mapped files are their device and inode.

1. Files whose paths render alike: names that differ only in bytes that are not UTF-8
   (b"a\\xff", b"a\\xfe"), one that holds a literal U+FFFD, a live file named "x (deleted)"
   and a deleted file "x" (smaps prints both as ".../x (deleted)"). Each is its own series,
   with its own device and inode (from stat(2), taken before the unlink) and its own size as
   PSS and resident (one stopped helper maps and reads each whole); no series appears twice in
   the text format or in OpenMetrics.
2. Bounded memory: a stopped helper maps 60,000 distinct files with ~3.9 KB paths. `--once`
   stays under 64 MiB peak RSS, and the daemon under 64 MiB while the helper lives and back
   under 24 MiB within a few cycles once it is gone. The helper's biggest file (256 pages, the
   last made: its path is past what the collector keeps) comes out under its real path when it
   makes the top N.
"""
import os
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import MIB, Helpers, read_smaps  # noqa: E402
from procmem import (BIN, Daemon, Test, parse, sample_value, spawn, stop_process,  # noqa: E402
                     tempdir)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEEPFILES = os.path.join(ROOT, "build", "helpers", "deepfiles")
PAGE = os.sysconf("SC_PAGE_SIZE")
TIME = "/usr/bin/time"  # GNU time (tools/deps.sh test)
KIB = 1024

t = Test("live mapped files: keyed by device and inode, unique series, bounded memory (issue 13)")
if not os.access(TIME, os.X_OK):
    t.fatal(f"{TIME} is missing (GNU time, in tools/deps.sh test)")


def series_counts(text):
    """{series: count} over the sample lines of an exposition (the text before the value)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key = line.rsplit(" ", 1)[0]
            out[key] = out.get(key, 0) + 1
    return out


def dev_label(st):
    return f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"


# ---- 1. identity, not path -------------------------------------------------------------------

h = Helpers()
d = tempdir()
files = {  # name -> pages
    b"x (deleted)": 3,
    b"x": 5,
    b"a\xff": 2,
    b"a\xfe": 4,
    b"a\xef\xbf\xbd": 6,  # a literal U+FFFD
}
paths, stats = {}, {}
for name, pages in files.items():
    p = os.path.join(os.fsencode(d), name)
    with open(p, "wb") as f:
        f.write(b"\x5a" * pages * PAGE)
    paths[name], stats[name] = p, os.stat(p)
args = []
for p in paths.values():
    args += ["--file-private", p]
helper = h.start("files", *args)
os.unlink(paths[b"x"])  # mapped, then deleted: smaps says ".../x (deleted)"
smaps = {m["inode"]: m["path"] for m in read_smaps(helper.pid)}
t.eq(smaps.get(stats[b"x"].st_ino), paths[b"x"] + b" (deleted)", "the kernel prints the deleted x as 'x (deleted)'")
t.eq(smaps.get(stats[b"x (deleted)"].st_ino), paths[b"x (deleted)"], "... and the live file under the same text")

with Daemon("--interval", "1h", "--smaps", "full", "--top", "0", "--detail-top", "0", "--mapping-top", "100000") as dm:
    texts = {"text": dm.metrics_text(),
             "OpenMetrics": dm.get(headers={"Accept": "application/openmetrics-text"}).text()}
for fmt, text in texts.items():
    dup = {k: n for k, n in series_counts(text).items() if n > 1}
    t.eq(dup, {}, f"{fmt}: no series appears twice")
s = parse(texts["text"])
for name, pages in files.items():
    st = stats[name]
    labels = {"device": dev_label(st), "inode": str(st.st_ino)}
    shown = (paths[name] + (b" (deleted)" if name == b"x" else b"")).decode("utf-8", errors="replace")
    t.eq(sample_value(s, "procmem_mapping_pss_bytes", **labels), pages * PAGE,
         f"{name!r}: its own series, PSS = its {pages} pages")
    t.eq(sample_value(s, "procmem_mapping_resident_bytes", **labels), pages * PAGE,
         f"{name!r}: resident = its {pages} pages")
    t.eq([l["path"] for n, l, _ in s if n == "procmem_mapping_pss_bytes" and
          l.get("inode") == str(st.st_ino) and l.get("device") == labels["device"]], [shown],
         f"{name!r}: path label {shown!r}")
same = [v for n, l, v in s if n == "procmem_mapping_pss_bytes" and l["path"].endswith("/x (deleted)")
        and l["path"].startswith(d)]
t.eq(sorted(int(v) for v in same), [3 * PAGE, 5 * PAGE], "'x (deleted)' and a deleted 'x': two series, not one")
for p in h.procs:
    p.kill()
    p.wait()

# ---- 2. bounded memory ----------------------------------------------------------------------

COUNT, PATHLEN = 60000, 3900
deep = tempdir()
helper = spawn([DEEPFILES, deep, str(COUNT), str(PATHLEN), "touch"], stdout=subprocess.PIPE)
ready, _, _ = select.select([helper.stdout], [], [], 300)
if not ready or helper.stdout.readline() != b"ready\n":
    t.fatal(f"deepfiles did not get ready (exit {helper.poll()})")
stop_process(helper.pid)
# /proc/PID/maps streamed: the paths add up to some 230 MB
count, shortest, last = 0, None, None
prefix = os.fsencode(deep)
with open(f"/proc/{helper.pid}/maps", "rb") as f:
    for line in f:
        fields = line.rstrip(b"\n").split(None, 5)
        if len(fields) == 6 and fields[5].startswith(prefix):
            count += 1
            shortest = len(fields[5]) if shortest is None else min(shortest, len(fields[5]))
            if b"/file-%08d-" % (COUNT - 1) in fields[5]:
                last = (int(fields[4]), fields[5])
t.eq(count, COUNT, f"the helper maps {COUNT} files")
t.ok(shortest is not None and shortest >= PATHLEN - 100,
     f"... each with a path of about {PATHLEN} bytes ({shortest} at least)")
if last is None:
    t.fatal("the helper's last file is not in its maps")
BIG_INODE, BIG_PATH, BIG_PSS = last[0], last[1], 256 * PAGE  # 256 pages, read, mapped by it alone

# The collector reads a proc directory of links to the helper alone (and /proc/stat): what it
# holds is then what this process makes it hold, whatever else runs on the (shared) machine; and
# the helper's biggest file is in the top 5, its path (not kept: past the path budget) to be
# found again.
proc = os.path.join(tempdir(), "proc")
os.mkdir(proc)
os.symlink("/proc/stat", os.path.join(proc, "stat"))
os.symlink(f"/proc/{helper.pid}", os.path.join(proc, str(helper.pid)))

# --once: its peak RSS (ru_maxrss, KiB) through GNU time, which fork()s from a small process.
# Not wait4() from here: Python starts children with vfork(), and at exec the kernel takes the
# high-water mark of the mm it leaves, this test's own (some 100 MB after reading the maps).
p = subprocess.run([TIME, "-f", "%M", BIN, "--once", "--smaps", "full", "--procfs", proc],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300)
t.eq(p.returncode, 0, "--once with the helper running: exit 0")
peak = int(p.stderr.strip().splitlines()[-1])
t.ok(peak * KIB < 64 * MIB, f"--once: peak RSS {peak} KiB, under 64 MiB")
print(f"--once with {COUNT} files of ~{PATHLEN}-byte paths: peak RSS {peak} KiB")

# the daemon: bounded while the helper lives, and gives it back once it is gone

def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * KIB
    return None


with Daemon("--procfs", proc, "--interval", "1", "--smaps", "full", "--mapping-top", "5") as dm:
    text = dm.wait_cycles(2)
    s = parse(text)
    top = [l for n, l, _ in s if n == "procmem_mapping_pss_bytes"]
    t.ok(bool(top) and top[0].get("inode") == str(BIG_INODE),
         f"daemon: the helper's 256-page file leads the top mapped files ({top[:1]})")
    t.eq(top[0]["path"] if top else None, BIG_PATH.decode(),
         "... under its real path, read again for it")
    t.eq(sample_value(s, "procmem_mapping_pss_bytes", inode=str(BIG_INODE)), BIG_PSS,
         "... with its PSS")
    t.eq(series_counts(text), {k: 1 for k in series_counts(text)}, "daemon: no series twice")
    hwm = vm(dm.pid, "VmHWM")
    t.ok(hwm < 64 * MIB, f"daemon: peak RSS {hwm // KIB} KiB with the helper, under 64 MiB")
    print(f"daemon: peak RSS {hwm // KIB} KiB with the helper, RSS {vm(dm.pid, 'VmRSS') // KIB} KiB")
    helper.kill()
    helper.wait()
    n = sample_value(parse(dm.metrics_text()), "procmem_collect_cycles_total")
    rss = []
    for k in range(1, 6):
        dm.wait_cycles(n + k)
        rss.append(vm(dm.pid, "VmRSS"))
        if rss[-1] < 24 * MIB:
            break
    print(f"daemon RSS in the cycles after the helper's exit: {[r // KIB for r in rss]} KiB")
    t.ok(rss[-1] < 24 * MIB, f"daemon: back under 24 MiB within {len(rss)} cycles of the helper's exit: "
         f"{[r // KIB for r in rss]} KiB")
shutil.rmtree(deep, ignore_errors=True)

t.done()
