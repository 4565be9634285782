#!/usr/bin/env python3
"""Every dashboard query and every rule, run by a real Prometheus against the real daemon.

Starts a helper whose memory grows (a leak suspect), the daemon on a free 127.0.0.1 port
(--interval 1), and Debian's prometheus on another free 127.0.0.1 port with config/prometheus.yml
turned into a test config (scrape and rule evaluation every second, storage in a temp dir, the
target set to the daemon). After a few scrapes it checks that:
- the target is up and was scraped as OpenMetrics (the metadata holds an `info` type and units,
  which only OpenMetrics carries);
- every rule of config/procmem.rules.yml is loaded and evaluates without error, no alert fires
  on this healthy machine, every recording rule's expression returns data and so does every
  recorded series;
- every template variable query of both dashboards finds values (the job, the daemon, the
  helper's comm and pid among them);
- every panel query of both dashboards, with Grafana's variables substituted as Grafana would,
  parses and returns data, as an instant query and (for time series panels) as a range query.
  One panel may rightly be empty, and only under a condition the kernel tells independently:
  "Top 10 processes by swap" lists processes with swap > 0, so it must be empty exactly when no
  exported process has VmSwap > 0 in /proc (always on a machine without swap). Every other
  query must return data: the leak-suspect panels find the helper, which grows steadily and
  started before the time range.
The daemon runs with the default series settings (--top, --detail-top, --top-min-age,
--top-margin): a panel or rule that needs a family or a process the defaults do not export
goes empty, and fails here. So the helper waits out --top-min-age before it has series. Only
what competes for --top is narrowed, with --include, to the helper: on a shared machine other
processes' PSS could push it out of --detail-top's ten, which would test the machine, not the
dashboards.
For the containers dashboard and the pod recording rules the helper runs in a Kubernetes pod's
container: the test re-executes itself in a mount namespace of its own, mounts cgroup2 there,
moves the helper into kubepods.slice/.../cri-containerd-ID.scope and runs the daemon in a cgroup
namespace rooted above it (tests/integration/cgroupbox.py); a hand-written kube_pod_info served
on another port plays kube-state-metrics. Where that needs root it lacks, everything else is
checked and the test then reports a skip for the containers part.
Stops Prometheus, the daemon and the helper by pid at the end (and at exit whatever happens).
"""
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgroupbox import CgroupBox, enter_private_mount_namespace  # noqa: E402

CONTAINERS = enter_private_mount_namespace("the containers dashboard (a pod made in cgroup2)",
                                           required=False)

from procmem import HELPERS, ROOT, Daemon, Test, skip, spawn, tempdir  # noqa: E402
from promserver import PROMETHEUS, Prometheus  # noqa: E402

RULES = os.path.join(ROOT, "config", "procmem.rules.yml")
EXAMPLE_CONFIG = os.path.join(ROOT, "config", "prometheus.yml")
DASHBOARDS = [os.path.join(ROOT, "dashboards", n)
              for n in ("procmem-overview.json", "procmem-process.json", "procmem-containers.json")]
POD_RULES = "procmem.pods"  # the rule group that needs pods (and kube-state-metrics) for data
POD_UID = "0a0a0a0a-1111-4222-8333-444444444444"
CONTAINER = "c0" * 32
POD_CGROUP = ("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
              "cri-containerd-%s.scope" % (POD_UID.replace("-", "_"), CONTAINER))
HELPER_COMM = "pm-memgrow"
SWAP_PANEL = "Top 10 processes by swap"

if not os.access(PROMETHEUS, os.X_OK):
    skip(f"{PROMETHEUS} is missing (tools/deps.sh test installs Debian's prometheus)")

t = Test("dashboard queries and rules against a real Prometheus")


# ---- Prometheus ------------------------------------------------------------------------------

def test_config(target, ksm=None):
    """config/prometheus.yml with a 1 s scrape and evaluation interval, our daemon as the target
    and the rule file by absolute path; and kube-state-metrics at ksm."""
    with open(EXAMPLE_CONFIG) as f:
        cfg = yaml.safe_load(f)
    cfg["global"].update({"scrape_interval": "1s", "evaluation_interval": "1s",
                          "scrape_timeout": "1s"})
    cfg["rule_files"] = [RULES]
    (job,) = [j for j in cfg["scrape_configs"] if j["job_name"] == "procmem"]
    job.update({"scrape_interval": "1s", "scrape_timeout": "1s",
                "static_configs": [{"targets": [target]}]})
    if ksm:
        cfg["scrape_configs"].append({"job_name": "kube-state-metrics", "scrape_interval": "1s",
                                      "scrape_timeout": "1s",
                                      "static_configs": [{"targets": [ksm]}]})
    return yaml.safe_dump(cfg)


