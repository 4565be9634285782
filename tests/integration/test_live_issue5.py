#!/usr/bin/env python3
"""Live checks of what spans processes (issue 5): a file mapped by two stopped processes shows
under its path with its PSS split between them; --smaps-max-rss with --smaps-large-share 0
keeps a large process's status figures and drops its smaps figures, counted as skipped_large;
with the default share it reads it on its slower cadence and keeps its figures in between;
totals and aggregates cover
every process read whatever --top exports, and --top N exports exactly N, the N with most PSS.

Every property is checked within one exposition (one cycle): totals of two cycles differ on a
live machine, the figures of one cycle must agree with each other exactly.
"""
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (KIB, MEMLAYOUT, MIB, QUADRANTS, Helpers, kernel_thread_pids,  # noqa: E402
                     kernel_view, make_file)
from procmem import Daemon, Test, parse, promtool_check, sample_value, tempdir  # noqa: E402

t = Test("live issue 5: shared files, --smaps-max-rss, totals against --top")

h = Helpers()
FILE_SIZE = 16 * MIB
shared_file = make_file(os.path.join(tempdir(), "mapped-by-two.bin"), FILE_SIZE)
helpers = {
    "share1": h.start("share1", "--file-shared-read", shared_file),
    "share2": h.start("share2", "--file-private", shared_file),
    "big": h.start("big", "--shared-anon", "64"),
    "small": h.start("small"),
}
# a file name with what a label must escape or repair, mapped by one more helper
ODD = os.path.join(os.fsencode(tempdir()), b'odd "q" \\ \n \xff.bin')
make_file(ODD, 1 * MIB)
helpers["oddpath"] = h.start("oddpath", "--file-private", ODD)
k = {n: kernel_view(p.pid) for n, p in helpers.items()}
pid = {n: str(p.pid) for n, p in helpers.items()}
BINARY = os.fsencode(os.path.realpath(MEMLAYOUT))


def maps_of(n, path):
    return [m for m in k[n]["smaps"] if m["path"] == path]


def per_pid(samples, name):
    """{pid: value} of a per-process family without further labels."""
    return {l["pid"]: int(v) for n, l, v in samples if n == name}


# ---- a file mapped by two processes ---------------------------------------------------------

