#!/usr/bin/env python3
"""Dirty memory against pmap -x itself (procps): for stopped helpers with known layouts, each
process's procmem_process_dirty_bytes equals the Dirty of pmap -x's total line, and each
quadrant's procmem_process_quadrant_dirty_bytes equals the sum of pmap's Dirty column over the
mappings of that quadrant. pmap's lines are classified here, apart from the exporter's code: by
the permissions, inode and path /proc/PID/maps gives for the line's address (DESIGN.md's rules,
livemem.quadrant()). The resident column is checked the same way, so that a line joined to the
wrong mapping cannot go unseen.

The layouts (tests/helpers/memlayout.c), each page of each region touched:
  all   4 MiB shared anonymous, written                       shared/anonymous, dirty
        8 MiB private anonymous, 4 MiB of it written          private/anonymous, dirty
        a file mapped private and written (copy on write)     private/file, dirty (anonymous copies)
        a file mapped private and read                        private/file, clean
        a tmpfs file mapped shared and written, also by peer  shared/file, dirty, shared dirty
        a disk file mapped shared, written, then msync()ed    shared/file, clean again
        2 MiB private anonymous, mlock()ed, written           Locked
  peer  the same tmpfs file, mapped shared and written: its pages are mapped twice
  thp   4 MiB private anonymous on a 2 MiB boundary, MADV_HUGEPAGE, written: AnonHugePages
The disk files are synced before the helpers map them (kernel_view() syncs as well), so their
page cache pages are clean unless a helper dirtied them; tmpfs pages are never written back, and
a stopped helper writes nothing: no figure here can move while the test reads it.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (KIB, MIB, QUADRANTS, Helpers, compare_series, dirty,  # noqa: E402
                     expected_series, exported_series, kernel_view, make_file, quadrant,
                     quadrant_sums, read_maps)
from procmem import Daemon, Test, parse, sample_value, skip, tempdir  # noqa: E402

PMAP = shutil.which("pmap")
if not PMAP:
    skip("no pmap (procps) on this machine")
SHM = "/dev/shm"
with open("/proc/mounts") as f:
    if not any(line.split()[1:3] == [SHM, "tmpfs"] for line in f):
        skip(f"{SHM} is not a tmpfs here: the shared dirty file needs one")

t = Test("live: dirty memory per process and per quadrant equals pmap -x's Dirty")


def pmap_x(pid):
    """pmap -x PID: ([{addr, kbytes, rss, dirty}] in bytes, the total line's (kbytes, rss, dirty))."""
    out = subprocess.run([PMAP, "-x", str(pid)], capture_output=True, check=True).stdout
    lines, total = [], None
    for line in out.split(b"\n"):
        m = re.match(rb"^([0-9a-f]{16})\s+(\d+)\s+(\d+)\s+(\d+) ", line)
        if m:
            lines.append({"addr": int(m.group(1), 16), "kbytes": int(m.group(2)) * KIB,
                          "rss": int(m.group(3)) * KIB, "dirty": int(m.group(4)) * KIB})
            continue
        m = re.match(rb"^total kB\s+(\d+)\s+(\d+)\s+(\d+)\s*$", line)
        if m:
            total = tuple(int(x) * KIB for x in m.groups())
    if total is None:
        raise RuntimeError(f"pmap -x {pid}: no total line in {out!r}")
    return lines, total


def by_quadrant(lines, maps):
    """pmap's RSS and Dirty columns summed per quadrant of /proc/PID/maps' mapping at each line's
    address; and the addresses pmap listed that maps does not have."""
    sums = {q: {"rss": 0, "dirty": 0} for q in QUADRANTS}
    unknown = []
    for line in lines:
        m = maps.get(line["addr"])
        if m is None:
            unknown.append(hex(line["addr"]))
            continue
        for k in ("rss", "dirty"):
            sums[quadrant(m)][k] += line[k]
    return sums, unknown


def line_of(lines, maps, path):
    """pmap's line for the mapping of `path`."""
    found = [l for l in lines if maps.get(l["addr"], {}).get("path") == os.fsencode(path)]
    if len(found) != 1:
        raise RuntimeError(f"{len(found)} pmap lines for {path}")
    return found[0]


# ---- the helpers -------------------------------------------------------------------------------

d = tempdir()
FILE = 1 * MIB
f_priv_w = make_file(os.path.join(d, "private-written.bin"), FILE)
f_priv_r = make_file(os.path.join(d, "private-read.bin"), FILE)
f_synced = make_file(os.path.join(d, "shared-msynced.bin"), FILE)
f_shm = make_file(os.path.join(tempdir(SHM), "shared-tmpfs.bin"), 2 * MIB)
os.sync()  # the disk files' pages clean before anything maps them

h = Helpers()
helpers = {
    "all": h.start("all", "--shared-anon", "4", "--private-anon", "8:4",
                   "--file-private-write", f_priv_w, "--file-private", f_priv_r,
                   "--file-shared-write", f_shm, "--file-shared-sync", f_synced, "--locked", "2"),
    "peer": h.start("peer", "--file-shared-write", f_shm),
    "thp": h.start("thp", "--anon-huge", "4"),
}
k = {n: kernel_view(p.pid) for n, p in helpers.items()}
pm = {n: pmap_x(p.pid) for n, p in helpers.items()}
maps = {n: read_maps(p.pid) for n, p in helpers.items()}

# ---- what pmap says about the layouts (so that the comparisons below rest on them) ---------------

lines = pm["all"][0]
line = line_of(lines, maps["all"], f_synced)
t.eq((line["rss"], line["dirty"]), (FILE, 0), "all: the msynced shared file: resident, all clean")
line = line_of(lines, maps["all"], f_shm)
t.eq((line["rss"], line["dirty"]), (2 * MIB, 2 * MIB), "all: the tmpfs file: resident, all dirty")
line = line_of(lines, maps["all"], f_priv_w)
t.eq((line["rss"], line["dirty"]), (FILE, FILE), "all: the private file it wrote: all dirty")
line = line_of(lines, maps["all"], f_priv_r)
t.eq((line["rss"], line["dirty"]), (FILE, 0), "all: the private file it read: all clean")
ru = k["all"]["rollup"]
t.eq(ru["Shared_Dirty"], 2 * MIB, "all: Shared_Dirty is the tmpfs file's pages, mapped by peer too")
t.eq(pm["all"][1][2], dirty(ru), "all: pmap's total Dirty is the rollup's Shared_Dirty + Private_Dirty")
t.eq(ru["Locked"], 2 * MIB, "all: Locked is the 2 MiB mlocked (mapped by it alone: Pss = size)")
t.eq(k["all"]["status"]["VmLck"], 2 * MIB, "all: ... as VmLck says")

with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
    thp_mode = re.search(r"\[(\w+)\]", f.read()).group(1)
if thp_mode == "never":
    print("note: transparent huge pages are off on this machine ([never]): AnonHugePages is "
          "compared with the kernel's (0), its 4 MiB region is not checked")
else:
    t.eq(k["thp"]["rollup"]["AnonHugePages"], 4 * MIB,
         f"thp: its 4 MiB region is two transparent huge pages (THP mode {thp_mode})")

# ---- the exporter ----------------------------------------------------------------------------------

with Daemon("--interval", "1h", "--smaps", "full", "--smaps-budget", "0", "--top", "0", "--detail-top", "0",
            "--include", h.include_regex()) as dm:
    samples = parse(dm.metrics_text())


def q(got, fam, sharing, backing):
    return got.get((f"procmem_process_quadrant_{fam}_bytes",
                    (("backing", backing), ("sharing", sharing))))


got = {}
for n, p in helpers.items():
    got[n], _ = exported_series(samples, p.pid)
    lines, total = pm[n]
    sums, unknown = by_quadrant(lines, maps[n])
    t.eq(unknown, [], f"{n}: every line of pmap -x is a mapping of /proc/PID/maps")
    t.eq(len(lines), len(maps[n]), f"{n}: pmap -x lists every mapping")
    t.eq(got[n].get(("procmem_process_dirty_bytes", ())), total[2],
         f"{n}: procmem_process_dirty_bytes is pmap -x's total Dirty ({total[2] // KIB} kB)")
    t.eq(got[n].get(("procmem_process_resident_bytes", ())), total[1],
         f"{n}: procmem_process_resident_bytes is pmap -x's total RSS")
    for s, b in QUADRANTS:
        t.eq(q(got[n], "dirty", s, b), sums[(s, b)]["dirty"],
             f"{n}: {s}/{b} dirty is the sum of pmap's Dirty over its mappings")
        t.eq(q(got[n], "resident", s, b), sums[(s, b)]["rss"],
             f"{n}: {s}/{b} resident is the sum of pmap's RSS over its mappings")
    # and every other figure of it, as everywhere else
    compare_series(t, got[n], expected_series(k[n], "full"), n)

# where the layouts' dirty pages landed, by the exporter
g = got["all"]
t.eq(q(g, "dirty", "shared", "anonymous"), 4 * MIB, "all: shared/anonymous dirty is the 4 MiB written")
t.eq(q(g, "dirty", "shared", "file"), 2 * MIB,
     "all: shared/file dirty is the tmpfs file alone: the msynced file is clean")
t.ok(q(g, "dirty", "private", "file") >= FILE,
     "all: private/file dirty holds the written private file's copies")
t.ok(q(g, "dirty", "private", "anonymous") >= (4 + 2) * MIB,
     "all: private/anonymous dirty holds the 4 MiB written and the 2 MiB locked")
t.eq(g.get(("procmem_process_locked_pss_bytes", ())), 2 * MIB, "all: procmem_process_locked_pss_bytes")
t.eq(got["thp"].get(("procmem_process_anon_huge_pages_bytes", ())), k["thp"]["rollup"]["AnonHugePages"],
     "thp: procmem_process_anon_huge_pages_bytes is the rollup's AnonHugePages")

# the machine: dirty counts the tmpfs file's pages once per process that maps it, Pss_Dirty once
for fam, want in (("dirty", 2 * 2 * MIB), ("pss_dirty", 2 * MIB)):
    total = sample_value(samples, f"procmem_quadrant_{fam}_bytes", sharing="shared", backing="file")
    t.ok(total is not None and total >= want,
         f"procmem_quadrant_{fam}_bytes{{shared,file}} {total} covers the tmpfs file's {want}")
pss_dirty = sum(quadrant_sums(k[n]["smaps"])[("shared", "file")]["Pss_Dirty"] for n in ("all", "peer"))
t.eq(pss_dirty, 2 * MIB, "all + peer: their Pss_Dirty of the tmpfs file adds up to the file, once")

# the kernel's figures did not move while pmap and the daemon read them
for n, p in helpers.items():
    t.eq(pmap_x(p.pid), pm[n], f"{n}: pmap -x says the same afterwards")
    t.eq(expected_series(kernel_view(p.pid), "full"), expected_series(k[n], "full"),
         f"{n}: the kernel's figures are the same afterwards")

t.done()