def fake_kube_state_metrics(body):
    """Serves body as /metrics on a free 127.0.0.1 port, from a thread; returns HOST:PORT."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return "127.0.0.1:%d" % server.server_address[1]


# ---- Grafana's side ----------------------------------------------------------------------------

VAR_RE = re.compile(r"\$\{(\w+)(?::([\w:]+))?\}|\$(?!\d+\b)(\w+)")


def substitute(text, values):
    """Replaces $name, ${name} and ${name:format} as Grafana would; unknown names are errors
    ("$1", label_replace()'s group reference, is no name: Grafana leaves it alone)."""
    def repl(m):
        name = m.group(1) or m.group(3)
        key = f"{name}:{m.group(2)}" if m.group(2) else name
        if key not in values:
            raise KeyError(f"no value for ${key}")
        return values[key]
    return VAR_RE.sub(repl, text)


def kernel_swap_users():
    """Pids whose /proc/PID/status shows VmSwap > 0 (kernel threads have no VmSwap line)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                m = re.search(r"^VmSwap:\s+(\d+) kB", f.read(), re.M)
        except OSError:
            continue  # exited meanwhile
        if m and int(m.group(1)) > 0:
            pids.append(pid)
    return pids


def label_values_query(query):
    """label_values(SELECTOR, LABEL) -> (SELECTOR, LABEL)."""
    m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", query.strip())
    if not m:
        raise ValueError(f"not a label_values query: {query}")
    return m.group(1), m.group(2)


# ---- the run --------------------------------------------------------------------------------------

helper_log = open(os.path.join(tempdir(), "memgrow.out"), "w+")
# 512 KiB every 250 ms: 2 MiB a second for up to 2 minutes, written so that it is resident
helper = spawn([os.path.join(HELPERS, "memgrow"), HELPER_COMM, "512", "250", "256"],
               stdout=helper_log, stderr=subprocess.STDOUT)
helper_started = time.time()
deadline = time.monotonic() + 30
while "ready" not in open(helper_log.name).read():
    if helper.poll() is not None or time.monotonic() > deadline:
        t.fatal(f"memgrow did not start: {open(helper_log.name).read()}")
    time.sleep(0.05)

# The default series settings; --include: see the docstring. --smaps-budget 0: read every
# process in full every cycle; with the default budget (a third of the interval) a busy machine
# makes the daemon skip smaps of some processes in some cycles, their PSS series go stale for
# that cycle, and an instant query at that moment rightly finds nothing.
wrap = ksm = None
if CONTAINERS:
    # the helper in a pod's container; the daemon in a cgroup namespace rooted at the box, so
    # that the pod reads as a kubelet's machine's own
    box = CgroupBox()
    box.make(POD_CGROUP)
    box.move(helper.pid, POD_CGROUP)
    wrap = box.in_namespace
    ksm = fake_kube_state_metrics(
        "# TYPE kube_pod_info gauge\n"
        f'kube_pod_info{{namespace="procmem-test",pod="memgrow-0",uid="{POD_UID}",node="n1"}} 1\n')
daemon = Daemon("--interval", "1", "--include", HELPER_COMM, "--smaps-budget", "0", wrap=wrap)
prom = Prometheus(test_config(daemon.addr, ksm))
print(f"daemon on {daemon.addr}, prometheus on 127.0.0.1:{prom.port}, helper pid {helper.pid}, "
      f"kube-state-metrics {ksm}")

# Wait for enough history: the helper seen in 8 scrapes (from --top-min-age on), and the
# recorded 1 h slope of its comm (two evaluations of the recorded sum) present.
deadline = time.monotonic() + 150
while True:
    ok, data = prom.api("query", query=f'count_over_time(procmem_process_pss_bytes'
                                       f'{{comm="{HELPER_COMM}"}}[5m]) >= 8')
    ok2, data2 = prom.api("query", query=f'comm:procmem_process_pss_bytes:deriv1h'
                                         f'{{comm="{HELPER_COMM}"}}')
    ok3, data3 = (prom.api("query", query=f'pod_uid:procmem_pod_pss_bytes:deriv1h{{pod_uid="{POD_UID}"}}')
                  if CONTAINERS else (True, {"result": [1]}))
    if ok and ok2 and ok3 and data["result"] and data2["result"] and data3["result"]:
        break
    if time.monotonic() > deadline:
        t.fatal(f"no history after 150 s: {data} {data2}\nprometheus log:\n{prom.log()[-3000:]}")
    time.sleep(0.5)

# ---- the target: up, and scraped as OpenMetrics ----------------------------------------------------

ok, data = prom.api("targets", state="active")
t.ok(ok, f"/api/v1/targets answers: {data}")
targets = [x for x in data["activeTargets"] if x["labels"].get("instance") == daemon.addr] if ok else []
if t.eq(len(targets), 1, "one active target is the daemon"):
    t.eq(targets[0]["health"], "up", "the daemon's target is up")
    t.eq(targets[0]["lastError"], "", "the last scrape had no error")
    t.eq(targets[0]["labels"].get("job"), "procmem", "the target's job is procmem")

ok, data = prom.api("targets/metadata", match_target='{job="procmem"}')
t.ok(ok, f"/api/v1/targets/metadata answers: {data}")
meta = {m["metric"]: m for m in data} if ok else {}
# OpenMetrics only: the info type, UNIT lines, and counter families named without _total.
t.eq(meta.get("procmem_process", {}).get("type"), "info",
     "procmem_process_info arrived as an OpenMetrics info family")
t.eq(meta.get("procmem_pss_bytes", {}).get("unit"), "bytes",
     "procmem_pss_bytes carries its OpenMetrics unit")
t.eq(meta.get("procmem_collect_cycles", {}).get("type"), "counter",
     "the cycles counter family is named without _total, as OpenMetrics does")

# ---- rules ----------------------------------------------------------------------------------------

with open(RULES) as f:
    rule_file = yaml.safe_load(f)
want_records = [r["record"] for g in rule_file["groups"] for r in g["rules"] if "record" in r]
want_alerts = [r["alert"] for g in rule_file["groups"] for r in g["rules"] if "alert" in r]

ok, data = prom.api("rules")
t.ok(ok, f"/api/v1/rules answers: {data}")
loaded = [dict(r, group=g["name"]) for g in data["groups"] for r in g["rules"]] if ok else []
left_out = []  # what could not be checked without the pod
t.eq(sorted(r["name"] for r in loaded if r["type"] == "recording"), sorted(want_records),
     "prometheus loaded every recording rule of the file")
t.eq(sorted(r["name"] for r in loaded if r["type"] == "alerting"), sorted(want_alerts),
     "prometheus loaded every alerting rule of the file")
for r in loaded:
    t.eq((r["health"], r.get("lastError", "")), ("ok", ""),
         f"rule {r['name']} evaluates without error")
    ok, res = prom.api("query", query=r["query"])
    if not t.ok(ok, f"rule {r['name']}: its expression runs: {res}"):
        continue
    if r["type"] == "recording" and r["group"] == POD_RULES and not CONTAINERS:
        left_out.append(f"rule {r['name']}")
    elif r["type"] == "recording":
        t.ok(len(res["result"]) > 0, f"recording rule {r['name']} returns data")
        ok, rec = prom.api("query", query=r["name"])
        t.ok(ok and len(rec["result"]) > 0, f"recorded series {r['name']} exists")
    else:
        # Whether alerts fire is tested by tests/rules (promtool); here they must run, and on
        # a healthy machine none fires (most need minutes to hours of history anyway, and the
        # one without `for`, ProcmemParseErrors, firing would mean a daemon bug).
        t.ok(all(a["state"] != "firing" for a in r.get("alerts", [])),
             f"alert {r['name']} does not fire: {r.get('alerts')}")

# ---- dashboards -------------------------------------------------------------------------------------

now = time.time()
# The time range ends now and begins 3 s after the helper started: the helper is older than
# the range (leak suspects must be), and the range covers all Prometheus has.
range_s = int(now - helper_started) - 3
if range_s < 10:
    time.sleep(10 - range_s)
    now = time.time()
    range_s = int(now - helper_started) - 3
start = now - range_s
common = {
    "job": "procmem",
    "instance": daemon.addr,
    "__rate_interval": "4s",  # Grafana: max(4 x scrape interval, $__interval + scrape interval)
    "__interval": "1s",
    "__range": f"{range_s}s",
    "__range_s": str(range_s),
    "__from:date:seconds": str(int(start)),
}
settings = {
    "procmem-overview": [dict(common, process=".*"),           # All
                         dict(common, process=HELPER_COMM)],   # one comm
    "procmem-process": [dict(common, process=HELPER_COMM, pid=".*"),              # All pids
                        dict(common, process=HELPER_COMM, pid=str(helper.pid))],  # one pid
    "procmem-containers": [dict(common)],
}
ok, data = prom.api("query", query='procmem_process_info{job="procmem"}')
exported_pids = {r["metric"]["pid"] for r in data["result"]} if ok else set()
t.eq(exported_pids, {str(helper.pid)}, "the helper is the one process exported")
swap_pids = [p for p in kernel_swap_users() if p in exported_pids]
print(f"exported processes with VmSwap > 0 per /proc: {swap_pids or 'none'}")

for path in DASHBOARDS:
    with open(path) as f:
        dash = json.load(f)
    uid = dash["uid"]
    if uid == "procmem-containers" and not CONTAINERS:
        left_out.append(f"dashboard {uid}")
        continue
    for values in settings[uid]:
        what = f"{uid} with " + ", ".join(f"{k}={values[k]}" for k in ("process", "pid")
                                           if k in values)
        # template variables
        for var in dash["templating"]["list"]:
            if var["type"] != "query":
                continue
            selector, label = label_values_query(substitute(var["query"], values))
            ok, found = prom.api(f"label/{label}/values", **{"match[]": selector},
                                 start=str(start), end=str(now))
            if t.ok(ok and found, f"{what}: variable {var['name']} finds values: {found}"):
                want = {"job": "procmem", "instance": daemon.addr, "process": HELPER_COMM,
                        "pid": str(helper.pid)}[var["name"]]
                t.ok(want in found, f"{what}: variable {var['name']} offers {want}")
        # panels
        for panel in dash["panels"]:
            if panel["type"] == "row":
                continue
            for tgt in panel["targets"]:
                name = f"{what}: panel {panel['title']!r} query {tgt['refId']}"
                expr = substitute(tgt["expr"], values)
                runs = [("instant", prom.api("query", query=expr, time=str(now)))]
                if tgt.get("range"):
                    runs.append(("range", prom.api("query_range", query=expr, start=str(start),
                                                   end=str(now), step="1")))
                for kind, (ok, data) in runs:
                    if not t.ok(ok, f"{name} ({kind}) runs: {data}\n    {expr}"):
                        continue
                    n = len(data["result"])
                    if panel["title"] == SWAP_PANEL:
                        if values["process"] == ".*":
                            t.eq(n > 0, bool(swap_pids),
                                 f"{name} ({kind}) has data exactly when some exported process "
                                 f"has swap per /proc")
                        else:  # the helper never swaps on a machine where nothing does
                            t.ok(n == 0 or swap_pids, f"{name} ({kind}) is empty")
                    else:
                        t.ok(n > 0, f"{name} ({kind}) returns data\n    {expr}")

# The pod panels found the helper's pod by name, through kube-state-metrics.
if CONTAINERS:
    with open(DASHBOARDS[2]) as f:
        dash = json.load(f)
    (panel,) = [p for p in dash["panels"] if p["title"] == "Pods now"]
    ok, data = prom.api("query", query=substitute(panel["targets"][0]["expr"], common), time=str(now))
    pods = [(r["metric"].get("namespace"), r["metric"].get("pod"), r["metric"].get("pod_uid"))
            for r in data["result"]] if ok else []
    t.eq(pods, [("procmem-test", "memgrow-0", POD_UID)], "the pods table names the helper's pod")

# The leak-suspect panel found the helper itself, not just anything.
for path in DASHBOARDS[:1]:
    with open(path) as f:
        dash = json.load(f)
    (panel,) = [p for p in dash["panels"] if p["title"].startswith("Fastest-growing processes")]
    expr = substitute(panel["targets"][0]["expr"], dict(common, process=".*"))
    ok, data = prom.api("query", query=expr, time=str(now))
    comms = [r["metric"].get("comm") for r in data["result"]] if ok else []
    t.ok(HELPER_COMM in comms, f"the fastest-growing processes include the helper: {comms}")

# ---- stop everything ------------------------------------------------------------------------------

t.eq(prom.stop(), 0, "prometheus exits cleanly on SIGTERM")
t.eq(daemon.stop(), 0, "the daemon exits cleanly on SIGTERM")
helper.kill()
helper.wait()
if left_out and not t.failures:
    print(f"{t.checks} checks passed")
    skip(f"not checked without a private mount namespace (needs root): {', '.join(left_out)}")
t.done()
