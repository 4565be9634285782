#!/usr/bin/env python3
"""The benchmark driver still runs end to end: `bench/run.py --quick` (one tiny load point,
a few repetitions) must exit 0, print its tables, write its JSON and CSV with every part filled
in and the figures consistent with each other, and leave none of its load processes behind.
Timing is not checked: CI machines are noisy, and performance belongs to `make bench`.

process-exporter and wrk are optional for the driver (it leaves their parts out when they are
missing); their parts are checked when they are installed. wrk is a test dependency (small, no
service); process-exporter only a bench one (tools/deps.sh bench): its Debian package enables
and starts a system-wide service where systemd runs, not something a test run should leave."""
import csv
import glob
import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import ROOT, Test, skip, spawn, tempdir  # noqa: E402

CSV_COLUMNS = ["n", "m", "processes", "mappings", "mode",
               "floor_cpu_ms", "floor_wall_ms", "ours_cpu_ms", "ours_wall_ms",
               "ours_cpu_us_per_process", "ours_wall_us_per_process", "ratio", "ratio_pairs_max",
               "pe_cpu_ms", "pe_wall_ms", "pe_rss_kib", "pe_smaps_cpu_ms", "pe_smaps_wall_ms",
               "pe_smaps_rss_kib", "ours_over_pe_smaps",
               "daemon_default_rss_kib", "daemon_top0_rss_kib", "daemon_cycle_cpu_ms",
               "scrape_rps", "scrape_p50_ms", "scrape_p99_ms", "scrape_server_cpu_us"]

t = Test("bench/run.py --quick runs end to end")
for binary in ("build/bench/procmem_bench", "build/bench/loadgen", "build/procmem_exporter"):
    if not os.access(os.path.join(ROOT, binary), os.X_OK):
        t.fatal(f"{binary} is not built (make check-integration builds it)")
if not os.path.exists("/proc/self/smaps_rollup"):
    skip("this kernel has no smaps_rollup (the benchmark measures it)")
have_pe = shutil.which("prometheus-process-exporter") is not None
have_wrk = shutil.which("wrk") is not None

