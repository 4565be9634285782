#!/usr/bin/env python3
"""Process churn under the real daemon: tests/helpers/churn starts short-lived processes as fast
as the machine allows (clone(CLONE_VM) children that live 1 to 9 ms, 64 at a time: about 9,000
a second on the 2-core VM this was written on; bounded in count and time) while the daemon runs
cycles every 100 ms in full smaps mode with every process exported, and this test scrapes it over
and over. Every other child is handed the pid of the child reaped just before it (the generator
writes /proc/sys/kernel/ns_last_pid), so pids are reused within microseconds: a pid the daemon
listed is often a different process by the time it reads it.

The daemon and the generator run in a pid namespace of their own with its own /proc (unshare
--pid --mount-proc; the daemon is its pid 1, so when the daemon ends, whatever is left of the
churn ends with it, and ns_last_pid is the namespace's, not the host's). The daemon then sees only
the churn: its cycles stay short however many processes the machine runs (with 5,000 elsewhere a
cycle took seconds, and every child listed at its start was gone before it was read).

Properties, each checkable without timing:
  - the daemon stays up and every scrape is valid: UTF-8, parses, `promtool check metrics` quiet;
  - no series twice (the same name and label set) in any scrape: a pid is read once per cycle;
  - every pid's series are whole: a pid has procmem_process_info exactly when it has its status
    figures; the smaps_rollup figures come all together or not at all, and so do the 16 quadrant
    series (a process that vanishes half-way leaves no half-written sample);
  - a child's quadrant virtual sizes add up to its VmSize (plus the [vsyscall] page where the
    machine has one): a child's address space is the one it inherited, from the moment it
    appears in /proc to its exit, so a sample whose smaps was cut short by the child's exit (a
    zombie's smaps reads as a short, clean EOF) shows here; it has over 200 mappings, a smaps
    that takes several reads;
  - processes named like the children all have the generator as parent (all reads of one pid in a
    cycle go through one /proc/PID directory descriptor: they describe one process, even when the
    pid was reused between listing and reading);
  - the error counters never go down, and churn makes no `parse` error (a process exiting under
    the reader is `vanished`, whatever the file it was reading);
  - no stale series: once the generator has exited (every child reaped), a cycle that started
    after that exports no series of the children.
  - pid reuse happened: the generator got the pid it asked for at least once (where the kernel has
    ns_last_pid; where it has not, the output says that reuse was not exercised).
How many exits were counted as vanished, the rate of churn and how many pids the scrapes saw as
two processes are printed, not asserted: a cycle can miss every exit, and rates are timing.
If no scraped cycle caught a child alive, the test says so and skips rather than pass.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import (BIN, HELPERS, Test, http_get, parse, promtool_check, require_root,  # noqa: E402
                     require_unshare, sample_value, skip, spawn, tempdir)

t = Test("churn: thousands of short-lived processes during collection")
require_root("the daemon and the churn run in a pid namespace of their own")
require_unshare(["--pid", "--fork", "--mount-proc"],
                "the daemon and the churn run in a pid namespace of their own")

CHURN = os.path.join(HELPERS, "churn")
COMM = "churn%05d" % (os.getpid() % 100000)
# the generator runs until this test has seen MIN_CYCLES cycles during the churn and children
# among the series, for MIN_SECONDS at least and MAX_SECONDS at most (a busy machine is slow)
MAX_CHILDREN, MIN_SECONDS, MAX_SECONDS, MIN_CYCLES = 200000, 5, 40, 10

STATUS_FAMS = {"procmem_process_" + f for f in (
    "virtual_bytes", "resident_bytes", "shared_bytes", "data_bytes", "code_bytes", "swap_bytes",
    "start_time_seconds")}
ROLLUP_FAMS = {"procmem_process_pss_bytes", "procmem_process_uss_bytes",
               "procmem_process_swap_pss_bytes"}
QUADRANT_FAMS = {f"procmem_process_quadrant_{k}_bytes" for k in ("virtual", "resident", "pss", "swap")}
with open("/proc/self/maps") as f:
    VSYSCALL = 4096 if "[vsyscall]" in f.read() else 0
REASONS = ("vanished", "permission", "parse", "skipped_large", "skipped_budget")

work = tempdir()
GEN_OUT = os.path.join(work, "churn.out")


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class NsDaemon:
    """The daemon as pid 1 of a new pid namespace, with the generator started beside it."""

    def __init__(self, *args):
        self.logpath = os.path.join(work, "daemon.log")
        self._log = open(self.logpath, "w")
        script = 'g=$1; shift; "$g" "$1" "$2" "$3" reuse >"$4" & shift 4; exec "$@"'
        self.ns = spawn(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--",
                         "sh", "-c", script, "sh", CHURN, str(MAX_CHILDREN), str(MAX_SECONDS),
                         COMM, GEN_OUT, BIN, "--web.listen-address", "127.0.0.1:0", *args],
                        stdout=self._log, stderr=subprocess.STDOUT)
        self.pid, self.addr = None, None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.ns.poll() is None:
            kids = children_of(self.ns.pid)
            self.pid = kids[0] if kids else None  # pid 1 inside: sh, then the daemon
            m = re.search(r"listening on (\S+)", self.log())
            if m and "ready" in self.log() and self.pid:
                self.addr = m.group(1)
                return
            time.sleep(0.05)
        t.fatal(f"the daemon in its namespace did not get ready: {self.log()}")

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.ns.poll() is None

    def get(self, path="/metrics"):
        return http_get(f"http://{self.addr}{path}")

    def wait_cycles(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.get().body.decode()
            if sample_value(parse(text), "procmem_collect_cycles_total") >= n:
                return text
            time.sleep(0.1)
        t.fatal(f"fewer than {n} cycles within {timeout}s")

    def stop(self):
        """SIGTERM to the daemon; unshare exits with its status."""
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.ns.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return None


def gen_output():
    try:
        with open(GEN_OUT) as f:
            return f.read()
    except OSError:
        return ""


def gen_pid():
    """The generator's pid on the host: the daemon's child named churn."""
    for kid in children_of(d.pid):
        with open(f"/proc/{kid}/comm") as f:
            if f.read().strip() == "churn":
                return kid
    return None


# per-process series for the children and the generator only (the namespace holds little else)
d = NsDaemon("--interval", "100ms", "--smaps", "full", "--top", "0", "--detail-top", "0", "--smaps-budget", "0",
             "--mapping-top", "5", "--include", f"{COMM}|churn")
deadline = time.monotonic() + 30
while "ready" not in gen_output() and time.monotonic() < deadline:
    time.sleep(0.05)
if "ready" not in gen_output():
    t.fatal("churn did not start")

problems = []  # (scrape number, what)
scrapes, prev_errors, churn_seen, cycles_seen = 0, None, 0, set()
starts = {}  # a child's pid -> the start times scrapes showed for it (two: the pid was reused)


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
    gens = {l["pid"] for n, l, _ in samples if n == "procmem_process_info" and l.get("comm") == "churn"}
    for name, labels, _ in samples:
        if (name == "procmem_process_info" and labels.get("comm") == COMM and gens and
                labels.get("ppid") not in gens):
            bad(f"pid {labels['pid']}: named {COMM} but its parent is {labels.get('ppid')}, "
                f"not the generator ({gens})")
    virt = {l["pid"]: int(v) for n, l, v in samples if n == "procmem_process_virtual_bytes"}
    qvirt = {}
    for name, labels, v in samples:
        if name == "procmem_process_quadrant_virtual_bytes" and labels.get("comm") == COMM:
            qvirt[labels["pid"]] = qvirt.get(labels["pid"], 0) + int(v)
    for pid, q in qvirt.items():
        if q != virt.get(pid, 0) + VSYSCALL:
            bad(f"pid {pid}: quadrants sum to {q} bytes of address space, VmSize says {virt.get(pid)}"
                f" (+{VSYSCALL})")
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
    for n, l, v in samples:
        if n == "procmem_process_start_time_seconds" and l.get("comm") == COMM:
            starts.setdefault(l["pid"], set()).add(v)
    cycles_seen.add(sample_value(samples, "procmem_collect_cycles_total"))
    return samples


first, started = None, time.monotonic()  # the generator has just written "ready"
while "forked" not in gen_output() and d.alive():
    s = scrape()
    if first is None and s is not None:
        first = errors_of(s)
    if (len(cycles_seen) >= MIN_CYCLES and churn_seen > 0 and
            time.monotonic() - started >= MIN_SECONDS):
        g = gen_pid()
        if g:
            os.kill(g, signal.SIGTERM)
        break
deadline = time.monotonic() + 60
while "forked" not in gen_output() and time.monotonic() < deadline:
    time.sleep(0.05)
forked = gen_output().replace("ready", "").strip()
churn_seconds = time.monotonic() - started
t.ok(forked.startswith("forked"), f"the generator ran to its end ({forked})")
m = re.match(r"forked (\d+) reused (\d+) of (\d+)", forked)
if m:
    n_forked, n_reused, n_asked = map(int, m.groups())
    print(f"churn: {n_forked} processes in {churn_seconds:.1f} s, {n_forked / churn_seconds:.0f} a second;"
          f" {n_reused} of {n_asked} given a just-freed pid; {sum(len(v) > 1 for v in starts.values())}"
          f" pids seen by the scrapes as two processes or more")
    if os.path.exists("/proc/sys/kernel/ns_last_pid"):
        t.ok(n_reused > 0, f"pids were reused during the churn ({n_reused} of {n_asked})")
    else:
        print("pid reuse not exercised: this kernel has no /proc/sys/kernel/ns_last_pid")
t.ok(d.alive(), "the daemon survived the churn")
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
last = errors_of(after)
if first and None not in last.values():
    t.eq(last["parse"] - first["parse"], 0, "churn makes no parse error")
    print(f"vanished during the churn: {last['vanished'] - first['vanished']}, "
          f"over {last and sample_value(after, 'procmem_collect_cycles_total')} cycles; {forked}")
t.eq(d.stop(), 0, "the daemon stops cleanly (and the namespace with it)")
if churn_seen == 0 and t.failures == 0:
    # nothing above failed, but nothing was checked on a live child either
    print(f"{t.checks} checks passed, but no child was alive in any scraped cycle")
    skip(f"no child seen alive in {len(cycles_seen)} cycles: machine too busy to exercise churn")
t.done()
