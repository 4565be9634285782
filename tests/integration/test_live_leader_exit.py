#!/usr/bin/env python3
"""Live: a process whose thread-group leader exited while another thread runs on, holding
256 MiB. /proc/PID then shows the leader, a zombie (stat Z, status without Vm lines, an empty
smaps); the memory is seen only through /proc/PID/task/TID of the live thread. Before the fix the
daemon skipped such a process as a zombie, and its 256 MiB were counted nowhere.

The helper (memlayout --exit-leader) runs as a uid of its own, so that its user's aggregate is
its own figures. For each smaps mode, one --once cycle must:
  - export it under the leader's identity (pid, start time, comm, ppid from /proc/PID/stat; the
    live thread has its own comm and start time) with every figure equal to the kernel's for
    the stopped process, read through the thread's directory;
  - count it in its user's aggregate (alone there: its figures exactly), its unit's (the sum of
    the unit's processes' series, itself included) and the machine's sums (likewise).
"""
import os
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (MEMLAYOUT, MIB, Helpers, compare_series, expected_series,  # noqa: E402
                     exported_series, kernel_view, read_stat, read_status, run_as, unused_uid)
from procmem import Test, once, parse, require_root, sample_value, spawn  # noqa: E402

require_root("to run the helper as a uid of its own")
t = Test("live: a process whose leader thread exited is read through a live thread")

uid = unused_uid(61000 + os.getpid() % 4000)

h = Helpers()
comm = h.prefix + b"leaderless"
p = spawn([MEMLAYOUT, "--private-anon", "256:256", "--comm", comm, "--exit-leader"],
          stdout=subprocess.PIPE, preexec_fn=run_as(uid))
ready, _, _ = select.select([p.stdout], [], [], 60)
if not ready or p.stdout.readline() != b"ready\n":
    t.fatal("memlayout --exit-leader did not get ready")
pid = p.pid


def wait_for(cond, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            t.fatal(f"{what} within {timeout} s")
        time.sleep(0.01)


wait_for(lambda: read_stat(pid)["state"] == "Z", "the leader did not exit")
tids = [int(x) for x in os.listdir(f"/proc/{pid}/task") if int(x) != pid]
t.eq(len(tids), 1, "one thread lives on")
thread = f"{pid}/task/{tids[0]}"
os.kill(pid, signal.SIGSTOP)
wait_for(lambda: read_stat(thread)["state"] in ("T", "t"), "the thread did not stop")

# what /proc shows: the leader a zombie without memory, the thread with the process's mm
with open(f"/proc/{pid}/smaps", "rb") as f:
    t.eq(f.read(), b"", "/proc/PID/smaps is empty")
t.ok("VmRSS" not in read_status(pid), "/proc/PID/status has no Vm lines")
k = kernel_view(thread)
k["stat"] = read_stat(pid)  # identity: the leader's
t.eq(k["stat"]["comm"], comm[:15], "the leader's comm")
t.eq(read_stat(thread)["comm"], b"memlayout-thr", "the thread's own comm differs")
t.ok(k["status"]["VmRSS"] >= 256 * MIB, f"the thread's status shows the 256 MiB ({k['status']['VmRSS']})")
t.eq(k["status"]["ruid"], uid, "the process's uid")
user = str(uid)

for mode in ("off", "rollup", "full"):
    # every process gets series, so that sums can be checked against them
    s = parse(once("--smaps", mode, "--top", "0", "--detail-top", "0", "--smaps-budget", "0", "--smaps-max-rss", "0"))
    got, comms = exported_series(s, pid)
    compare_series(t, got, expected_series(k, mode), f"{mode}: pid {pid}")
    t.eq(comms, {comm[:15].decode()}, f"{mode}: comm label is the leader's")
    st, ru = k["status"], k["rollup"]
    t.eq(sample_value(s, "procmem_user_processes", user=user), 1, f"{mode}: user {user} has it")
    t.eq(sample_value(s, "procmem_user_resident_bytes", user=user), st["VmRSS"],
         f"{mode}: user {user} resident is its VmRSS")
    if mode != "off":
        t.eq(sample_value(s, "procmem_user_pss_bytes", user=user), ru["Pss"],
             f"{mode}: user {user} pss is its Pss")
    # the unit's and the machine's sums are the sums of the series, this process included
    unit = k["unit"]
    members = {l["pid"] for n, l, v in s if n == "procmem_process_info" and l["unit"] == unit}
    t.ok(str(pid) in members, f"{mode}: it is among unit {unit!r}'s processes")

    def total(fam, pids=None):
        return sum(int(v) for n, l, v in s
                   if n == f"procmem_process_{fam}_bytes" and (pids is None or l["pid"] in pids))
    t.eq(sample_value(s, "procmem_unit_resident_bytes", unit=unit), total("resident", members),
         f"{mode}: unit {unit!r} resident sums its processes'")
    if mode != "off":
        t.eq(sample_value(s, "procmem_unit_pss_bytes", unit=unit), total("pss", members),
             f"{mode}: unit {unit!r} pss sums its processes'")
        t.eq(sample_value(s, "procmem_pss_bytes"), total("pss"),
             f"{mode}: procmem_pss_bytes sums every process's")
    if mode == "full":
        q = sample_value(s, "procmem_quadrant_resident_bytes", sharing="private", backing="anonymous")
        qp = sum(int(v) for n, l, v in s if n == "procmem_process_quadrant_resident_bytes"
                 and l["sharing"] == "private" and l["backing"] == "anonymous")
        t.eq(q, qp, "full: the machine's private/anonymous resident sums every process's")
t.done()
