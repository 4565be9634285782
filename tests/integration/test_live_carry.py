#!/usr/bin/env python3
"""Live checks of issue 12: full smaps only when a process's memory moved.

The daemon reads a proc directory of symbolic links to the helpers' /proc/PID (plus /proc/stat),
so that it sees exactly the processes the test controls and its self metrics
(procmem_smaps_full_reads, procmem_smaps_carried_processes, procmem_smaps_carried_max_age_seconds)
count nothing else. A link can also be pointed at another process under the same name: a pid
reused, as far as the collector can tell.

Invariants checked (expected values from the kernel's own files for the stopped helpers):
- a stopped process keeps the same quadrants from cycle to cycle without a full read (the
  full-read counter stays at 0), and they are the kernel's;
- a process that grows between two cycles gets fresh quadrants within --smaps-min-age (plus one
  interval), whose resident sum is its new rollup Rss exactly; until then its old ones are
  carried, and only for as long as min-age holds them;
- no carried quadrants are older than --smaps-max-age, and processes are read again past it;
- a reused pid starts with no carried figures: its first cycle reads it afresh;
- the budget never removes PSS: with --smaps-budget 1ms on the real /proc, every process that
  can be read has procmem_process_pss_bytes every cycle, while full reads are cut by the budget.
"""
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (MEMLAYOUT, MIB, QUADRANTS, Helpers, kernel_view, make_file,  # noqa: E402
                     quadrant_sums, read_stat)
from procmem import (Daemon, Test, parse, read_kb_fields, sample_value, spawn,  # noqa: E402
                     stop_process, tempdir)

t = Test("live carry: full smaps only when memory moved (issue 12)")

h = Helpers()
work = tempdir()
still = h.start("still", "--private-anon", "8:8", "--file-private",
                make_file(os.path.join(work, "f.bin"), 2 * MIB))
other = h.start("other", "--private-anon", "3:3")

