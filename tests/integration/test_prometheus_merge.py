#!/usr/bin/env python3
"""The README's merge into Debian's stock /etc/prometheus/prometheus.yml works: its shell lines,
run on a copy of the file the prometheus package installs (with the copy's path for the real
one and without sudo), give a configuration that `promtool check config` accepts, with the
procmem job scraping localhost:9470 and the rule file loaded, and the stock jobs still there.
Appending config/prometheus.yml instead, as a new user once did, is refused: that is what the
README's way avoids."""
import os
import re
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import ROOT, Test, skip, tempdir  # noqa: E402

STOCK = "/etc/prometheus/prometheus.yml"
if not shutil.which("promtool") or not os.path.exists(STOCK):
    skip("no promtool or no /etc/prometheus/prometheus.yml (Debian package prometheus)")

t = Test("README: the merge into Debian's prometheus.yml passes promtool check config")
readme = open(os.path.join(ROOT, "README.md")).read()
m = re.search(r"```sh\n# merge procmem into Debian's stock /etc/prometheus/prometheus.yml\n(.*?)```", readme, re.S)
if not m:
    t.fatal("the README has no merge block")
lines = [l for l in m.group(1).split("\n") if l and not l.startswith(("promtool", "sudo systemctl"))]

d = tempdir()
etc = os.path.join(d, "etc-prometheus")
os.mkdir(etc)
conf = os.path.join(etc, "prometheus.yml")
shutil.copy(STOCK, conf)
stock = yaml.safe_load(open(STOCK))
script = "\n".join(lines).replace("/etc/prometheus/prometheus.yml", conf).replace("/etc/prometheus/", etc + "/")
script = re.sub(r"\bsudo ", "", script)
p = subprocess.run(["sh", "-eu", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
t.eq((p.returncode, p.stderr), (0, ""), "the README's lines run")

c = subprocess.run(["promtool", "check", "config", conf], capture_output=True, text=True, timeout=60)
t.eq(c.returncode, 0, f"promtool check config accepts the merged file ({(c.stdout + c.stderr).strip()})")
t.ok("procmem.rules.yml" in c.stdout and "SUCCESS" in c.stdout, "and checked the rule file with it")
merged = yaml.safe_load(open(conf))
jobs = {j["job_name"]: j for j in merged.get("scrape_configs") or []}
t.eq(jobs.get("procmem", {}).get("static_configs"), [{"targets": ["localhost:9470"]}],
     "the procmem job scrapes localhost:9470")
t.ok({j["job_name"] for j in stock["scrape_configs"]} <= set(jobs), "the stock jobs are still there")
t.eq(merged.get("rule_files"), ["procmem.rules.yml"], "the rule file is loaded")
t.eq({k: v for k, v in merged.items() if k not in ("rule_files", "scrape_configs")},
     {k: v for k, v in stock.items() if k not in ("rule_files", "scrape_configs")},
     "the rest of the stock file is untouched")

# the control: the example appended whole repeats keys, which Prometheus refuses
bad = os.path.join(etc, "appended.yml")
with open(bad, "w") as f:
    f.write(open(STOCK).read() + "\n" + open(os.path.join(ROOT, "config", "prometheus.yml")).read())
c = subprocess.run(["promtool", "check", "config", bad], capture_output=True, text=True, timeout=60)
t.ok(c.returncode != 0, f"config/prometheus.yml appended whole is refused ({(c.stdout + c.stderr).strip()[-160:]})")
t.done()
