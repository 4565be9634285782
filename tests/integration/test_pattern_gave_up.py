#!/usr/bin/env python3
"""Live: a --include pattern that backtracks exponentially on some comm. PCRE2's match limit
makes that match give up (pattern.h); the process is then taken as not matching, and the daemon
must say so once (per configuration: again after a SIGHUP), not leave it out without a word.

Two stopped helpers: one named "aaaaaaaaaaaaaad", on which "(a|a|a|a)*[bc]" takes over 10^8
steps, and one named PREFIX + "ok", which the pattern's other alternative matches at once.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import Helpers  # noqa: E402
from procmem import Daemon, Test, parse  # noqa: E402

t = Test("live: a pattern match that gives up is said once per configuration")

SLOW = b"aaaaaaaaaaaaaad"
h = Helpers()
slow = h.start("slow", "--private-anon", "4:4", comm=SLOW)
ok = h.start("ok", "--private-anon", "4:4")
pattern = "(a|a|a|a)*[bc]|" + ok.comm_arg.decode()
WARNING = "--include: "


def warnings(daemon):
    return [line for line in daemon.log().splitlines() if WARNING in line and "gave up" in line]


def exported_pids(text):
    return {int(l["pid"]) for n, l, v in parse(text) if n == "procmem_process_info"}


with Daemon("--interval", "1", "--smaps", "rollup", "--top", "0", "--top-min-age", "0",
            "--include", pattern) as daemon:
    text = daemon.wait_cycles(3)
    pids = exported_pids(text)
    t.ok(ok.pid in pids, f"the helper the pattern matches at once is exported ({ok.pid})")
    t.ok(slow.pid not in pids, f"the helper whose match gave up is not included ({slow.pid})")
    said = warnings(daemon)
    t.eq(len(said), 1, f"said once over 3 cycles: {said}")
    t.ok(said and "not included" in said[0] and "said once" in said[0],
         f"the warning says what happened to those processes: {said[:1]}")
    cycles = int(next(v for n, l, v in parse(text) if n == "procmem_collect_cycles_total"))
    os.kill(daemon.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(warnings(daemon)) < 2:
        time.sleep(0.1)
    daemon.wait_cycles(cycles + 3)
    t.eq(len(warnings(daemon)), 2, "said again, once, after a reload compiled the pattern again")
t.done()
