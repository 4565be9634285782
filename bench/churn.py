#!/usr/bin/env python3
"""bench/churn.py — what one host's procmem_exporter costs the Prometheus that scrapes it.

    python3 bench/churn.py                 # the whole measurement (about 30 minutes on 2 cores)
    python3 bench/churn.py --quick         # the code paths in seconds, no figures (make check)
    python3 bench/churn.py --scenarios cron --minutes 2 --variants before,defaults

`make bench` runs it after bench/run.py's grid (run.py --churn '' leaves it out). Each "host" is
a pid namespace of its own (unshare --pid --fork --mount-proc, so the daemons see its processes
and no other: the machine's other users' builds would be churn of their own), holding a load and
one daemon per setting compared (VARIANTS); Debian's prometheus runs outside it, one server per
daemon, each with its own temp storage on a free 127.0.0.1 port, so that its own counters are
that daemon's alone. Without root (or without unshare) the host is the whole machine and the
daemons get --include 'pm.*|procmem_expor.*' instead, which the output says.

1. series: bench/loadgen at --points processes (default 380, 1000, 5000: the processes the
   daemons see, loadgen's, theirs and the host's own), every daemon at --series-interval (5 s;
   the count does not depend on it) until the load is older than --top-min-age and two cycles
   more; then one scrape of each: series in all, per exported process (the summary families
   every exported process gets, the rest per process of the detail tier) and per host.
2. churn: three hosts made by bench/churnload, each scraped at the default interval (15 s) for
   --minutes (5) after a warm-up (the load older than --top-min-age, two scrapes more):
     steady  300 long-lived processes (64 KiB to 16 MiB) and 60 workers of 4 MiB that each
             draw a new size within 10% every 15 s, the cut of --top 100 among them;
     cron    300 long-lived processes and 3 short-lived ones a second (0.1 to 60 s, 1 to 32
             MiB), as a host running periodic jobs;
     build   300 long-lived processes and 200 short-lived ones a second (20 ms to 5 s, 1 to 16
             MiB), as a build machine's compilers.
   Per daemon, from its Prometheus: series per scrape (scrape_samples_scraped), new series per
   hour (prometheus_tsdb_head_series_created_total: series the head had never seen), series
   that appeared in a scrape without being in the one before (scrape_series_added: new ones and
   ones back after a gap, each of which also ended with a staleness marker), head chunks
   created and samples appended, all over the measured window and scaled to an hour.

Prints the tables and writes the figures as JSON (--json, or bench/results/churn-DATE.json).
Nothing here asserts anything: the figures are reported. Everything started is stopped by pid
(killing the namespace's first process kills the rest with it), also on failure or Ctrl-C.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (spawn and stop by pid, temp dirs, free ports, the daemon)

CHURNLOAD = os.path.join(bench.BUILD, "bench", "churnload")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
UNSHARE = shutil.which("unshare")
FALLBACK_INCLUDE = "pm.*|procmem_expor.*"

# The settings compared: daemon arguments, and what they stand for.
VARIANTS = {
    "all": (["--top", "0", "--detail-top", "0"], "every process, every family"),
    "before": (["--top", "100", "--detail-top", "0", "--top-min-age", "0", "--top-margin", "0"],
               "the defaults before issue 19: every family for the exact top 100"),
    "undamped": (["--top-min-age", "0", "--top-margin", "0"],
                 "the defaults' tiers without the age filter and the margin"),
    "defaults": ([], "--top 100 --detail-top 10 --top-min-age 30s --top-margin 20"),
    "lean": (["--top", "20", "--detail-top", "3", "--mapping-top", "5", "--top-min-age", "2m"],
             "--top 20 --detail-top 3 --mapping-top 5 --top-min-age 2m"),
    "patient": (["--top-min-age", "2m"], "the defaults with --top-min-age 2m"),
}
# The families every exported process gets (include/select.h); the others are the detail tier's.
SUMMARY = {"procmem_process_pss_bytes", "procmem_process_uss_bytes", "procmem_process_resident_bytes",
           "procmem_process_shared_bytes", "procmem_process_swap_bytes",
           "procmem_process_start_time_seconds", "procmem_process_info"}

SCENARIOS = {
    "steady": ["-b", "300", "-B", "64:16384", "-w", "60", "-W", "4096:10:15000"],
    "cron": ["-b", "300", "-B", "64:16384", "-r", "3", "-l", "100:60000", "-s", "1024:32768"],
    "build": ["-b", "300", "-B", "64:16384", "-r", "200", "-l", "20:5000", "-s", "1024:16384"],
}
QUICK_SCENARIO = ["-b", "30", "-B", "64:2048", "-w", "5", "-W", "1024:10:500", "-r", "20",
                  "-l", "50:2000", "-s", "256:1024"]


def log(msg):
    bench.log(f"churn: {msg}")


def isolation_works():
    if os.geteuid() != 0 or not UNSHARE:
        return False
    r = subprocess.run([UNSHARE, "--pid", "--fork", "--mount-proc", "--kill-child", "true"],
                       capture_output=True, timeout=60)
    return r.returncode == 0


# ---- the host: a load and the daemons, in a pid namespace of their own ---------------------------

def inside(spec):
    """The host's first process: starts the load and the daemons, says where they listen, waits
    for end of file on stdin, stops them by pid and says what the load reported."""
    work = bench.tempdir()
    load = bench.spawn(spec["load"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = load.stdout.readline()
    if not line.startswith("ready"):
        raise RuntimeError(f"{spec['load'][0]} failed (exit {load.wait()})")
    if os.path.basename(spec["load"][0]) == "loadgen":
        load.stdout.readline()  # its children's pids
    daemons = {name: bench.Daemon(work, name, *args) for name, args in spec["daemons"].items()}
    print(json.dumps({"daemons": {n: d.addr for n, d in daemons.items()}, "pid": os.getpid()}),
          flush=True)
    sys.stdin.read()
    for d in daemons.values():
        d.close()
    load.stdin.close()
    said = load.stdout.read().strip()
    bench.stop(load)
    print(json.dumps({"load_said": said}), flush=True)


class Host:
    def __init__(self, load, daemons, isolate):
        spec = {"load": load, "daemons": daemons}
        args = [sys.executable, os.path.abspath(__file__), "--inside", json.dumps(spec)]
        if isolate:
            args = [UNSHARE, "--pid", "--fork", "--mount-proc", "--kill-child", *args]
        self.p = bench.spawn(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"the host did not start (exit {self.p.wait()})")
        self.started = time.monotonic()
        self.addrs = json.loads(line)["daemons"]

    def age(self):
        return time.monotonic() - self.started

    def close(self):
        """Stops the host; returns what its load said at exit ("spawned N in S s")."""
        self.p.stdin.close()
        try:
            line = self.p.stdout.readline()
            self.p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            line = ""
        bench.stop(self.p)
        return json.loads(line)["load_said"] if line else None


def daemon_args(variants, interval, isolate, extra):
    out = {}
    for v in variants:
        args = extra + VARIANTS[v][0] + ["--interval", f"{interval}s"]  # the variant overrides extra
        if not isolate:
            args += ["--include", FALLBACK_INCLUDE]
        out[v] = args
    return out


def settle_s(variants, min_age, extra):
    """How long after the load starts every daemon chooses among all of it: the largest
    --top-min-age any of them has (its own, else the quick run's, else the default)."""
    def age(args):
        for flag, value in zip(args, args[1:]):
            if flag == "--top-min-age":
                m = re.fullmatch(r"([\d.]+)(ms|s|m|h)?", value)
                return float(m.group(1)) * {"ms": 1e-3, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]
        return None
    base = age(extra) if age(extra) is not None else min_age
    return max((age(VARIANTS[v][0]) if age(VARIANTS[v][0]) is not None else base) for v in variants)


def wait_until(host, seconds):
    left = seconds - host.age()
    if left > 0:
        time.sleep(left)


# ---- Debian's prometheus ------------------------------------------------------------------------

class Prometheus:
    """prometheus on a free 127.0.0.1 port, its own storage, scraping one target."""

    def __init__(self, work, name, target, interval, tries=5):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"global:\n  scrape_interval: {int(interval * 1000)}ms\n"
                    f"  scrape_timeout: {int(min(interval, 10) * 1000)}ms\n"
                    f"scrape_configs:\n  - job_name: procmem\n    static_configs:\n"
                    f"      - targets: ['{target}']\n")
        for _ in range(tries):
            self.port = bench.free_port()  # taken meanwhile by someone else: try another
            self.logpath = os.path.join(self.dir, f"prometheus-{self.port}.log")
            with open(self.logpath, "w") as logf:
                self.p = bench.spawn([PROMETHEUS, f"--config.file={config}",
                                      f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=logf, stderr=subprocess.STDOUT)
            if self._ready():
                return
            if "address already in use" not in self.log():
                raise RuntimeError(f"prometheus did not start: {self.log()[-2000:]}")
        raise RuntimeError("prometheus found no free port")

    def _ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                return False
            try:
                if bench.http_get(self.url("/-/ready"), timeout=5)[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready in {timeout} s: {self.log()[-2000:]}")

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def own(self):
        """Its own counters (from its /metrics: it does not scrape itself)."""
        _, body = bench.http_get(self.url("/metrics"), timeout=30)
        want = ("prometheus_tsdb_head_series_created_total", "prometheus_tsdb_head_series",
                "prometheus_tsdb_head_chunks_created_total", "prometheus_tsdb_head_samples_appended_total")
        got = {}
        for name, value in re.findall(rb"^([a-z_]+)(?:\{[^}]*\})? (\S+)$", body, re.M):
            name = name.decode()
            if name in want:
                got[name] = got.get(name, 0.0) + float(value)
        return got

    def query(self, q, at):
        qs = urllib.parse.urlencode({"query": q, "time": f"{at:.3f}"})
        _, body = bench.http_get(self.url(f"/api/v1/query?{qs}"), timeout=60)
        res = json.loads(body)["data"]["result"]
        return float(res[0]["value"][1]) if res else 0.0

    def close(self):
        bench.stop(self.p)


# ---- 1: series per scrape -------------------------------------------------------------------------

def count_series(text):
    """Samples of an exposition by kind: per-process series of the summary and of the detail
    families, per host; pids exported and pids with any detail family."""
    c = {"series": 0, "summary": 0, "detail": 0, "host": 0}
    pids, detailed = set(), set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        c["series"] += 1
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        if not name.startswith("procmem_process_"):
            c["host"] += 1
            continue
        pid = re.search(r'[{,]pid="(\d+)"', line).group(1)
        pids.add(pid)
        if name in SUMMARY:
            c["summary"] += 1
        else:
            c["detail"] += 1
            detailed.add(pid)
    c["processes"] = int(re.search(r"^procmem_processes (\d+)", text, re.M).group(1))
    c["exported"], c["detailed"] = len(pids), len(detailed)
    return c


def run_series(work, points, variants, interval, min_age, isolate, extra):
    res = []
    for n in points:
        # the namespace's own: its first process (this script), loadgen's parent, the daemons
        kids = max(1, n - 2 - len(variants)) if isolate else n
        log(f"series: {n} processes")
        host = Host([bench.LOADGEN, "-n", str(kids), "-m", "40"],
                    daemon_args(variants, interval, isolate, extra), isolate)
        try:
            wait_until(host, settle_s(variants, min_age, extra) + 2 * interval + 1)
            pt = {"points": n, "loadavg": os.getloadavg(), "variants": {}}
            for v, addr in host.addrs.items():
                _, body = bench.http_get(f"http://{addr}/metrics")
                pt["variants"][v] = count_series(body.decode())
        finally:
            host.close()
        res.append(pt)
    return res


# ---- 2: churn ---------------------------------------------------------------------------------

def run_scenario(work, name, load_args, variants, interval, window, min_age, isolate, extra):
    log(f"{name}: {' '.join(load_args)}; {len(variants)} daemons, each with its prometheus")
    host = Host([CHURNLOAD, *load_args], daemon_args(variants, interval, isolate, extra), isolate)
    proms = {}
    try:
        for v, addr in host.addrs.items():
            proms[v] = Prometheus(work, f"{name}-{v}", addr, interval)
        # the load older than every daemon's --top-min-age (they choose among all its processes
        # from then on), and two scrapes more
        wait_until(host, settle_s(variants, min_age, extra) + 2 * interval + 2)
        start, t0 = {v: p.own() for v, p in proms.items()}, time.time()
        la0 = os.getloadavg()
        log(f"{name}: measuring for {window:.0f} s")
        time.sleep(window)
        end, t1 = {v: p.own() for v, p in proms.items()}, time.time()
        span = t1 - t0
        per_hour = 3600 / span
        rng = f"{int(span)}s"
        sc = {"scenario": name, "load": load_args, "window_s": span, "interval_s": interval,
              "loadavg": [la0, os.getloadavg()], "variants": {}}
        for v, p in proms.items():
            d = {k: end[v].get(k, 0) - start[v].get(k, 0) for k in end[v]}
            sc["variants"][v] = {
                "series_per_scrape": p.query(f'avg_over_time(scrape_samples_scraped{{job="procmem"}}[{rng}])', t1),
                "scrapes": p.query(f'count_over_time(up{{job="procmem"}}[{rng}])', t1),
                "new_series_per_hour": d["prometheus_tsdb_head_series_created_total"] * per_hour,
                "series_added_per_hour": p.query(
                    f'sum_over_time(scrape_series_added{{job="procmem"}}[{rng}])', t1) * per_hour,
                "chunks_per_hour": d["prometheus_tsdb_head_chunks_created_total"] * per_hour,
                "samples_per_second": d["prometheus_tsdb_head_samples_appended_total"] / span,
                "head_series_end": end[v]["prometheus_tsdb_head_series"],
            }
    finally:
        for p in proms.values():
            p.close()
        said = host.close()
    m = re.match(r"spawned (\d+) in ([\d.]+) s", said or "")
    sc["spawned_per_second"] = int(m.group(1)) / float(m.group(2)) if m and float(m.group(2)) else 0.0
    return sc


# ---- the tables -----------------------------------------------------------------------------------

def fmt(v, spec=",.0f"):
    return "-" if v is None else format(v, spec)


def report(res):
    out = []
    where = ("each host a pid namespace of its own" if res["isolated"] else
             f"no pid namespace (not root, or no unshare): the daemons had --include '{FALLBACK_INCLUDE}'")
    out.append(f"Settings compared ({where}):")
    for v in res["variants"]:
        out.append(f"  {v:9} {VARIANTS[v][1]}")
    rows = []
    for pt in res.get("series", []):
        for v, c in pt["variants"].items():
            rows.append([pt["points"], v, c["processes"], c["exported"], c["detailed"], fmt(c["series"]),
                         fmt(c["summary"] + c["detail"]),
                         fmt(c["summary"] / c["exported"], ".2f") if c["exported"] else "-",
                         fmt(c["detail"] / c["detailed"], ".2f") if c["detailed"] else "-",
                         fmt(c["host"])])
    if rows:
        out.append(bench.table(
            "Series per scrape, bench/loadgen -m 40 (summary: per exported process; detail: per process "
            "of the detail tier, on top of its summary)",
            ["load", "setting", "processes", "exported", "detailed", "series", "per-process",
             "summary/proc", "detail/proc", "per host"], rows))
    rows = []
    for sc in res.get("scenarios", []):
        for v, c in sc["variants"].items():
            rows.append([sc["scenario"], fmt(sc["spawned_per_second"], ".1f"), v,
                         fmt(c["series_per_scrape"]), fmt(c["new_series_per_hour"]),
                         fmt(c["series_added_per_hour"]), fmt(c["chunks_per_hour"]),
                         fmt(c["samples_per_second"], ".1f"), fmt(c["head_series_end"])])
    if rows:
        sc0 = res["scenarios"][0]
        out.append(bench.table(
            f"Churn: one host scraped every {sc0['interval_s']} s, measured over {sc0['window_s'] / 60:.1f} "
            f"minutes after the warm-up, per hour",
            ["host", "short-lived/s", "setting", "series/scrape", "new series/h", "appeared/h",
             "chunks/h", "samples/s", "head series"], rows))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inside", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="seconds: the code paths, not figures")
    ap.add_argument("--points", help="processes for the series count (default 380,1000,5000; '' none)")
    ap.add_argument("--scenarios", help=f"of {','.join(SCENARIOS)} (default all; '' none)")
    ap.add_argument("--variants", help=f"of {','.join(VARIANTS)} (default: all but patient for "
                    "the series, all for the churn)")
    ap.add_argument("--minutes", type=float, default=5.0, help="measured per scenario (default 5)")
    ap.add_argument("--interval", type=float, default=15.0, help="scrape and cycle interval of the "
                    "churn scenarios (default 15: the default)")
    ap.add_argument("--series-interval", type=float, default=5.0, help="default 5")
    ap.add_argument("--json", help="where the figures go (default bench/results/churn-DATE.json)")
    a = ap.parse_args()
    if a.inside:
        inside(json.loads(a.inside))
        return
    for path in (CHURNLOAD, bench.LOADGEN, bench.DAEMON):
        if not os.access(path, os.X_OK):
            sys.exit(f"churn: {path} missing: run `make bench-build`")
    if not os.access(PROMETHEUS, os.X_OK):
        sys.exit("churn: Debian's prometheus is missing (tools/deps.sh bench installs it)")
    isolate = isolation_works()
    q = a.quick
    min_age, extra = 30.0, []
    if q:  # shorter ages, so that seconds show every code path
        min_age, extra = 2.0, ["--top-min-age", "2s"]
    points = a.points if a.points is not None else ("40" if q else "380,1000,5000")
    scenarios = a.scenarios if a.scenarios is not None else ("quick" if q else ",".join(SCENARIOS))
    series_variants = a.variants.split(",") if a.variants else (
        ["defaults", "all"] if q else [v for v in VARIANTS if v != "patient"])
    churn_variants = a.variants.split(",") if a.variants else (
        ["undamped", "defaults"] if q else list(VARIANTS))
    res = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "commit": bench.git_commit(),
           "isolated": isolate, "loadavg_start": os.getloadavg(),
           "variants": list(dict.fromkeys(series_variants + churn_variants)),
           "series": [], "scenarios": []}
    work = bench.tempdir()
    res["series"] = run_series(work, [int(x) for x in filter(None, points.split(","))],
                               series_variants, 1.0 if q else a.series_interval, min_age, isolate, extra)
    for name in filter(None, scenarios.split(",")):
        load = QUICK_SCENARIO if name == "quick" else SCENARIOS[name]
        interval = 1.0 if q else a.interval
        res["scenarios"].append(run_scenario(work, name, load, churn_variants, interval,
                                             4.0 if q else a.minutes * 60, min_age, isolate, extra))
    res["loadavg_end"] = os.getloadavg()
    path = a.json or os.path.join(bench.ROOT, "bench", "results", f"churn-{time.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print(report(res))
    print(f"\nJSON: {os.path.relpath(path, bench.ROOT) if path.startswith(bench.ROOT) else path}")


if __name__ == "__main__":
    main()