path = os.fsencode(shared_file)
for n in ("share1", "share2"):
    ms = maps_of(n, path)
    t.eq([(m["fields"]["Rss"], m["fields"]["Pss"]) for m in ms], [(FILE_SIZE, FILE_SIZE // 2)],
         f"{n}: the file is resident in full, half of it its PSS (two mappers)")
BOUND = 32 * MIB
t.ok(k["big"]["status"]["VmRSS"] > BOUND, "big: RSS over the bound used below")
t.ok(all(k[n]["status"]["VmRSS"] < BOUND for n in helpers if n != "big"),
     "the others: RSS under it")

with Daemon("--interval", "1", "--smaps", "full", "--smaps-budget", "0", "--top", "0", "--detail-top", "0",
            "--include", h.include_regex(), "--mapping-top", "100000",
            "--smaps-max-rss", str(BOUND), "--smaps-large-share", "0") as d:
    text = d.wait_cycles(2)
s = parse(text)
mapped_pss = sum(m["fields"]["Pss"] for n in ("share1", "share2") for m in maps_of(n, path))
mapped_rss = sum(m["fields"]["Rss"] for n in ("share1", "share2") for m in maps_of(n, path))
got = sample_value(s, "procmem_mapping_pss_bytes", path=shared_file)
t.eq(got, mapped_pss, "procmem_mapping_pss_bytes of the file: the two processes' Pss summed")
t.ok(got is not None and 0 <= FILE_SIZE - got < 2 * KIB,
     f"... which is the file's size, within two mappings' kB rounding ({got})")
t.eq(sample_value(s, "procmem_mapping_resident_bytes", path=shared_file), mapped_rss,
     "procmem_mapping_resident_bytes of the file: the sum of both Rss")
t.eq(mapped_rss, 2 * FILE_SIZE, "... twice the file (a shared page counts once per process)")
# the helpers' own executable: only the processes whose smaps was read count
binary = {n: sum(m["fields"]["Rss"] for m in maps_of(n, BINARY)) for n in helpers}
t.eq(sample_value(s, "procmem_mapping_resident_bytes", path=BINARY.decode()),
     binary["share1"] + binary["share2"] + binary["small"] + binary["oddpath"],
     "the helpers' executable: resident summed over the helpers read, not the skipped one")

# the kernel prints the newline in the name as \012; the label is the name again (the escape
# undone), as valid UTF-8
odd = maps_of("oddpath", ODD.replace(b"\n", b"\\012"))
t.eq(len(odd), 1, "oddpath: smaps shows the file under its escaped name")
want = ODD.decode("utf-8", errors="replace")
t.eq(sample_value(s, "procmem_mapping_resident_bytes", path=want), MIB,
     f"a file named {ODD!r} is exported as {want!r}")
t.eq(promtool_check(text), (0, ""), "promtool check metrics: nothing to report about it")

# ---- --smaps-max-rss ---------------------------------------------------------------------------

cycles = sample_value(s, "procmem_collect_cycles_total")
skipped = sample_value(s, "procmem_collect_errors_total", reason="skipped_large")
t.ok(skipped >= cycles >= 2, f"skipped_large ({skipped}) counts the big helper in every cycle ({cycles})")
st = k["big"]["status"]
for name, want in (("resident", st["VmRSS"]), ("virtual", st["VmSize"]),
                   ("shared", st["RssFile"] + st["RssShmem"]), ("data", st["VmData"])):
    t.eq(per_pid(s, f"procmem_process_{name}_bytes").get(pid["big"]), want,
         f"big: its status figure {name} is still exported")
t.eq(sorted({n for n, l, _ in s if l.get("pid") == pid["big"] and
             ("pss" in n or "uss" in n or "quadrant" in n)}), [],
     "big: no pss, uss, pss by kind or quadrants (its smaps was not read)")
for n in ("share1", "share2", "small", "oddpath"):
    t.eq(per_pid(s, "procmem_process_pss_bytes").get(pid[n]), k[n]["rollup"]["Pss"],
         f"{n}: under the bound, its pss is exported")

# With the default --smaps-large-share (1% of a core) the big helper is read on its own cadence:
# its estimated cost (10 ms per GiB: well under a millisecond here) is covered by the credit
# the second cycle has (1% of the 1 s interval, 10 ms), never by the first's (it starts empty).
# From then on its PSS and quadrants are there every cycle, read or carried, and equal the
# kernel's for the stopped helper. The daemon reads a proc directory of links to the helpers
# alone: on a busy machine other processes over the bound would share the credit.
proc = os.path.join(tempdir(), "proc")
os.mkdir(proc)
os.symlink("/proc/stat", os.path.join(proc, "stat"))
for p in helpers.values():
    os.symlink(f"/proc/{p.pid}", os.path.join(proc, str(p.pid)))
with Daemon("--procfs", proc, "--interval", "1", "--smaps", "full", "--smaps-budget", "0", "--top", "0", "--detail-top", "0",
            "--smaps-max-rss", str(BOUND)) as d:
    first = parse(d.wait_cycles(1))
    texts = [d.wait_cycles(n) for n in (3, 4)]
t.eq(per_pid(first, "procmem_process_pss_bytes").get(pid["big"]), None,
     "default share: no pss for big in the first cycle (the credit starts empty)")
for text in texts:
    s = parse(text)
    n = sample_value(s, "procmem_collect_cycles_total")
    t.eq(sample_value(s, "procmem_collect_errors_total", reason="skipped_large"), 1,
         f"default share, cycle {n}: skipped_large counted once, in the first cycle only")
    t.eq(per_pid(s, "procmem_process_pss_bytes").get(pid["big"]), k["big"]["rollup"]["Pss"],
         f"default share, cycle {n}: big has its rollup Pss")
    quad_rss = sum(int(v) for nm, l, v in s
                   if nm == "procmem_process_quadrant_resident_bytes" and l.get("pid") == pid["big"])
    t.eq(quad_rss, k["big"]["rollup"]["Rss"], f"default share, cycle {n}: big's quadrants sum to its Rss")

# ---- --top 0: totals equal the sums of the per-process series, in one cycle ------------------------

kthreads_before = kernel_thread_pids()
with Daemon("--interval", "1h", "--smaps", "full", "--smaps-budget", "0", "--top", "0", "--detail-top", "0") as d:
    text = d.metrics_text()
kthreads_after = kernel_thread_pids()
s = parse(text)
procs = sample_value(s, "procmem_processes")
info_pids = [l["pid"] for n, l, _ in s if n == "procmem_process_info"]
kthreads = sample_value(s, "procmem_kernel_threads")
t.ok(len(kthreads_before & kthreads_after) <= kthreads <= len(kthreads_before | kthreads_after),
     f"--top 0: procmem_kernel_threads ({kthreads}) counts the kernel threads in /proc "
     f"({len(kthreads_before)} before, {len(kthreads_after)} after)")
t.eq(sorted((kthreads_before | kthreads_after) & set(info_pids)), [],
     "--top 0: no kernel thread is exported as a process")
t.eq(len(set(info_pids)), len(info_pids), "--top 0: one procmem_process_info per pid")
t.eq((sample_value(s, "procmem_processes_exported"), len(info_pids)), (procs, procs),
     f"--top 0: every process read ({procs}) is exported")
t.ok(all(p in info_pids for p in pid.values()), "--top 0: the helpers among them")
for fam in ("pss", "uss", "swap"):
    t.eq(sample_value(s, f"procmem_{fam}_bytes"), sum(per_pid(s, f"procmem_process_{fam}_bytes").values()),
         f"--top 0: procmem_{fam}_bytes is the sum of procmem_process_{fam}_bytes")
for fam in ("virtual", "resident", "pss", "swap"):
    for sh, b in QUADRANTS:
        total = sum(int(v) for n, l, v in s if n == f"procmem_process_quadrant_{fam}_bytes" and
                    l["sharing"] == sh and l["backing"] == b)
        t.eq(sample_value(s, f"procmem_quadrant_{fam}_bytes", sharing=sh, backing=b), total,
             f"--top 0: procmem_quadrant_{fam}_bytes{{{sh},{b}}} is the sum over the processes")
# the aggregates, regrouped here from the per-process series and process_info
labels = {l["pid"]: l for n, l, _ in s if n == "procmem_process_info"}
for agg in ("user", "unit"):
    want = defaultdict(lambda: defaultdict(int))
    for fam in ("resident", "pss", "uss", "swap"):
        for p, v in per_pid(s, f"procmem_process_{fam}_bytes").items():
            want[fam][labels[p][agg]] += v
    for p in labels:
        want["processes"][labels[p][agg]] += 1
    for fam in ("resident", "pss", "uss", "swap", "processes"):
        name = f"procmem_{agg}_{fam}" + ("" if fam == "processes" else "_bytes")
        exported = {l[agg]: int(v) for n, l, v in s if n == name}
        t.eq(exported, dict(want[fam]), f"--top 0: {name} regroups the per-process series by {agg}")
got = {n: per_pid(s, "procmem_process_pss_bytes").get(pid[n]) for n in helpers}
t.eq(got, {n: k[n]["rollup"]["Pss"] for n in helpers}, "--top 0: the helpers' pss is the kernel's")
t.eq(sample_value(s, "procmem_mapping_pss_bytes", path=shared_file), mapped_pss,
     "--top 0: the shared file's PSS again")

# ---- --top 3 --------------------------------------------------------------------------------------

# --top-min-age 0: the helpers are seconds old, and must compete (one cycle: no margin either)
with Daemon("--interval", "1h", "--smaps", "full", "--smaps-budget", "0", "--top", "3",
            "--top-min-age", "0") as d:
    text = d.metrics_text()
s = parse(text)
procs = sample_value(s, "procmem_processes")
series_pids = {l["pid"] for n, l, _ in s if n.startswith("procmem_process_")}
t.eq(sample_value(s, "procmem_processes_exported"), 3, "--top 3: procmem_processes_exported is 3")
t.eq(len(series_pids), 3, f"--top 3: per-process series for exactly 3 pids ({sorted(series_pids)})")
t.ok(procs > 3, f"--top 3: procmem_processes ({procs}) still counts every process read")
t.eq(sum(int(v) for n, _, v in s if n == "procmem_user_processes"), procs,
     "--top 3: the user aggregates cover every process read")
t.eq(sum(int(v) for n, _, v in s if n == "procmem_unit_processes"), procs,
     "--top 3: the unit aggregates cover every process read")
exported_pss = per_pid(s, "procmem_process_pss_bytes")
exported_rss = per_pid(s, "procmem_process_resident_bytes")


def smaps_unreadable(p):
    try:
        with open(f"/proc/{p}/smaps_rollup", "rb") as f:
            f.read()
        return False
    except PermissionError:
        return True


# A process whose smaps cannot be read (here: pid 1 of some containers, unreadable even to root)
# has no PSS and ranks by its RSS, an upper bound of its PSS.
for p in series_pids - set(exported_pss):
    t.ok(smaps_unreadable(p), f"--top 3: pid {p} has no pss because its smaps_rollup is unreadable")
rank = {p: exported_pss.get(p, exported_rss.get(p)) for p in series_pids}
least = min(rank.values())
for n in helpers:
    pss = k[n]["rollup"]["Pss"]
    if pss > least:
        t.ok(pid[n] in series_pids, f"--top 3: {n} (pss {pss}) outranks the least exported ({least})")
    elif pss < least:
        t.ok(pid[n] not in series_pids, f"--top 3: {n} (pss {pss}) is below the least exported ({least})")
unexported = sum(k[n]["rollup"]["Pss"] for n in helpers if pid[n] not in series_pids)
t.ok(sample_value(s, "procmem_pss_bytes") >= sum(exported_pss.values()) + unexported,
     "--top 3: procmem_pss_bytes covers the exported and the helpers left out")

# the helpers' figures did not move meanwhile
for n, p in helpers.items():
    now = kernel_view(p.pid)
    t.eq((now["rollup"], now["status"]), (k[n]["rollup"], k[n]["status"]),
         f"{n}: kernel figures unchanged at the end")

t.done()
