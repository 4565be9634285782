#!/usr/bin/env python3
"""bench/run.py — procmem_exporter's cost, against the kernel's and against process-exporter.

    make bench                         # every point (about a quarter of an hour on 2 cores)
    make bench BENCH=quick             # one tiny point (seconds): what `make check` runs
    python3 bench/run.py --points 1000x40,100x1000 --reps 10

For each load point NxM (N processes from bench/loadgen, each with M extra mappings spread over
the four quadrants, every page touched) it measures:

  1. collection, per mode (off, rollup, full): build/bench/procmem_bench runs the floor (read()
     the same /proc files of the same processes, parse nothing) and our collection cycle
     alternately in one process; CPU (user + sys) and wall per cycle, medians of --reps pairs;
  2. rendering of that load's exposition and its gzip compression at every level;
  3. Debian's prometheus-process-exporter on the same load, with and without -gather-smaps,
     every process grouped by comm: CPU and wall per scrape, resident memory;
  4. our daemon (full mode, --top 0 so every process gets series, no smaps budget): resident
     memory after ten cycles, then scrape latency and throughput of /metrics with wrk (plain and
     gzip) while collection keeps running, the HTTP thread's CPU per scrape, curl's time to
     first byte; and the resident memory of the daemon with its default settings (--top 100).

Then, once (--steady NxM, default 2000x400; --points '' measures only these):

  5. the steady state: the real daemon at its defaults (a cycle loop at --steady-interval,
     default 15 s), over loads where 0%, 10% and 100% of the processes change their memory
     every cycle (loadgen -c), its collector thread's CPU per cycle after warm-up, against the
     floors of procmem_bench in the same run and against the daemon in rollup mode and in full
     mode reading everything every cycle (what full mode cost before issue 12);
  6. the stall: p50/p99/p99.9 of an mmap/munmap loop (bench/stall.c) in a process of 10,000
     mappings pinned to CPU 0, with the reader pinned to CPU 1: unwatched, the daemon at its
     defaults, in rollup mode and reading everything every cycle, and process-exporter
     -gather-smaps, each for --stall-seconds (60) with cycles or scrapes every --stall-interval (5 s).

Then bench/churn.py (--churn-minutes 0 leaves it out): the series one host sends at 380, 1,000
and 5,000 processes under each setting compared, and the new series per hour a host costs its
Prometheus at realistic churn, each host in a pid namespace of its own and each daemon scraped by
a real Prometheus (see churn.py).

Prints the tables, then writes the same figures (and every raw sample) as JSON, and the
headline figures one row per point and mode as CSV, to bench/results/ (--out), with the machine,
kernel and commit measured. Nothing here asserts timing: the targets are reported, met or missed.
Everything started is stopped by pid at exit, also on failure or Ctrl-C.
"""
import argparse
import atexit
import csv
import ctypes
import gzip
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
BENCH = os.path.join(BUILD, "bench", "procmem_bench")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
STALL = os.path.join(BUILD, "bench", "stall")
DAEMON = os.path.join(BUILD, "procmem_exporter")
PE = shutil.which("prometheus-process-exporter")
WRK = shutil.which("wrk")
CURL = shutil.which("curl")

DEFAULT_POINTS = "100x40,1000x40,5000x40,100x10,100x100,100x1000,300x200,1000x100"
QUICK_POINTS = "20x8"
MODES = ("off", "rollup", "full")
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

_children = []
_tempdirs = []


def _cleanup():
    for p in reversed(_children):
        if p.poll() is None:
            try:
                if p.stdin:
                    p.stdin.close()  # loadgen: EOF on stdin is its signal to clean up
                p.terminate()
                p.wait(timeout=60)
            except (subprocess.TimeoutExpired, OSError):
                try:
                    p.kill()
                    p.wait(timeout=10)
                except (subprocess.TimeoutExpired, OSError):
                    pass
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))
signal.signal(signal.SIGINT, lambda s, f: sys.exit(128 + s))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _die_with_parent():
    # if this driver is killed outright (SIGKILL: no atexit), what it started goes with it
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def spawn(args, **kw):
    p = subprocess.Popen(args, preexec_fn=_die_with_parent, **kw)
    _children.append(p)
    return p


def stop(p, timeout=30):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in _children:
        _children.remove(p)


def tempdir():
    d = tempfile.mkdtemp(prefix="procmem-bench-")
    _tempdirs.append(d)
    return d


def median(xs):
    return statistics.median(xs) if xs else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, headers=None, timeout=120):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def cpu_ticks(pid):
    """utime + stime of a whole process (every thread, dead ones included), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kb_field(pid, name, field):
    """The "field:  N kB" line of /proc/PID/NAME, in KiB; None when it has none."""
    with open(f"/proc/{pid}/{name}") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def status_kb(pid, field):
    return kb_field(pid, "status", field)


def rollup_kb(pid, field):
    return kb_field(pid, "smaps_rollup", field)


def memory(pid, prefix):
    """VmRSS and its anonymous part, VmHWM and PSS of a process, KiB, as prefix_* keys."""
    return {f"{prefix}_rss_kib": status_kb(pid, "VmRSS"), f"{prefix}_anon_kib": status_kb(pid, "RssAnon"),
            f"{prefix}_hwm_kib": status_kb(pid, "VmHWM"), f"{prefix}_pss_kib": rollup_kb(pid, "Pss")}


def status_like_kb(path, field):
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def git_commit():
    """The commit measured, with "-dirty" when the tree has uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (head + ("-dirty" if dirty else "")) if head else None


CSV_COLUMNS = ["n", "m", "processes", "mappings", "mode",
               "floor_cpu_ms", "floor_wall_ms", "ours_cpu_ms", "ours_wall_ms",
               "ours_cpu_us_per_process", "ours_wall_us_per_process", "ratio", "ratio_pairs_max",
               "pe_cpu_ms", "pe_wall_ms", "pe_rss_kib", "pe_smaps_cpu_ms", "pe_smaps_wall_ms",
               "pe_smaps_rss_kib", "ours_over_pe_smaps",
               "daemon_default_rss_kib", "daemon_top0_rss_kib", "daemon_cycle_cpu_ms",
               "scrape_rps", "scrape_p50_ms", "scrape_p99_ms", "scrape_server_cpu_us"]