# the mover grows by 1 MiB each time the test writes a byte, then stops itself
mover = spawn([MEMLAYOUT, "--private-anon", "4:4", "--grow-on-input", "1",
               "--comm", h.prefix + b"mover"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
ready, _, _ = select.select([mover.stdout], [], [], 60)
if not ready or mover.stdout.readline() != b"ready\n":
    t.fatal("the mover did not get ready")
stop_process(mover.pid)


def grow(p):
    """One step of the mover; returns when it has grown and stopped again."""
    os.kill(p.pid, 18)  # SIGCONT
    p.stdin.write(b"x")
    p.stdin.flush()
    line = p.stdout.readline()
    if line != b"grown\n":
        raise RuntimeError(f"mover: {line!r}")
    deadline = time.monotonic() + 10
    while read_stat(p.pid)["state"] != "T":
        if time.monotonic() > deadline:
            raise RuntimeError("mover did not stop")
        time.sleep(0.01)


FAKE = "3999999"  # a pid name no process has: first linked to `still`, then to `other`
proc = os.path.join(work, "proc")
os.mkdir(proc)
os.symlink("/proc/stat", os.path.join(proc, "stat"))
for p in (still, mover):
    os.symlink(f"/proc/{p.pid}", os.path.join(proc, str(p.pid)))


def link(name, pid):
    tmp = os.path.join(proc, ".tmp")
    os.symlink(f"/proc/{pid}", tmp)
    os.replace(tmp, os.path.join(proc, name))


def quads(s, pid):
    """{(sharing, backing): {resident, virtual, pss, swap}} of one process, from the exposition."""
    out = {}
    for n, l, v in s:
        if n.startswith("procmem_process_quadrant_") and l.get("pid") == str(pid):
            fam = n[len("procmem_process_quadrant_"):-len("_bytes")]
            out.setdefault((l["sharing"], l["backing"]), {})[fam] = int(v)
    return out


def kernel_quads(pid):
    k = quadrant_sums(kernel_view(pid)["smaps"])
    return {q: {"virtual": k[q]["Size"], "resident": k[q]["Rss"], "pss": k[q]["Pss"],
                "swap": k[q]["Swap"], "dirty": k[q]["Dirty"]} for q in QUADRANTS}


def resident_sum(q):
    return sum(v["resident"] for v in q.values())


def cycles(d, first, last):
    """{n: parsed exposition of cycle n} for every cycle from first to last (one scrape each)."""
    out = {}
    n = first
    while n <= last:
        s = parse(d.wait_cycles(n))
        got = sample_value(s, "procmem_collect_cycles_total")
        if got != n:
            raise RuntimeError(f"missed cycle {n} (now {got}): the test scrapes too slowly")
        out[n] = s
        n += 1
    return out


COMMON = ["--procfs", proc, "--interval", "1", "--smaps", "full", "--smaps-budget", "0",
          "--top", "0", "--detail-top", "0", "--mapping-top", "50"]

# ---- stopped processes are carried; a moved one is read again within min-age ------------------

still_k, mover_k0 = kernel_quads(still.pid), kernel_quads(mover.pid)
with Daemon(*COMMON, "--smaps-min-age", "3s", "--smaps-max-age", "1h") as d:
    c = cycles(d, 1, 5)
    grew_at = sample_value(parse(d.metrics_text()), "procmem_collect_cycles_total")
    grow(mover)
    mover_k1 = kernel_quads(mover.pid)
    rollup1 = read_kb_fields(f"/proc/{mover.pid}/smaps_rollup")
    # scrape cycle by cycle; as soon as the step shows, step again: min-age holds the next read
    f = second = None
    for n in range(grew_at + 1, grew_at + 7):
        c.update(cycles(d, n, n))
        if f is None and resident_sum(quads(c[n], mover.pid)) == resident_sum(mover_k1):
            f = n
            grow(mover)
            second = sample_value(parse(d.metrics_text()), "procmem_collect_cycles_total")
            mover_k2 = kernel_quads(mover.pid)
            break
    if f is not None:
        c.update(cycles(d, second + 1, second + 6))
    fresh = [f] if f is not None else []

t.eq(sample_value(c[1], "procmem_smaps_full_reads"), 2, "cycle 1: both processes are new: 2 full reads")
t.eq(sample_value(c[1], "procmem_smaps_carried_processes"), 0, "cycle 1: nothing carried")
for n in range(2, 6):
    t.eq(sample_value(c[n], "procmem_smaps_full_reads"), 0,
         f"cycle {n}: stopped processes: no full read (the counter proves it)")
    t.eq(sample_value(c[n], "procmem_smaps_carried_processes"), 2, f"cycle {n}: both carried")
    age = sample_value(c[n], "procmem_smaps_carried_max_age_seconds")
    t.ok(n - 2 < age < n + 1, f"cycle {n}: the oldest carried quadrants are about {n - 1} s old: {age}")
    t.eq(quads(c[n], still.pid), still_k, f"cycle {n}: still's carried quadrants are the kernel's")
    t.eq(quads(c[n], mover.pid), mover_k0, f"cycle {n}: mover's carried quadrants are the kernel's")

t.ok(bool(fresh), f"mover grew after cycle {grew_at}: fresh quadrants within two cycles "
     f"(min-age 3 s had passed since its last read): cycles {fresh}")
if fresh:
    f = fresh[0]
    t.ok(f <= grew_at + 2, f"... in cycle {f}, no later than {grew_at + 2}")
    t.eq(quads(c[f], mover.pid), mover_k1, f"cycle {f}: mover's quadrants are the kernel's after the step")
    t.eq(resident_sum(quads(c[f], mover.pid)), rollup1["Rss"],
         f"cycle {f}: after a fresh read the quadrant resident sum is the rollup Rss, exactly")
    t.eq(sample_value(c[f], "procmem_smaps_full_reads"), 1, f"cycle {f}: one full read, the mover's")
    for n in range(grew_at + 1, f):
        t.eq(quads(c[n], mover.pid), mover_k0, f"cycle {n}: before it, the old quadrants are carried")
    for n in range(f + 1, second + 1):
        t.eq(sample_value(c[n], "procmem_smaps_full_reads"), 0, f"cycle {n}: nothing moved, nothing read")
if second:
    # last read in cycle f; min-age 3 s: the read waits for the first cycle 3 s after f
    later = [n for n in range(second + 1, second + 7) if quads(c[n], mover.pid) == mover_k2]
    t.ok(bool(later), f"second step after cycle {second}: fresh quadrants later: cycles {later}")
    if later:
        g = later[0]
        # cycles start on a 1 s grid: 3 s after cycle f is cycle f + 3, or f + 4 when the
        # grid's jitter makes the age 2.99 s
        t.ok(g >= f + 3, f"... not before min-age allows (cycle {g}, last read in cycle {f})")
        t.ok(g <= max(f + 4, second + 2), f"... and as soon as it allows (cycle {g})")
        for n in range(second + 1, g):
            q = quads(c[n], mover.pid)
            t.eq(q, mover_k1, f"cycle {n}: held back by min-age, the last read is carried")
        t.eq(sample_value(c[g], "procmem_smaps_full_reads"), 1, f"cycle {g}: one full read")
t.eq(quads(c[max(c)], still.pid), still_k, "still: the same quadrants to the end, never re-read")

# ---- max-age: no carried figure older than it -------------------------------------------------

with Daemon(*COMMON, "--smaps-min-age", "1h", "--smaps-max-age", "2s") as d:
    c = cycles(d, 1, 8)
ages = [sample_value(c[n], "procmem_smaps_carried_max_age_seconds") for n in range(1, 9)]
t.ok(all(a < 2 for a in ages), f"--smaps-max-age 2s: no carried quadrants 2 s old or older: {ages}")
reads = [sample_value(c[n], "procmem_smaps_full_reads") for n in range(2, 9)]
t.ok(sum(reads) >= 2 * 2, f"... because stopped processes are read again past it: full reads {reads}")

# ---- a reused pid inherits nothing -----------------------------------------------------------

link(FAKE, still.pid)
other_k = kernel_quads(other.pid)
t.ok(other_k != still_k, "still and other have different quadrants (so an inherited one shows)")
with Daemon(*COMMON, "--smaps-min-age", "1h", "--smaps-max-age", "1h") as d:
    c = cycles(d, 1, 2)
    link(FAKE, other.pid)
    # the cycle running when the link changed may have seen either process: look at both
    now = sample_value(parse(d.metrics_text()), "procmem_collect_cycles_total")
    c.update(cycles(d, now + 1, now + 3))
t.eq(quads(c[2], FAKE), still_k, f"pid {FAKE} as `still`: its quadrants, carried in cycle 2")
seen = [n for n in (now + 1, now + 2) if quads(c[n], FAKE) != still_k]
t.ok(bool(seen), f"pid {FAKE} reused by `other` after cycle {now}: seen by cycle {now + 2}")
if seen:
    n = seen[0]
    t.eq(quads(c[n], FAKE), other_k, f"cycle {n}: the new process on the old pid has its own quadrants at once")
    t.eq(sample_value(c[n], "procmem_smaps_full_reads"), 1, f"cycle {n}: ... read in full, not inherited")
    start = [sample_value(c[k], "procmem_process_start_time_seconds", pid=FAKE) for k in (2, n)]
    t.ok(start[0] != start[1], f"... and its start time is the new process's: {start}")
    t.eq(quads(c[n + 1], FAKE), other_k, f"cycle {n + 1}: its own quadrants, carried")

# ---- the budget never removes PSS ------------------------------------------------------------


def rollup_readable(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            return bool(f.read())
    except OSError:
        return False


with Daemon("--interval", "1", "--smaps", "full", "--smaps-budget", "1ms", "--top", "0", "--detail-top", "0",
            "--smaps-max-rss", "0") as d:
    c = cycles(d, 1, 3)
    missing = {}
    for n, s in c.items():
        info = {l["pid"] for nm, l, _ in s if nm == "procmem_process_info"}
        pss = {l["pid"] for nm, l, _ in s if nm == "procmem_process_pss_bytes"}
        missing[n] = sorted(p for p in info - pss if rollup_readable(p))
skipped = sample_value(c[3], "procmem_collect_errors_total", reason="skipped_budget")
t.ok(skipped > 0, f"--smaps-budget 1ms cuts full reads ({skipped} skipped over 3 cycles)")
for n in c:
    t.eq(missing[n], [], f"cycle {n}: every process whose smaps_rollup can be read has its PSS")

t.done()
