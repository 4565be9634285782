#!/usr/bin/env python3
"""Live: processes that share one mm (clone(CLONE_VM) without CLONE_THREAD). Each is a process
of its own in /proc with the whole mm's figures, so summed as they were, 20 clones of a 64 MiB
process counted 21 x 64 MiB of PSS in the machine's and the user's totals: any user could make
the totals say what they liked.

A helper of 64 MiB (memlayout), running as a uid of its own, forks a child (a copy of its mm: the
same layout in stat, a distinct mm, the pages shared copy-on-write) and clones 20 processes that
share its mm. For each smaps mode, one --once cycle must:
  - give every one of the 23 processes series equal to what the kernel says of it;
  - in the rollup and full modes, count the shared mm once in the user's aggregate and in the
    machine's sums: the 20 clones add 20 processes but no memory; the forks count as ever;
  - in off mode (status only, sums of RSS, no sharing looked for), count every process's RSS.
"""
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (MEMLAYOUT, Helpers, compare_series, expected_series, exported_series,  # noqa: E402
                     kernel_view, run_as, unused_uid)
from procmem import Test, once, parse, require_root, sample_value, spawn, stop_process  # noqa: E402

require_root("to run the helper as a uid of its own")
t = Test("live: processes that share one mm are counted once in the sums")

CLONES, FORKS = 20, 1
uid = unused_uid(57000 + os.getpid() % 4000)
user = str(uid)

h = Helpers()
p = spawn([MEMLAYOUT, "--private-anon", "64:64", "--comm", h.prefix + b"shared",
           "--fork", h.prefix + b"forked", "--clone-vm", str(CLONES)], stdout=subprocess.PIPE,
          preexec_fn=run_as(uid))
out = b""
while not out.endswith(b"ready\n"):
    ready, _, _ = select.select([p.stdout], [], [], 60)
    chunk = os.read(p.stdout.fileno(), 4096) if ready else b""
    if not chunk:
        t.fatal(f"the helper did not get ready ({out!r})")
    out += chunk
kids = {"child": [], "clone": []}
for line in out.split(b"\n")[:-2]:
    kind, pid = line.split()
    kids[kind.decode()].append(int(pid))
kids["fork"] = kids.pop("child")
t.eq((len(kids["fork"]), len(kids["clone"])), (FORKS, CLONES), "the helper made its children")
procs = [p.pid] + kids["fork"] + kids["clone"]
for pid in procs:
    stop_process(pid)
k = {pid: kernel_view(pid) for pid in procs}
mm = k[p.pid]
for pid in kids["clone"]:
    t.eq(k[pid]["rollup"]["Pss"], mm["rollup"]["Pss"], f"clone {pid}: the kernel shows it the helper's Pss")

for mode in ("off", "rollup", "full"):
    s = parse(once("--smaps", mode, "--top", "0", "--detail-top", "0", "--smaps-budget", "0", "--smaps-max-rss", "0"))
    for pid in procs:
        got, _ = exported_series(s, pid)
        compare_series(t, got, expected_series(k[pid], mode), f"{mode}: {pid}")

    # the user's sums: the helper's mm once, and each fork's (off mode: every process's RSS)
    counted = [p.pid] + kids["fork"] + (kids["clone"] if mode == "off" else [])
    t.eq(sample_value(s, "procmem_user_processes", user=user), 1 + FORKS + CLONES,
         f"{mode}: user {user} has all {1 + FORKS + CLONES} processes")
    t.eq(sample_value(s, "procmem_user_resident_bytes", user=user),
         sum(k[pid]["status"]["VmRSS"] for pid in counted),
         f"{mode}: user {user} resident counts the shared mm " + ("for each" if mode == "off" else "once"))
    if mode != "off":
        t.eq(sample_value(s, "procmem_user_pss_bytes", user=user),
             sum(k[pid]["rollup"]["Pss"] for pid in counted),
             f"{mode}: user {user} pss counts the shared mm once")
        # the machine's: every process's series, less the clones' copies of the one mm
        all_pss = sum(int(v) for n, l, v in s if n == "procmem_process_pss_bytes")
        t.eq(sample_value(s, "procmem_pss_bytes"), all_pss - CLONES * mm["rollup"]["Pss"],
             f"{mode}: procmem_pss_bytes counts the shared mm once")
    if mode == "full":
        for fam, field in (("resident", "Rss"), ("pss", "Pss")):
            total = sample_value(s, f"procmem_quadrant_{fam}_bytes", sharing="private", backing="anonymous")
            each = sum(int(v) for n, l, v in s if n == f"procmem_process_quadrant_{fam}_bytes"
                       and l["sharing"] == "private" and l["backing"] == "anonymous")
            mine = [int(v) for n, l, v in s if n == f"procmem_process_quadrant_{fam}_bytes"
                    and l["pid"] == str(p.pid) and l["sharing"] == "private" and l["backing"] == "anonymous"]
            t.eq(total, each - CLONES * (mine[0] if mine else 0),
                 f"full: machine private/anonymous {fam} counts the shared mm once")
t.done()