def csv_rows(results):
    """One row per load point and mode: the headline figures, flat (the JSON has the rest)."""
    rows = []
    for p in results["points"]:
        pe = {e["gather_smaps"]: e for e in p.get("process_exporter", [])}
        d = p.get("daemon", {})
        w = {x["gzip"]: x for x in d.get("wrk", [])}.get(False, {})
        for mode in MODES:
            c = p["collect"][mode]
            n = c["processes"]
            ps, pn = pe.get(True, {}), pe.get(False, {})
            rows.append({
                "n": p["n"], "m": p["m"], "processes": n, "mappings": p["mappings"], "mode": mode,
                "floor_cpu_ms": c["floor_cpu_ms"], "floor_wall_ms": c["floor_wall_ms"],
                "ours_cpu_ms": c["ours_cpu_ms"], "ours_wall_ms": c["ours_wall_ms"],
                "ours_cpu_us_per_process": c["ours_cpu_ms"] * 1e3 / n if n else None,
                "ours_wall_us_per_process": c["ours_wall_ms"] * 1e3 / n if n else None,
                "ratio": c["ratio"], "ratio_pairs_max": c["ratio_pairs_max"],
                "pe_cpu_ms": pn.get("cpu_ms"), "pe_wall_ms": pn.get("wall_ms"),
                "pe_rss_kib": pn.get("rss_kib"), "pe_smaps_cpu_ms": ps.get("cpu_ms"),
                "pe_smaps_wall_ms": ps.get("wall_ms"), "pe_smaps_rss_kib": ps.get("rss_kib"),
                "ours_over_pe_smaps": c["ours_cpu_ms"] / ps["cpu_ms"] if ps.get("cpu_ms") else None,
                "daemon_default_rss_kib": d.get("default_rss_kib"),
                "daemon_top0_rss_kib": d.get("top0_rss_kib"),
                "daemon_cycle_cpu_ms": d.get("default_cycle_cpu_ms"),
                "scrape_rps": w.get("rps"), "scrape_p50_ms": w.get("p50_ms"),
                "scrape_p99_ms": w.get("p99_ms"), "scrape_server_cpu_us": w.get("server_cpu_us"),
            })
    return rows


