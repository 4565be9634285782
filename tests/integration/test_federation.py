#!/usr/bin/env python3
"""The README's federation and remote-write configurations, as written there, with real Prometheus
servers: the long-term store gets what a fleet keeps for months and nothing with a pid.

Three Debian prometheus servers on free 127.0.0.1 ports, each with temp storage:
- the site's: scrapes the daemon every second, loads config/procmem.rules.yml (evaluated every
  second), and remote-writes through the README's `remote_write` entry (its URL pointed at the
  receiver);
- a central one: the README's federation job (its target pointed at the site's, every second);
- a remote-write receiver (--web.enable-remote-write-receiver), scraping nothing.
Once the fleet rules have been evaluated and have travelled, for the central one and for the
receiver alike: every series recorded by the procmem.fleet group (and the comm sum it builds on)
is there with data; so are the exporter's pid-free families (the machine's PSS and quadrants,
the user and unit sums); no series has a pid label and no procmem_process_ family is there,
although the site's Prometheus has both; job and instance are the site's. (The pod rules need
kube-state-metrics, which test_prometheus_queries.py plays; here they record nothing.) The central one's own
scrape series (up, scrape_*) are its, and left out of the checks.

The daemon runs at its defaults but --top-min-age 0 (this test is about the rules and the
transport, not the choice of processes: every process of the machine may be young),
--smaps-budget 0 (on a busy machine the default budget leaves some processes without PSS in
some cycles, and a comm's recorded PSS sum then has gaps) and --interval 1. Stops every server and the daemon by pid at the end, whatever happens.
"""
import os
import re
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import ROOT, Daemon, Test, skip  # noqa: E402
from promserver import PROMETHEUS, Prometheus  # noqa: E402

README = os.path.join(ROOT, "README.md")
RULES = os.path.join(ROOT, "config", "procmem.rules.yml")
# (every process is in some cgroup; containers and pods this machine may not have)
PID_FREE_FAMILIES = ["procmem_pss_bytes", "procmem_uss_bytes", "procmem_swap_bytes",
                     "procmem_quadrant_pss_bytes", "procmem_user_pss_bytes", "procmem_unit_pss_bytes",
                     "procmem_cgroup_pss_bytes"]

if not os.access(PROMETHEUS, os.X_OK):
    skip(f"{PROMETHEUS} is missing (tools/deps.sh test installs Debian's prometheus)")

t = Test("federation and remote write of the long-term series, as the README has them")


def readme_yaml(first_line):
    """The README's ```yaml block whose first line is `first_line`, parsed."""
    with open(README) as f:
        text = f.read()
    for m in re.finditer(r"^```yaml\n(.*?)^```$", text, re.M | re.S):
        if m.group(1).split("\n", 1)[0].strip() == first_line:
            return yaml.safe_load(m.group(1))
    t.fatal(f"README has no yaml block starting {first_line!r}")


central_cfg = readme_yaml("# central prometheus.yml: the long-term series from each site's Prometheus")
site_rw = readme_yaml("# site prometheus.yml: only the long-term series to the long-term store")
(fed_job,) = central_cfg["scrape_configs"]
(rw,) = site_rw["remote_write"]
with open(RULES) as f:
    groups = yaml.safe_load(f)["groups"]
(fleet,) = [g for g in groups if g["name"] == "procmem.fleet"]
recorded = [r["record"] for r in fleet["rules"]]
# what the fleet rules are built on, recorded in another group
recorded += sorted({m for r in fleet["rules"] for m in re.findall(r"\w+:\w+:\w+", r["expr"])} - set(recorded))
print(f"fleet series: {recorded}")

daemon = Daemon("--interval", "1", "--top-min-age", "0", "--smaps-budget", "0")
receiver = Prometheus(yaml.safe_dump({"global": {"scrape_interval": "1s"}}),
                      "--web.enable-remote-write-receiver")
rw["url"] = receiver.url("/api/v1/write")
rw["remote_timeout"] = "5s"
rw["queue_config"] = {"batch_send_deadline": "1s"}  # the defaults send within 5 s; sooner here
site = Prometheus(yaml.safe_dump({
    "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
    "rule_files": [RULES],
    "scrape_configs": [{"job_name": "procmem", "static_configs": [{"targets": [daemon.addr]}]}],
    "remote_write": [rw],
}))
fed_job["scrape_interval"] = "1s"
fed_job["scrape_timeout"] = "1s"
fed_job["static_configs"] = [{"targets": [site.addr]}]
central = Prometheus(yaml.safe_dump(central_cfg))
print(f"daemon {daemon.addr}, site {site.addr}, central {central.addr}, receiver {receiver.addr}")


def names(prom):
    ok, data = prom.api("label/__name__/values")
    return set(data) if ok else set()


# until every fleet series has reached both (they are recorded from the second evaluation on)
# and the site has every kind of pid-labelled series, its recorded slopes too
with_pid = {"procmem_process_pss_bytes", "procmem_process_info", "pid:procmem_process_pss_bytes:deriv15m"}
deadline = time.monotonic() + 120
while True:
    missing = {p.url(""): set(recorded) - names(p) for p in (central, receiver)}
    ok, data = site.api("series", **{"match[]": '{pid!=""}'})
    site_pid = {s["__name__"] for s in data} if ok else set()
    if not any(missing.values()) and site_pid >= with_pid:
        break
    if time.monotonic() > deadline:
        t.fatal(f"after 120 s: fleet series missing {missing}; the site's with pid {site_pid}\n"
                f"site log:\n{site.log()[-2000:]}")
    time.sleep(1)
# a few more rounds of federation (every second) and remote write (sent within a second), so
# that pid-labelled series would have had the time to travel too
time.sleep(4)

for what, prom in (("central (federation)", central), ("receiver (remote write)", receiver)):
    got = names(prom)
    for name in recorded + PID_FREE_FAMILIES:
        ok, data = prom.api("query", query=f'count({name}{{job="procmem"}})')
        t.ok(ok and data["result"] and float(data["result"][0]["value"][1]) > 0,
             f"{what}: {name} is there with data")
    theirs = {n for n in got if n == "up" or n.startswith("scrape_")} if prom is central else set()
    ours = got - theirs
    t.eq(sorted(n for n in ours if n.startswith("procmem_process_")), [],
         f"{what}: no per-process family")
    ok, data = prom.api("series", **{"match[]": '{pid!=""}'})
    t.ok(ok, f"{what}: the series API answers: {data}")
    t.eq([s["__name__"] for s in data] if ok else None, [], f"{what}: no series with a pid label")
    ok, data = prom.api("query", query='count by (job, instance) (procmem_pss_bytes)')
    t.eq([r["metric"] for r in data["result"]] if ok else None,
         [{"job": "procmem", "instance": daemon.addr}], f"{what}: job and instance are the site's")

for p in (central, site, receiver):
    t.eq(p.stop(), 0, f"prometheus {p.addr} exits cleanly on SIGTERM")
t.eq(daemon.stop(), 0, "the daemon exits cleanly on SIGTERM")
t.done()