out = tempdir()
# through spawn(): killed at exit if this test fails or is stopped; SIGTERM first on a timeout,
# so the driver stops its own children (load, daemons, process-exporter) by pid
p = spawn([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--quick", "--out", out],
          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    stdout, stderr = p.communicate(timeout=300)
except subprocess.TimeoutExpired:
    p.send_signal(signal.SIGTERM)
    stdout, stderr = p.communicate(timeout=120)
    t.fatal("bench/run.py --quick did not finish in 300 s")
print(stdout)
print(stderr)
t.eq(p.returncode, 0, "the driver exits 0")
t.ok("Collection cycle" in stdout and "ours/floor" in stdout, "the collection table is printed")
t.ok("MET" in stdout or "MISSED" in stdout, "the targets are printed")

files = glob.glob(os.path.join(out, "bench-*.json"))
t.eq(len(files), 1, "one JSON copy is written under --out")
if not files:
    t.done()
with open(files[0]) as f:
    res = json.load(f)
t.ok(res["host"]["kernel"] and res["host"]["cpus"] >= 1 and res["host"]["cpu"],
     "the machine and kernel are recorded")
if os.path.exists(os.path.join(ROOT, ".git")):
    t.ok(res.get("commit") and len(res["commit"].split("-")[0]) == 40, "the commit is recorded")
else:
    print("not a git checkout: no commit to record, not checked")
t.eq(len(res["points"]), 1, "the quick run has one load point")
pt = res["points"][0]
n, m = pt["n"], pt["m"]
t.ok(pt["mappings"] >= n * m, "the load's mappings are all there")
t.eq(len(pt["load_pids"]), n, "the load had its N processes")
for mode in ("off", "rollup", "full"):
    c = pt["collect"][mode]
    raw = c["raw"]
    t.ok(c["processes"] >= n, f"{mode}: the cycle read at least the load's processes")
    t.ok(c["floor_cpu_ms"] > 0 and c["ours_cpu_ms"] > 0 and c["floor_wall_ms"] > 0
         and c["ours_wall_ms"] > 0, f"{mode}: floor and cycle were both measured")
    t.ok(abs(c["ratio"] - c["ours_cpu_ms"] / c["floor_cpu_ms"]) < 1e-9,
         f"{mode}: the ratio is ours / floor")
    t.ok(len(raw["floor"]["cpu_ns"]) == len(raw["ours"]["cpu_ns"]) >= 2,
         f"{mode}: as many floor passes as cycles (interleaved pairs)")
    # procmem_bench is single-threaded: a pass cannot use more CPU than the time it took
    # (the two clocks are read a few microseconds apart, hence the slack)
    for side in ("floor", "ours"):
        s = raw[side]
        t.ok(all(0 < cpu <= wall * 1.05 + 100000 for cpu, wall in zip(s["cpu_ns"], s["wall_ns"])),
             f"{mode} {side}: every pass's CPU time is positive and within its wall time")
    t.ok(c["floor_bytes"] > 0, f"{mode}: the floor read bytes")
off, rollup, full = (pt["collect"][x] for x in ("off", "rollup", "full"))
t.ok(off["floor_bytes"] < rollup["floor_bytes"] < full["floor_bytes"],
     "the floor reads more in rollup mode than off, more in full than rollup")
t.eq(sorted(r["top"] for r in pt["render"]), [0, 100], "rendering measured at --top 100 and 0")
for r in pt["render"]:
    t.eq([g["level"] for g in r["gzip"]], list(range(1, 10)), f"top {r['top']}: every gzip level")
    t.ok(all(0 < g["bytes"] < r["text"]["bytes"] for g in r["gzip"]),
         f"top {r['top']}: every gzip level compresses the text")
d = pt["daemon"]
t.ok(d["default_rss_kib"] > 0 and d["top0_rss_kib"] > 0, "the daemon's memory was read")
t.ok(d["default_hwm_kib"] >= d["default_rss_kib"], "the daemon's peak is at least its RSS")
t.ok(d["series"] > n, "the daemon served every process's series with --top 0")
t.ok(d["default_cycle_cpu_ms"] and d["default_cycle_cpu_ms"] > 0, "the daemon's cycle CPU was read")
if have_wrk:
    t.eq(sorted(x["gzip"] for x in d["wrk"]), [False, True], "wrk ran plain and gzip")
    t.ok(all(x["requests"] > 0 and x["server_cpu_us"] > 0 for x in d["wrk"]),
         "wrk made requests and the server's CPU per request was read")
if have_pe:
    t.eq(sorted(e["gather_smaps"] for e in pt["process_exporter"]), [False, True],
         "process-exporter ran with and without -gather-smaps")
    t.ok(all(e["groups"] > 1 for e in pt["process_exporter"]), "process-exporter grouped by comm")
    t.ok(all(e["cpu_ms"] > 0 and e["rss_kib"] > 0 for e in pt["process_exporter"]),
         "process-exporter's CPU and memory were read")
else:
    t.ok("process_exporter" not in pt, "without process-exporter its part is left out")
st = res.get("steady")
t.ok(st is not None and [r["pct"] for r in st["pcts"]] == [0, 100], "the steady-state scenario ran at 0% and 100%")
if st:
    for r in st["pcts"]:
        t.ok(r["floor_rollup_cpu_ms"] > 0 and r["defaults"]["cycle_cpu_ms"] > 0,
             f"steady {r['pct']}%: floor and the daemon's cycle were measured")
        t.ok(all("procmem_smaps_full_reads" in c for c in r["defaults"]["per_cycle"]),
             f"steady {r['pct']}%: the daemon's full-read counts were read")
    t.ok(st["rollup"]["cycle_cpu_ms"] > 0 and st["full_every_cycle"]["cycle_cpu_ms"] > 0,
         "steady: the rollup and full-every-cycle daemons were measured")
sl = res.get("stall")
if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
    readers = [r["reader"] for r in sl["runs"]] if sl else []
    want = ["unwatched", "procmem_exporter defaults", "procmem_exporter rollup",
            "procmem_exporter full every cycle"] + (["process-exporter -gather-smaps"] if have_pe else [])
    t.eq(readers, want, "the stall was measured under every reader")
    t.ok(sl and all(r["iterations"] > 0 and 0 < r["p50_us"] <= r["p99_us"] <= r["p999_us"]
                    for r in sl["runs"]), "stall: iterations and ordered percentiles")
t.ok(len(res["targets"]) >= 1, "the targets are reported")

# bench/churn.py --quick: the series counts and one churn scenario, through a real Prometheus
ch = res.get("churn")
if t.ok(ch, "bench/churn.py ran and its figures are in the JSON"):
    t.ok("Series per scrape" in stdout and "Churn:" in stdout, "the churn tables are printed")
    if t.eq(len(ch["series"]), 1, "the quick run counts series at one load"):
        counts = ch["series"][0]["variants"]
        for v, c in counts.items():
            t.eq(c["summary"] + c["detail"] + c["host"], c["series"], f"series, {v}: the kinds add up")
            t.ok(c["detailed"] <= c["exported"] <= c["processes"],
                 f"series, {v}: detailed <= exported <= processes")
        everything, dflt = counts["all"], counts["defaults"]
        t.eq(everything["exported"], everything["processes"], "--top 0: every process exported")
        t.eq(everything["detailed"], everything["exported"], "--detail-top 0: every family for each")
        t.eq(dflt["detailed"], min(10, dflt["exported"]), "the defaults: ten processes in the detail tier")
        t.ok(dflt["summary"] <= 7 * dflt["exported"], "the defaults: at most 7 summary series a process")
        t.ok(dflt["series"] < everything["series"], "the defaults send fewer series than --top 0")
    for sc in ch["scenarios"]:
        t.ok(sc["spawned_per_second"] > 0, f"churn {sc['scenario']}: short-lived processes were started")
        for v, c in sc["variants"].items():
            t.ok(c["scrapes"] >= 2 and c["series_per_scrape"] > 0 and c["samples_per_second"] > 0,
                 f"churn {sc['scenario']}, {v}: its prometheus scraped it and stored samples")
            t.ok(c["head_series_end"] >= c["series_per_scrape"] * 0.9,
                 f"churn {sc['scenario']}, {v}: the head holds at least the series of a scrape")

csvs = glob.glob(os.path.join(out, "bench-*.csv"))
t.eq(len(csvs), 1, "one CSV copy is written under --out")
if csvs:
    with open(csvs[0], newline="") as f:
        rd = csv.DictReader(f)
        rows = list(rd)
    t.eq(rd.fieldnames, CSV_COLUMNS, "the CSV has the expected columns")
    t.eq([r["mode"] for r in rows], ["off", "rollup", "full"], "one CSV row per mode")
    for r in rows:
        c = pt["collect"][r["mode"]]
        t.ok(abs(float(r["ours_cpu_ms"]) - c["ours_cpu_ms"]) < 1e-6
             and abs(float(r["floor_cpu_ms"]) - c["floor_cpu_ms"]) < 1e-6,
             f"{r['mode']}: the CSV agrees with the JSON")
        t.ok(abs(float(r["ours_cpu_us_per_process"]) * int(r["processes"]) / 1e3
                 - float(r["ours_cpu_ms"])) < 1e-6, f"{r['mode']}: per-process cost x processes = cycle")
        t.ok(float(r["daemon_default_rss_kib"]) > 0, f"{r['mode']}: the daemon's RSS is in the CSV")
        if have_pe:
            t.ok(float(r["pe_smaps_cpu_ms"]) > 0, f"{r['mode']}: process-exporter is in the CSV")

left = []
for pid in pt["load_pids"]:
    try:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().startswith("pmload"):
                left.append(pid)
    except OSError:
        pass
t.eq(left, [], "none of the load's processes is left running")
# what `make bench` writes where it writes it (bench/results) leaves `git status` clean
if shutil.which("git") and os.path.exists(os.path.join(ROOT, ".git")):
    new = os.path.join("bench", "results", "bench-20991231-235959")
    ign = subprocess.run(["git", "-C", ROOT, "check-ignore", new + ".json", new + ".csv"],
                         capture_output=True, text=True)
    t.eq(ign.stdout.split(), [new + ".json", new + ".csv"], "a new run's JSON and CSV in bench/results are ignored by git")
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "bench/results"], capture_output=True, text=True)
    t.ok(tracked.stdout.strip() != "", f"the published runs stay tracked ({tracked.stdout.split()})")
t.done()