def main_thread_ns(pid):
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def thread_cpu_ns(pid, exclude_main=True):
    """Summed on-CPU time (schedstat, ns) of a process's threads, the main one left out."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        if exclude_main and int(tid) == pid:
            continue
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def machine_counts():
    """Processes with an address space, and their mappings, as /proc shows them now."""
    procs = maps = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/maps", "rb") as f:
                n = f.read().count(b"\n")
        except OSError:
            continue
        if n:
            procs += 1
            maps += n
    return procs, maps


# ---- the load ------------------------------------------------------------------------------

class Load:
    def __init__(self, n, m, changing_pct=0, period_ms=0):
        self.n, self.m = n, m
        self.extra = ["-c", str(changing_pct), "-t", str(period_ms)] if changing_pct else []

    def __enter__(self):
        self.p = spawn([LOADGEN, "-n", str(self.n), "-m", str(self.m), *self.extra],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"loadgen -n {self.n} -m {self.m} failed (exit {self.p.wait()})")
        self.pids = [int(x) for x in self.p.stdout.readline().split()]
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        _children.remove(self.p)
        left = [pid for pid in self.pids if os.path.exists(f"/proc/{pid}")]
        if left:
            raise RuntimeError(f"loadgen left {len(left)} processes behind")


# ---- 1, 2: collection and rendering ----------------------------------------------------------

def run_collection(reps, render_reps, modes=None):
    args = [BENCH, "--reps", str(reps)]
    if render_reps:
        args += ["--render", "--render-reps", str(render_reps), "--tops", "100,0"]
    if modes:
        args += ["--modes", modes]
    out = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"procmem_bench failed: {out.stderr}")
    raw = json.loads(out.stdout)
    modes = {}
    for m in raw["modes"]:
        fl, ours = m["floor"], m["ours"]
        pairs = [o / f for o, f in zip(ours["cpu_ns"], fl["cpu_ns"]) if f]
        modes[m["mode"]] = {
            "processes": m["processes"], "kernel_threads": m["kernel_threads"],
            "floor_bytes": m["floor_bytes"],
            "floor_cpu_ms": median(fl["cpu_ns"]) / 1e6, "floor_wall_ms": median(fl["wall_ns"]) / 1e6,
            "floor_user_ms": median(fl["user_ns"]) / 1e6, "floor_sys_ms": median(fl["sys_ns"]) / 1e6,
            "ours_cpu_ms": median(ours["cpu_ns"]) / 1e6, "ours_wall_ms": median(ours["wall_ns"]) / 1e6,
            "ours_user_ms": median(ours["user_ns"]) / 1e6, "ours_sys_ms": median(ours["sys_ns"]) / 1e6,
            "ratio": median(ours["cpu_ns"]) / median(fl["cpu_ns"]),
            "ratio_pairs_median": median(pairs),
            "ratio_pairs_max": max(pairs),
            "raw": m,
        }
    return modes, raw.get("render")


# ---- 3: process-exporter -----------------------------------------------------------------------

def start_process_exporter(workdir, name, gather_smaps, pin=None):
    """process-exporter on a free port, every process grouped by comm, answering; returns
    (process, url, log file)."""
    cfg = os.path.join(workdir, f"{name}.yml")
    with open(cfg, "w") as f:
        # every process (an empty cmdline too: '.*'), grouped by its comm
        f.write('process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n    - \'.*\'\n')
    port = free_port()
    logf = open(os.path.join(workdir, f"{name}.log"), "w")
    pinned = [shutil.which("taskset"), "-c", pin] if pin else []
    p = spawn([*pinned, PE, "-config.path", cfg, "-web.listen-address", f"127.0.0.1:{port}",
               f"-gather-smaps={'true' if gather_smaps else 'false'}", "-threads=false"],
              stdout=logf, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + 60
    while True:
        try:
            http_get(url)  # the first scrape also warms it up
            return p, url, logf
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                stop(p)
                logf.close()
                raise RuntimeError("process-exporter did not start")
            time.sleep(0.2)


def run_process_exporter(gather_smaps, scrapes, workdir):
    p, url, logf = start_process_exporter(workdir, "process-exporter", gather_smaps)
    try:
        walls = []
        failures = []
        body = b""
        c0 = cpu_ticks(p.pid)
        for _ in range(scrapes):
            t0 = time.monotonic()
            try:
                _, body = http_get(url)
            except OSError as e:  # seen once at 5,000 processes: the connection closed unanswered
                if p.poll() is not None:
                    logf.flush()
                    with open(logf.name, errors="replace") as f:
                        tail = f.read()[-2000:]
                    raise RuntimeError(f"process-exporter exited ({p.returncode}): {tail}")
                failures.append(repr(e))
                continue
            walls.append(time.monotonic() - t0)
        if not walls:
            raise RuntimeError(f"every process-exporter scrape failed: {failures[:3]}")
        # a failed scrape cost CPU too: the CPU is over every attempt, the wall over successes
        cpu = (cpu_ticks(p.pid) - c0) / scrapes
        groups = len({m.group(1) for m in re.finditer(rb'groupname="([^"]*)"', body)})
        return {
            "gather_smaps": gather_smaps, "scrapes": scrapes,
            "cpu_ms": cpu * 1e3, "wall_ms": median(walls) * 1e3, "walls_ms": [w * 1e3 for w in walls],
            "rss_kib": status_kb(p.pid, "VmRSS"), "hwm_kib": status_kb(p.pid, "VmHWM"),
            "anon_kib": status_kb(p.pid, "RssAnon"), "pss_kib": rollup_kb(p.pid, "Pss"),
            "body_bytes": len(body), "groups": groups, "failed_scrapes": failures,
        }
    finally:
        stop(p)
        logf.close()


# ---- 4: our daemon -------------------------------------------------------------------------------

class Daemon:
    def __init__(self, workdir, name, *args, pin=None):
        self.logpath = os.path.join(workdir, f"{name}.log")
        self.logf = open(self.logpath, "w")
        pinned = [shutil.which("taskset"), "-c", pin] if pin else []
        self.p = spawn([*pinned, DAEMON, "--web.listen-address", "127.0.0.1:0", *args],
                       stdout=self.logf, stderr=subprocess.STDOUT)
        self.addr = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with open(self.logpath, errors="replace") as f:
                text = f.read()
            m = re.search(r"listening on (\S+)", text)
            if m and "ready" in text:
                self.addr = m.group(1)
                return
            if self.p.poll() is not None:
                raise RuntimeError(f"daemon exited: {text}")
            time.sleep(0.05)
        raise RuntimeError("daemon not ready")

    def url(self):
        return f"http://{self.addr}/metrics"

    def scrape_like_prometheus(self):
        req = urllib.request.Request(self.url(), headers={"Accept": PROMETHEUS_ACCEPT,
                                                          "Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read()

    def cycles_done(self):
        body = gzip.decompress(self.scrape_like_prometheus())
        return int(re.search(rb"^procmem_collect_cycles_total (\d+)", body, re.M).group(1))

    def wait_cycles(self, n, interval_s):
        """Scrapes once per cycle, as Prometheus would (so the daemon renders what a real
        deployment renders: OpenMetrics, gzip), until n cycles are done; returns the text."""
        deadline = time.monotonic() + n * interval_s * 4 + 60
        while time.monotonic() < deadline:
            body = gzip.decompress(self.scrape_like_prometheus())
            m = re.search(rb"^procmem_collect_cycles_total (\d+)", body, re.M)
            if int(m.group(1)) >= n:
                return body
            time.sleep(interval_s)
        raise RuntimeError(f"fewer than {n} cycles")

    def close(self):
        stop(self.p)
        self.logf.close()


def parse_duration(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", s)
    v = float(m.group(1))
    return v * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def run_wrk(d, seconds, gzip):
    args = [WRK, "-t1", "-c1", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if gzip:
        args += ["-H", "Accept-Encoding: gzip"]
    c0 = thread_cpu_ns(d.p.pid)
    out = subprocess.run(args + [d.url()], capture_output=True, text=True, timeout=seconds + 60)
    c1 = thread_cpu_ns(d.p.pid)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr}")
    text = out.stdout
    req = int(re.search(r"(\d+) requests in", text).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", text, re.M))
    return {
        "gzip": gzip, "requests": req,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50_ms": parse_duration(lat["50"]) * 1e3, "p99_ms": parse_duration(lat["99"]) * 1e3,
        # the HTTP thread's CPU (schedstat) per request; the collector thread is the main one
        "server_cpu_us": (c1 - c0) / 1e3 / req if req else None,
    }


def run_curl(d, n, gzip):
    fmt = "%{time_pretransfer} %{time_starttransfer} %{time_total} %{size_download}\n"
    args = [CURL, "-s", "-o", "/dev/null", "-w", fmt]
    if gzip:
        args += ["-H", "Accept-Encoding: gzip"]
    ttfb, total, size = [], [], 0
    for _ in range(n):
        out = subprocess.run(args + [d.url()], capture_output=True, text=True, timeout=60)
        pre, start, tot, size = out.stdout.split()
        ttfb.append((float(start) - float(pre)) * 1e3)
        total.append(float(tot) * 1e3)
    return {"gzip": gzip, "ttfb_ms": median(ttfb), "total_ms": median(total), "bytes": int(size)}


def run_daemon(workdir, full_wall_ms, cycles, wrk_seconds, curl_n):
    # an interval comfortably longer than a cycle, so cycles run back to back with some rest
    interval = max(0.2, round(2.5 * full_wall_ms / 1e3, 1))
    res = {"interval_s": interval}
    d = Daemon(workdir, "daemon-top0", "--interval", f"{int(interval * 1000)}ms", "--smaps", "full",
               "--top", "0", "--detail-top", "0", "--smaps-budget", "0")
    try:
        body = d.wait_cycles(cycles, interval)
        res.update(memory(d.p.pid, "top0"))
        res["series"] = sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))
        res["body_bytes"] = len(body)
        if WRK:
            res["wrk"] = [run_wrk(d, wrk_seconds, False), run_wrk(d, wrk_seconds, True)]
        if CURL:
            res["curl"] = [run_curl(d, curl_n, False), run_curl(d, curl_n, True)]
        res["top0_rss_after_scrapes_kib"] = status_kb(d.p.pid, "VmRSS")
    finally:
        d.close()
    d = Daemon(workdir, "daemon-default", "--interval", f"{int(interval * 1000)}ms",
               "--smaps-budget", "0")
    try:
        d.wait_cycles(2, interval)
        c0, n0 = main_thread_ns(d.p.pid), d.cycles_done()
        d.wait_cycles(max(cycles, n0 + 3), interval)
        c1, n1 = main_thread_ns(d.p.pid), d.cycles_done()
        res.update(memory(d.p.pid, "default"))
        # the collector thread's whole cost per cycle: collection, rendering, gzip, publishing
        res["default_cycle_cpu_ms"] = (c1 - c0) / 1e6 / (n1 - n0) if n1 > n0 else None
    finally:
        d.close()
    return res


# ---- 5: the steady state: the daemon at its defaults, over a load that changes ----------------

def daemon_cycle_cost(d, interval, warmup, cycles):
    """The collector thread's CPU per cycle over `cycles` cycles after `warmup`, scraping once a
    cycle like Prometheus; with the full-mode self metrics of each measured cycle."""
    d.wait_cycles(warmup, interval)
    c0, n0 = main_thread_ns(d.p.pid), d.cycles_done()
    per_cycle = []
    n = n0
    while n < n0 + cycles:
        body = d.wait_cycles(n + 1, interval / 4)
        n = int(re.search(rb"^procmem_collect_cycles_total (\d+)", body, re.M).group(1))
        got = {k.decode(): float(v) for k, v in re.findall(
            rb"^(procmem_smaps_full_reads|procmem_smaps_carried_processes|"
            rb"procmem_smaps_carried_max_age_seconds|procmem_collect_duration_seconds) (\S+)$", body, re.M)}
        per_cycle.append(got)
    c1 = main_thread_ns(d.p.pid)
    return {"cycle_cpu_ms": (c1 - c0) / 1e6 / (n - n0), "cycles": n - n0, "per_cycle": per_cycle,
            **memory(d.p.pid, "daemon")}


def run_steady(work, n, m, pcts, interval, cycles, reps):
    """Per share of changing processes: the floors (procmem_bench, rollup and full, every
    process read in full) and the daemon at its defaults. Once per point: the daemon in rollup
    mode and in full mode reading every process in full every cycle (--smaps-max-age 1s: what
    full mode cost before issue 12). Ages scale with --steady-interval so that they stay the
    defaults' multiples of it (min-age 4 intervals, max-age 120); at 15 s they are the defaults."""
    ms = int(interval * 1000)
    ages = ["--smaps-min-age", f"{4 * ms}ms", "--smaps-max-age", f"{120 * ms}ms"]
    res = {"n": n, "m": m, "interval_s": interval, "cycles": cycles, "pcts": []}
    for pct in pcts:
        log(f"steady {n}x{m}: {pct}% changing every {interval} s")
        with Load(n, m, pct, ms) as load:
            time.sleep(interval)  # every changing child has stepped at least once
            procs, maps = machine_counts()
            r = {"pct": pct, "machine_processes": procs, "mappings": maps, "loadavg": os.getloadavg()}
            collect, _ = run_collection(reps, 0, modes="rollup,full")
            r["floor_rollup_cpu_ms"] = collect["rollup"]["floor_cpu_ms"]
            r["floor_full_cpu_ms"] = collect["full"]["floor_cpu_ms"]
            r["ours_full_every_cycle_cpu_ms"] = collect["full"]["ours_cpu_ms"]
            d = Daemon(work, f"steady-{pct}", "--interval", f"{ms}ms", *ages)
            try:
                # warm-up: past min-age (4 cycles) plus the first cycle's reads of everything
                r["defaults"] = daemon_cycle_cost(d, interval, 6, cycles)
            finally:
                d.close()
            if pct == pcts[0]:
                for name, args in (("rollup", ["--smaps", "rollup"]),
                                   ("full_every_cycle", ["--smaps-max-age", "1s"])):
                    d = Daemon(work, f"steady-{name}", "--interval", f"{ms}ms", *ages[:2], *args)
                    try:
                        res[name] = daemon_cycle_cost(d, interval, 2, cycles)
                    finally:
                        d.close()
            r["loadavg_end"] = os.getloadavg()
        res["pcts"].append(r)
    return res


