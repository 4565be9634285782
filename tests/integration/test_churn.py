#!/usr/bin/env python3
"""Process churn under the real daemon: tests/helpers/churn forks short-lived children as fast as
the machine allows (bounded in count and time) while the daemon runs cycles every 100 ms in full
smaps mode with every process exported, and this test scrapes it over and over.

Properties, each checkable without timing:
  - the daemon stays up and every scrape is valid: UTF-8, parses, `promtool check metrics` quiet;
  - no series twice (the same name and label set) in any scrape: a pid is read once per cycle;
  - every pid's series are whole: a pid has procmem_process_info exactly when it has its status
    figures; the smaps_rollup figures come all together or not at all, and so do the 16 quadrant
    series (a process that vanishes half-way leaves no half-written sample);
  - processes named like the children all have the generator as parent (all reads of one pid in a
    cycle go through one /proc/PID directory descriptor: they describe one process, even when the
    pid was reused between listing and reading, which a pid_max of 32768 makes likely here);
  - the error counters never go down, and churn makes no `parse` error (a process exiting under
    the reader is `vanished`, whatever the file it was reading);
  - no stale series: once the generator has exited (every child reaped), a cycle that started
    after that exports no series of the children.
How many exits were counted as vanished is printed, not asserted: a cycle can miss every exit.
"""
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import HELPERS, Daemon, Test, parse, promtool_check, sample_value, spawn  # noqa: E402

t = Test("churn: thousands of short-lived processes during collection")

CHURN = os.path.join(HELPERS, "churn")
COMM = "churn%05d" % (os.getpid() % 100000)
MAX_CHILDREN, SECONDS = 200000, 8

STATUS_FAMS = {"procmem_process_" + f for f in (
    "virtual_bytes", "resident_bytes", "shared_bytes", "data_bytes", "code_bytes", "swap_bytes",
    "start_time_seconds")}
ROLLUP_FAMS = {"procmem_process_pss_bytes", "procmem_process_uss_bytes",
               "procmem_process_swap_pss_bytes"}
QUADRANT_FAMS = {f"procmem_process_quadrant_{k}_bytes" for k in ("virtual", "resident", "pss", "swap")}
REASONS = ("vanished", "permission", "parse", "skipped_large", "skipped_budget")

d = Daemon("--interval", "100ms", "--smaps", "full", "--top", "0", "--smaps-budget", "0",
           "--mapping-top", "5")
gen = spawn([CHURN, str(MAX_CHILDREN), str(SECONDS), COMM], stdout=subprocess.PIPE)
ready, _, _ = select.select([gen.stdout], [], [], 30)
if not ready or gen.stdout.readline() != b"ready\n":
    t.fatal("churn did not start")

problems = []  # (scrape number, what)
scrapes, prev_errors, churn_seen, cycles_seen = 0, None, 0, set()


def check_scrape(n, body):
    """Checks one scrape; returns its parsed samples, or None when it could not be parsed."""
    def bad(what):
        problems.append((n, what))
    try:
        text = body.decode("utf-8")
        samples = parse(text)
    except (UnicodeDecodeError, ValueError) as e:
        bad(f"unparsable: {e}")
        return None
    rc, out = promtool_check(text)
    if rc != 0 or out:
        bad(f"promtool: {out.strip()[:300]}")
    seen = set()
    for name, labels, _ in samples:
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            bad(f"series twice: {key}")
        seen.add(key)
    fams = {}  # pid -> {family: number of series}
    for name, labels, _ in samples:
        if name.startswith("procmem_process_") and "pid" in labels:
            f = fams.setdefault(labels["pid"], {})
            f[name] = f.get(name, 0) + 1
    for pid, f in fams.items():
        names = set(f)
        if "procmem_process_info" not in names or not STATUS_FAMS <= names:
            bad(f"pid {pid}: info and status figures not all there: {sorted(names)}")
        rollup = names & ROLLUP_FAMS
        if rollup and rollup != ROLLUP_FAMS:
            bad(f"pid {pid}: part of the rollup figures: {sorted(rollup)}")
        quads = {k: v for k, v in f.items() if k in QUADRANT_FAMS}
        if quads and quads != {k: 4 for k in QUADRANT_FAMS}:
            bad(f"pid {pid}: part of the quadrant series: {quads}")
    for name, labels, _ in samples:
        if name == "procmem_process_info" and labels.get("comm") == COMM and labels.get("ppid") != str(gen.pid):
            bad(f"pid {labels['pid']}: named {COMM} but its parent is {labels.get('ppid')}")
    return samples


def errors_of(samples):
    return {r: sample_value(samples, "procmem_collect_errors_total", reason=r) for r in REASONS}


def scrape():
    global scrapes, prev_errors, churn_seen
    scrapes += 1
    r = d.get("/metrics")
    if r.status != 200:
        problems.append((scrapes, f"status {r.status}"))
        return None
    samples = check_scrape(scrapes, r.body)
    if samples is None:
        return None
    errs = errors_of(samples)
    if None in errs.values():
        problems.append((scrapes, f"an error reason is missing: {errs}"))
    elif prev_errors is not None and any(errs[k] < prev_errors[k] for k in REASONS):
        problems.append((scrapes, f"an error counter went down: {prev_errors} -> {errs}"))
    if None not in errs.values():
        prev_errors = errs
    churn_seen += sum(1 for n, l, _ in samples if n == "procmem_process_info" and l.get("comm") == COMM)
    cycles_seen.add(sample_value(samples, "procmem_collect_cycles_total"))
    return samples


first = None
while gen.poll() is None:
    s = scrape()
    if first is None and s is not None:
        first = errors_of(s)
forked = gen.stdout.read().decode().strip()
t.eq(gen.returncode, 0, f"the generator ran to its end ({forked})")
t.ok(d.proc.poll() is None, "the daemon survived the churn")
end_samples = scrape()

# a cycle that started after the generator had exited: the one after the next
c = sample_value(end_samples, "procmem_collect_cycles_total")
after = parse(d.wait_cycles(c + 2))
t.eq(sorted(l["pid"] for n, l, _ in after if l.get("comm") == COMM), [],
     "no series of any child once a cycle ran after all of them had exited")
check_scrape(scrapes + 1, d.get("/metrics").body)

print(f"{scrapes + 1} scrapes over {len(cycles_seen)} cycles")
for n, what in problems[:20]:
    print(f"  scrape {n}: {what}")
t.eq(len(problems), 0, f"{scrapes + 1} scrapes over {len(cycles_seen)} cycles: all valid, "
                       f"no duplicate, no partial series")
t.ok(churn_seen > 0, f"children were exported while they lived ({churn_seen} info series seen)")
last = errors_of(after)
if first and None not in last.values():
    t.eq(last["parse"] - first["parse"], 0, "churn makes no parse error")
    print(f"vanished during the churn: {last['vanished'] - first['vanished']}, "
          f"over {last and sample_value(after, 'procmem_collect_cycles_total')} cycles; {forked}")
t.eq(d.stop(), 0, "the daemon stops cleanly")
t.done()