# ---- 6: the stall a reader inflicts on a busy process -------------------------------------------

def run_stall(work, mappings, seconds, interval):
    """p99 and p99.9 of an mmap/munmap loop in a process of `mappings` mappings pinned to CPU 0,
    the reader pinned to CPU 1: unwatched; the daemon at its defaults, in rollup mode, and
    reading every process in full every cycle (before issue 12), each with --interval `interval`;
    process-exporter -gather-smaps scraped every `interval`."""
    taskset = shutil.which("taskset")
    if not taskset or os.cpu_count() < 2:
        log("stall: needs taskset and two CPUs: left out")
        return None
    p = spawn([taskset, "-c", "0", STALL, "-m", str(mappings)], stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("stall helper did not start")

        def measure():
            p.stdin.write(f"{seconds}\n")
            p.stdin.flush()
            return json.loads(p.stdout.readline())

        ms = int(interval * 1000)
        res = {"mappings": mappings, "seconds": seconds, "interval_s": interval,
               "loadavg_start": os.getloadavg(), "runs": []}
        res["runs"].append({"reader": "unwatched", **measure()})
        for name, args in (("defaults", []), ("rollup", ["--smaps", "rollup"]),
                           ("full every cycle", ["--smaps-max-age", "1s"])):
            log(f"stall: {name}")
            d = Daemon(work, f"stall-{name.replace(' ', '-')}", "--interval", f"{ms}ms", *args,
                       pin="1")
            try:
                d.wait_cycles(1, interval)  # the first cycle reads every process in full: not measured
                res["runs"].append({"reader": f"procmem_exporter {name}", **measure()})
            finally:
                d.close()
        if PE:
            log("stall: process-exporter -gather-smaps")
            res["runs"].append({"reader": "process-exporter -gather-smaps",
                                **stall_under_pe(work, interval, measure)})
        res["loadavg_end"] = os.getloadavg()
        return res
    finally:
        p.stdin.close()
        stop(p)


def stall_under_pe(work, interval, measure):
    pe, url, logf = start_process_exporter(work, "process-exporter-stall", True, pin="1")
    stop_scraping = []
    try:
        def scrape():
            while not stop_scraping:
                try:
                    http_get(url)
                except OSError:
                    pass
                time.sleep(interval)
        th = threading.Thread(target=scrape, daemon=True)
        th.start()
        try:
            return measure()
        finally:
            stop_scraping.append(True)
            th.join(timeout=interval + 120)
    finally:
        stop(pe)
        logf.close()


# ---- the tables ----------------------------------------------------------------------------------

def fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def table(title, header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    lines = [f"\n{title}\n", "| " + " | ".join(str(h).rjust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def linear_fit(xs, ys):
    """Least squares y = a + b x; returns (a, b, r2)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss = sum((y - my) ** 2 for y in ys)
    r2 = 1 - sum((y - a - b * x) ** 2 for x, y in zip(xs, ys)) / ss if ss else 1.0
    return a, b, r2


def report(results):
    pts = results["points"]
    out = []
    if not pts:  # --points '': the scenarios only
        return report_scenarios(results, out)
    rows = []
    for p in pts:
        for mode in MODES:
            c = p["collect"][mode]
            n = c["processes"]
            rows.append([p["n"], p["m"], n, p["mappings"], mode, fmt(c["floor_cpu_ms"], ".2f"),
                         fmt(c["floor_wall_ms"], ".2f"),
                         fmt(c["ours_cpu_ms"], ".2f"), fmt(c["ours_wall_ms"], ".2f"),
                         fmt(c["ratio"], ".3f"), fmt(c["ratio_pairs_max"], ".3f"),
                         fmt(c["ours_cpu_ms"] * 1e3 / n if n else None, ".1f"),
                         fmt((c["ours_cpu_ms"] - c["floor_cpu_ms"]) * 1e3 / n if n else None, ".2f")])
    out.append(table("Collection cycle: CPU (user+sys) and wall per cycle, medians of interleaved "
                     "floor/ours pairs", ["N", "M", "procs", "mappings", "mode", "floor CPU ms",
                                          "floor wall ms", "ours CPU ms", "ours wall ms", "ours/floor",
                                          "worst pair", "ours us/proc", "overhead us/proc"], rows))

    rows = []
    notes = []
    for p in pts:
        pe = {e["gather_smaps"]: e for e in p.get("process_exporter", [])}
        if not pe:
            continue
        c = p["collect"]
        ps, pn = pe.get(True), pe.get(False)
        r = render_top(p, 0)
        full_render = c["full"]["ours_cpu_ms"] + r["text"]["cpu_ns"] / 1e6
        rows.append([p["n"], p["m"], fmt(pn and pn["cpu_ms"]), fmt(pn and pn["wall_ms"]),
                     fmt(ps and ps["cpu_ms"]), fmt(ps and ps["wall_ms"]),
                     f"{ps['rss_kib'] / 1024:.1f} ({ps['anon_kib'] / 1024:.1f})" if ps else "-",
                     fmt(c["rollup"]["ours_cpu_ms"]),
                     fmt(ps and c["rollup"]["ours_cpu_ms"] / ps["cpu_ms"], ".2f"),
                     fmt(ps and c["rollup"]["floor_cpu_ms"] / ps["cpu_ms"], ".2f"),
                     fmt(c["full"]["ours_cpu_ms"]),
                     fmt(ps and c["full"]["ours_cpu_ms"] / ps["cpu_ms"], ".2f"),
                     fmt(ps and c["full"]["floor_cpu_ms"] / ps["cpu_ms"], ".2f"),
                     fmt(ps and full_render / ps["cpu_ms"], ".2f")])
    for p in pts:
        for e in p.get("process_exporter", []):
            if e.get("failed_scrapes"):
                notes.append(f"{p['n']}x{p['m']}: process-exporter -gather-smaps={e['gather_smaps']}: "
                             f"{len(e['failed_scrapes'])} of {e['scrapes']} scrapes failed "
                             f"({e['failed_scrapes'][0]}); CPU is per attempt, wall per success")
        for e in p.get("process_exporter_errors", []):
            notes.append(f"{p['n']}x{p['m']}: process-exporter -gather-smaps={e['gather_smaps']} "
                         f"not measured: {e['error'][:300]}")
    if rows:
        out.append(table("process-exporter (Debian, -threads=false, every process grouped by comm) "
                         "per scrape vs our cycle, same load",
                         ["N", "M", "PE CPU ms", "PE wall ms", "PE+smaps CPU ms", "PE+smaps wall ms",
                          "PE+smaps RSS (anon) MiB", "ours rollup CPU ms", "rollup/PE+smaps",
                          "floor rollup/PE+smaps",
                          "ours full CPU ms", "full/PE+smaps", "floor full/PE+smaps",
                          "(full+render)/PE+smaps"], rows))
    out.extend(notes)

    rows = []
    for p in pts:
        d = p.get("daemon")
        if not d:
            continue
        w = {x["gzip"]: x for x in d.get("wrk", [])}
        cu = {x["gzip"]: x for x in d.get("curl", [])}
        rows.append([p["n"], p["m"], fmt(d.get("default_cycle_cpu_ms")), d["series"],
                     fmt(d["body_bytes"] / 1e6, ".2f"),
                     f"{d['default_rss_kib'] / 1024:.1f} ({d['default_anon_kib'] / 1024:.1f}, "
                     f"{d['default_pss_kib'] / 1024:.1f})", fmt(d["default_hwm_kib"] / 1024),
                     f"{d['top0_rss_kib'] / 1024:.1f} ({d['top0_anon_kib'] / 1024:.1f}, "
                     f"{d['top0_pss_kib'] / 1024:.1f})",
                     fmt(d["top0_hwm_kib"] / 1024),
                     fmt(w[False]["rps"], ".0f") if w else "-",
                     fmt(w[False]["p50_ms"], ".2f") if w else "-",
                     fmt(w[False]["p99_ms"], ".2f") if w else "-",
                     fmt(w[False]["server_cpu_us"], ".0f") if w else "-",
                     fmt(cu[False]["ttfb_ms"], ".3f") if cu else "-",
                     fmt(w[True]["rps"], ".0f") if w else "-",
                     fmt(w[True]["p50_ms"], ".3f") if w else "-",
                     fmt(w[True]["server_cpu_us"], ".0f") if w else "-",
                     fmt(cu[True]["ttfb_ms"], ".3f") if cu else "-"])
    if rows:
        out.append(table("Daemon (full mode, no smaps budget): collector thread CPU per cycle "
                         "(collection + rendering + gzip, default settings); resident memory after "
                         "ten cycles scraped as Prometheus does (default settings, and --top 0); "
                         "/metrics served while collection runs (--top 0: every process's series, "
                         "wrk -t1 -c1; server CPU = the HTTP thread's schedstat per request; "
                         "TTFB = curl time_starttransfer - time_pretransfer)",
                         ["N", "M", "cycle CPU ms default", "series top0", "body MB top0",
                          "RSS (anon, PSS) MiB default", "HWM MiB default",
                          "RSS (anon, PSS) MiB top0",
                          "HWM MiB top0", "req/s", "p50 ms", "p99 ms", "server CPU us/req",
                          "TTFB ms", "gzip req/s", "gzip p50 ms", "gzip server CPU us/req",
                          "gzip TTFB ms"], rows))

    rows = []
    for p in pts:
        for r in p["render"]:
            gz = {g["level"]: g for g in r["gzip"]}
            rows.append([p["n"], p["m"], r["top"], r["exported"], fmt(r["text"]["bytes"] / 1e6, ".3f"),
                         fmt(r["text"]["cpu_ns"] / 1e6, ".2f"), fmt(r["openmetrics"]["cpu_ns"] / 1e6, ".2f")] +
                        [f"{gz[lv]['bytes'] / 1e3:.1f}k/{gz[lv]['cpu_ns'] / 1e6:.2f}" for lv in (1, 2, 3, 4, 6, 9)])
    out.append(table("Rendering (--top 100, the default, and --top 0, every process) and gzip of the "
                     "text: compressed size / CPU ms per level",
                     ["N", "M", "top", "exported", "text MB", "text ms", "OpenMetrics ms", "gz1", "gz2",
                      "gz3", "gz4", "gz6", "gz9"], rows))
    rows = []
    for lv in range(1, 10):
        size = cpu = size1 = cpu1 = 0
        for p in pts:
            for r in p["render"]:
                gz = {g["level"]: g for g in r["gzip"]}
                size += gz[lv]["bytes"]
                cpu += gz[lv]["cpu_ns"]
                size1 += gz[1]["bytes"]
                cpu1 += gz[1]["cpu_ns"]
        rows.append([lv, fmt(size / size1, ".3f"), fmt(cpu / cpu1, ".2f")])
    out.append(table("gzip levels summed over every rendering above, relative to level 1",
                     ["level", "bytes", "CPU"], rows))

    fits = results.get("fits")
    if fits:
        rows = []
        for f in fits:
            rows.append([f["what"], f["mode"], f["side"], fmt(f["slope_us"], ".2f"),
                         fmt(f["intercept_ms"], ".2f"), fmt(f["r2"], ".4f")])
        out.append(table("Linearity: CPU per cycle = a + b x over the sweep points",
                         ["x", "mode", "side", "b us per x", "a ms", "R^2"], rows))
    return report_scenarios(results, out)


def report_scenarios(results, out):
    if results.get("steady"):
        out.append(report_steady(results["steady"]))
    if results.get("stall"):
        out.append(report_stall(results["stall"]))
    if results.get("churn"):
        out.append("\n" + results["churn"]["table"])
    out.append("\n" + "\n".join(results["targets"]))
    return "\n".join(out)


def report_steady(st):
    rows = []
    rollup, full = st.get("rollup"), st.get("full_every_cycle")
    for r in st["pcts"]:
        d = r["defaults"]
        reads = [c.get("procmem_smaps_full_reads", 0) for c in d["per_cycle"]]
        carried = [c.get("procmem_smaps_carried_processes", 0) for c in d["per_cycle"]]
        age = max((c.get("procmem_smaps_carried_max_age_seconds", 0) for c in d["per_cycle"]), default=0)
        rows.append([r["pct"], r["machine_processes"], r["mappings"], f"{r['loadavg'][0]:.1f}",
                     fmt(r["floor_rollup_cpu_ms"]), fmt(r["floor_full_cpu_ms"]),
                     fmt(d["cycle_cpu_ms"]), fmt(d["cycle_cpu_ms"] / r["floor_rollup_cpu_ms"], ".2f"),
                     fmt(d["cycle_cpu_ms"] / rollup["cycle_cpu_ms"], ".2f") if rollup else "-",
                     fmt(d["cycle_cpu_ms"] / full["cycle_cpu_ms"], ".2f") if full else "-",
                     f"{statistics.mean(reads):.0f}", f"{statistics.mean(carried):.0f}", f"{age:.0f}",
                     fmt(d["daemon_rss_kib"] / 1024)])
    out = [table(f"Steady state at {st['n']}x{st['m']}: the daemon at its defaults (interval "
                 f"{st['interval_s']} s, min-age 4 and max-age 120 intervals), collector CPU per cycle "
                 f"over {st['cycles']} cycles after warm-up; floors from procmem_bench in the same run",
                 ["% changing", "procs", "mappings", "load", "rollup floor ms", "full floor ms",
                  "defaults ms", "/ rollup floor", "/ daemon rollup", "/ full every cycle",
                  "full reads/cycle", "carried/cycle", "oldest carried s", "RSS MiB"], rows)]
    if rollup and full:
        out.append(f"daemon --smaps rollup: {rollup['cycle_cpu_ms']:.1f} ms per cycle; full mode reading "
                   f"every process every cycle (--smaps-max-age 1s, what full mode cost before issue 12): "
                   f"{full['cycle_cpu_ms']:.1f} ms")
    return "\n".join(out)


def report_stall(sl):
    rows = [[r["reader"], r["iterations"], fmt(r["p50_us"]), fmt(r["p99_us"]), fmt(r["p999_us"]),
             fmt(r["max_us"])] for r in sl["runs"]]
    return table(f"Stall: an mmap/munmap loop in a process of {sl['mappings']} mappings pinned to CPU 0, "
                 f"the reader pinned to CPU 1, {sl['seconds']} s each, interval {sl['interval_s']} s "
                 f"(load {sl['loadavg_start'][0]:.1f} at the start, {sl['loadavg_end'][0]:.1f} at the end)",
                 ["reader", "iterations", "p50 us", "p99 us", "p99.9 us", "max us"], rows)


def render_top(p, top):
    return next(r for r in p["render"] if r["top"] == top)


def fits(pts):
    res = []
    sweeps = [("process", lambda p: p["m"] == 40, lambda p, mode: p["collect"][mode]["processes"]),
              ("mapping", lambda p: p["n"] == 100, lambda p, mode: p["mappings"])]
    for what, sel, xf in sweeps:
        chosen = [p for p in pts if sel(p)]
        if len(chosen) < 3:
            continue
        for mode in MODES:
            for side in ("floor", "ours"):
                xs = [xf(p, mode) for p in chosen]
                ys = [p["collect"][mode][f"{side}_cpu_ms"] for p in chosen]
                f = linear_fit(xs, ys)
                if f:
                    res.append({"what": what, "mode": mode, "side": side, "slope_us": f[1] * 1e3,
                                "intercept_ms": f[0], "r2": f[2],
                                "points": list(zip(xs, ys))})
    return res


def targets(pts):
    t = []

    def say(ok, text):
        t.append(f"{'MET   ' if ok else 'MISSED'} {text}")

    if not pts:
        return t
    worst = max(((p["collect"][m]["ratio"], p["n"], p["m"], m) for p in pts for m in MODES))
    say(worst[0] <= 1.25, f"CPU per cycle within 1.25x of the floor in every mode: worst "
        f"{worst[0]:.3f} ({worst[3]} at {worst[1]}x{worst[2]})")
    for p in pts:
        pe = {e["gather_smaps"]: e for e in p.get("process_exporter", [])}
        if True not in pe:
            continue
        ps = pe[True]["cpu_ms"]
        c = p["collect"]
        r = c["rollup"]["ours_cpu_ms"] / ps
        f = c["full"]["ours_cpu_ms"] / ps
        # process-exporter -gather-smaps reads smaps_rollup, never smaps: where the kernel's own
        # cost of our reads (the floor) is already past the target, no reader can meet it
        say(r <= 0.3, f"{p['n']}x{p['m']}: rollup at most 0.3x process-exporter+smaps CPU per scrape: "
            f"{r:.2f} (the floor alone: {c['rollup']['floor_cpu_ms'] / ps:.2f})")
        say(f <= 1.0, f"{p['n']}x{p['m']}: full no more than process-exporter+smaps: {f:.2f} "
            f"(the floor alone: {c['full']['floor_cpu_ms'] / ps:.2f})")
    for p in pts:
        d = p.get("daemon")
        if d and p["n"] == 1000:
            say(d["top0_rss_kib"] < 8 * 1024 and d["default_rss_kib"] < 8 * 1024,
                f"{p['n']}x{p['m']}: daemon RSS under 8 MiB: default {d['default_rss_kib'] / 1024:.1f} MiB, "
                f"--top 0 {d['top0_rss_kib'] / 1024:.1f} MiB")
            w = {x["gzip"]: x for x in d.get("wrk", [])}
            if w:
                say(w[False]["server_cpu_us"] < 1000,
                    f"{p['n']}x{p['m']}: scrape of every process's series under 1 ms of server time: "
                    f"{w[False]['server_cpu_us']:.0f} us plain ({d['body_bytes'] / 1e6:.1f} MB), "
                    f"{w[True]['server_cpu_us']:.0f} us gzip")
    rss = sorted((p["collect"]["full"]["processes"], p["daemon"]["default_rss_kib"], p["daemon"]["top0_rss_kib"])
                 for p in pts if p.get("daemon") and p["m"] == 40)
    if len(rss) >= 2:
        (n0, d0, t0), (n1, d1, t1) = rss[0], rss[-1]
        say(d1 / d0 < n1 / n0, f"daemon RSS grows less than linearly (default settings): "
            f"{d0 / 1024:.1f} -> {d1 / 1024:.1f} MiB for {n0} -> {n1} processes")
        t.append(f"       with --top 0 (every process's series cached): {t0 / 1024:.1f} -> {t1 / 1024:.1f} MiB")
    return t


def targets_steady(st, sl):
    t = []

    def say(ok, text):
        t.append(f"{'MET   ' if ok else 'MISSED'} {text}")

    if st:
        full = st.get("full_every_cycle")
        for r in st["pcts"]:
            d, fl = r["defaults"]["cycle_cpu_ms"], r["floor_rollup_cpu_ms"]
            if r["pct"] == 0:
                say(d <= 1.15 * fl, f"steady {st['n']}x{st['m']}, 0% changing: at most 1.15x the rollup floor: {d / fl:.2f}")
            elif r["pct"] == 10:
                say(d <= 1.3 * fl, f"steady {st['n']}x{st['m']}, 10% changing: at most 1.3x the rollup floor: {d / fl:.2f}")
            elif r["pct"] == 100 and full:
                f = full["cycle_cpu_ms"]
                say(d <= 0.4 * f, f"steady {st['n']}x{st['m']}, 100% changing: at most 0.4x full mode "
                    f"reading everything every cycle: {d / f:.2f}")
    if sl:
        runs = {r["reader"]: r for r in sl["runs"]}
        u, dflt = runs.get("unwatched"), runs.get("procmem_exporter defaults")
        if u and dflt:
            say(dflt["p999_us"] <= 1.3 * u["p999_us"], f"stall at defaults: p99.9 within 1.3x unwatched: "
                f"{dflt['p999_us']:.0f} us vs {u['p999_us']:.0f} us ({dflt['p999_us'] / u['p999_us']:.2f})")
    return t


def run_churn(work, quick, minutes):
    """bench/churn.py, as a program of its own (it runs hosts in pid namespaces); its figures
    and its tables."""
    path = os.path.join(work, "churn.json")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "churn.py"), "--json", path,
                          "--minutes", str(minutes), *(["--quick"] if quick else [])],
                         stdout=subprocess.PIPE, text=True, timeout=3 * 3600)
    if out.returncode != 0:
        raise RuntimeError(f"bench/churn.py failed (exit {out.returncode})")
    with open(path) as f:
        res = json.load(f)
    res["table"] = out.stdout.rsplit("\nJSON:", 1)[0]
    return res


def print_header(results):
    print(f"procmem_exporter benchmark, {results['date']}, {results['host']['cpus']} CPUs "
          f"({results['host']['cpu']}), {results['host']['mem_total_kib'] / 1048576:.0f} GiB, "
          f"kernel {results['host']['kernel']}, commit {results['commit']}")
    print(f"command: {results['command']}; load average at start "
          f"{' '.join(f'{x:.2f}' for x in results['host']['loadavg_start'])}, at end "
          f"{' '.join(f'{x:.2f}' for x in results['host']['loadavg_end'])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", help=f"NxM,... (default {DEFAULT_POINTS})")
    ap.add_argument("--reps", type=int, help="interleaved floor/ours pairs per mode (default 10)")
    ap.add_argument("--pe-scrapes", type=int, help="process-exporter scrapes (default 10)")
    ap.add_argument("--cycles", type=int, help="daemon cycles before measuring memory (default 10)")
    ap.add_argument("--wrk-seconds", type=int, help="default 3")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"),
                    help="directory for the JSON copy (default bench/results)")
    ap.add_argument("--quick", action="store_true", help="one tiny point, few repetitions (smoke run)")
    ap.add_argument("--no-pe", action="store_true", help="leave out process-exporter")
    ap.add_argument("--steady", metavar="NxM", help="the steady-state point (default 2000x400; "
                    "'' leaves the scenario out)")
    ap.add_argument("--steady-pcts", help="shares of processes changing (default 0,10,100)")
    ap.add_argument("--steady-interval", type=float, help="daemon interval, seconds (default 15: the "
                    "default; ages scale with it)")
    ap.add_argument("--steady-cycles", type=int, help="cycles measured per share (default 8)")
    ap.add_argument("--stall-seconds", type=float, help="per reader (default 60; 0 leaves the stall out)")
    ap.add_argument("--stall-interval", type=float, help="daemon and scrape interval in the stall "
                    "measurement (default 5)")
    ap.add_argument("--stall-mappings", type=int, default=10000, help="default 10000")
    ap.add_argument("--churn-minutes", type=float, default=5.0,
                    help="bench/churn.py's measured minutes per scenario (default 5; 0 leaves it out)")
    ap.add_argument("--report", metavar="JSON",
                    help="measure nothing: print the tables of an earlier run's JSON again")
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            results = json.load(f)
        results["fits"] = fits(results["points"])
        results["targets"] = targets(results["points"]) + targets_steady(results.get("steady"),
                                                                          results.get("stall"))
        print_header(results)
        print(report(results))
        return
    q = a.quick
    points = a.points if a.points is not None else (QUICK_POINTS if q else DEFAULT_POINTS)
    reps = a.reps or (2 if q else 10)
    pe_scrapes = a.pe_scrapes or (2 if q else 10)
    cycles = a.cycles or (3 if q else 10)
    wrk_seconds = a.wrk_seconds or (1 if q else 3)
    for path in (BENCH, LOADGEN, DAEMON, STALL):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench: {path} missing: run `make bench-build`")
    if not PE and not a.no_pe:
        log("prometheus-process-exporter not installed (tools/deps.sh bench): leaving it out")
    if not WRK:
        log("wrk not installed: scrape throughput left out")

    work = tempdir()
    results = {
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "loadavg_start": os.getloadavg()},
        "points": [],
    }
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        results["host"]["cpu"] = m.group(1) if m else "?"
    results["host"]["mem_total_kib"] = status_like_kb("/proc/meminfo", "MemTotal")
    results["commit"] = git_commit()
    for spec in filter(None, points.split(",")):
        n, m = (int(x) for x in spec.lower().split("x"))
        log(f"point {n}x{m}: starting the load")
        with Load(n, m) as load:
            procs, maps = machine_counts()
            pt = {"n": n, "m": m, "machine_processes": procs, "mappings": maps,
                  "loadavg": os.getloadavg(), "load_pids": load.pids}
            log(f"point {n}x{m}: {procs} processes, {maps} mappings; collection")
            pt["collect"], pt["render"] = run_collection(reps, 2 if q else 3)
            if PE and not a.no_pe:
                log(f"point {n}x{m}: process-exporter")
                pt["process_exporter"] = []
                for smaps in (False, True):
                    try:
                        pt["process_exporter"].append(run_process_exporter(smaps, pe_scrapes, work))
                    except RuntimeError as e:  # theirs, not ours: report it, go on measuring
                        log(f"point {n}x{m}: process-exporter -gather-smaps={smaps}: {e}")
                        pt.setdefault("process_exporter_errors", []).append(
                            {"gather_smaps": smaps, "error": str(e)})
            log(f"point {n}x{m}: daemon")
            pt["daemon"] = run_daemon(work, pt["collect"]["full"]["ours_wall_ms"], cycles,
                                      wrk_seconds, 3 if q else 20)
            pt["loadavg_end"] = os.getloadavg()
        results["points"].append(pt)
    # --quick: the scenarios' code paths in seconds, not measurements
    steady = a.steady if a.steady is not None else ("20x8" if q else "2000x400")
    if steady:
        n, m = (int(x) for x in steady.lower().split("x"))
        pcts = a.steady_pcts if a.steady_pcts else ("0,100" if q else "0,10,100")
        results["steady"] = run_steady(work, n, m, [int(x) for x in pcts.split(",")],
                                       a.steady_interval or (0.3 if q else 15.0),
                                       a.steady_cycles or (1 if q else 8), 2 if q else 5)
    stall_s = a.stall_seconds if a.stall_seconds is not None else (0.3 if q else 60.0)
    if stall_s:
        results["stall"] = run_stall(work, 1000 if q else a.stall_mappings, stall_s,
                                     a.stall_interval or (0.2 if q else 5.0))
    if a.churn_minutes:
        results["churn"] = run_churn(work, q, a.churn_minutes)
    results["host"]["loadavg_end"] = os.getloadavg()
    results["fits"] = fits(results["points"])
    results["targets"] = targets(results["points"]) + targets_steady(results.get("steady"),
                                                                      results.get("stall"))

    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"bench-{time.strftime('%Y%m%d-%H%M%S')}")
    with open(stem + ".json", "w") as f:  # first: a run is never lost to a bug in the report
        json.dump(results, f, indent=1)
    text = report(results)
    print_header(results)
    print(text)
    results["table"] = text
    with open(stem + ".json", "w") as f:
        json.dump(results, f, indent=1)
    with open(stem + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        w.writerows(csv_rows(results))
    shown = os.path.relpath(stem, ROOT) if stem.startswith(ROOT) else stem
    print(f"\nJSON: {shown}.json\nCSV:  {shown}.csv")


if __name__ == "__main__":
    main()
