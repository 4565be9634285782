#!/usr/bin/env python3
"""The example Prometheus config and the rules pass promtool, and the rules' unit tests pass.

- `promtool check config config/prometheus.yml` (which also checks the rule file it names);
- `promtool check rules config/procmem.rules.yml`;
- `promtool test rules tests/rules/*.test.yml`: the alerts fire when they should and stay quiet
  otherwise, the recording rules compute what their comments say;
- the unit tests cover the rules: every alert has a case where it fires and a case where it is
  expected quiet, every recording rule is evaluated by a promql_expr_test;
- every alert carries a severity label and summary and description annotations;
- every PromQL query of the README's "Containers and pods" section is evaluated by a unit test
  (character for character, whitespace aside), so what the README shows has been run.
"""
import glob
import os
import re
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import ROOT, Test  # noqa: E402

CONFIG = os.path.join(ROOT, "config", "prometheus.yml")
RULES = os.path.join(ROOT, "config", "procmem.rules.yml")
TESTS = sorted(glob.glob(os.path.join(ROOT, "tests", "rules", "*.test.yml")))

t = Test("Prometheus config, rules and rule unit tests")


def promtool(*args):
    p = subprocess.run(["promtool", *args], capture_output=True, timeout=300)
    out = (p.stdout + p.stderr).decode(errors="replace")
    return p.returncode, out


rc, out = promtool("check", "config", CONFIG)
t.eq(rc, 0, f"promtool check config {CONFIG}:\n{out}")
t.ok("1 rule files found" in out, "the example config loads the rule file")
rc, out = promtool("check", "rules", RULES)
t.eq(rc, 0, f"promtool check rules {RULES}:\n{out}")
t.ok(TESTS, "there are rule unit tests in tests/rules")
rc, out = promtool("test", "rules", *TESTS)
t.eq(rc, 0, f"promtool test rules:\n{out}")

# ---- coverage of the unit tests ---------------------------------------------------------------

with open(RULES) as f:
    groups = yaml.safe_load(f)["groups"]
alerts = [r for g in groups for r in g["rules"] if "alert" in r]
records = [r for g in groups for r in g["rules"] if "record" in r]
t.ok(len(alerts) >= 5 and len(records) >= 1, "the rule file has alerts and recording rules")

fires, quiet, exprs = set(), set(), []
for path in TESTS:
    with open(path) as f:
        doc = yaml.safe_load(f)
    # the unit tests must load the shipped rule file, not a copy
    files = [os.path.normpath(os.path.join(os.path.dirname(path), r)) for r in doc["rule_files"]]
    t.eq(files, [RULES], f"{os.path.basename(path)} tests config/procmem.rules.yml")
    for case in doc["tests"]:
        for a in case.get("alert_rule_test", []):
            (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
        exprs += [e["expr"] for e in case.get("promql_expr_test", [])]

for a in alerts:
    name = a["alert"]
    t.ok(name in fires, f"{name}: a unit test where it fires")
    t.ok(name in quiet, f"{name}: a unit test where it stays quiet")
    t.ok(a.get("labels", {}).get("severity") in ("critical", "warning", "info"),
         f"{name}: has a severity label")
    ann = a.get("annotations", {})
    t.ok(ann.get("summary") and ann.get("description"),
         f"{name}: has summary and description annotations")
for r in records:
    t.ok(any(r["record"] in e for e in exprs), f"{r['record']}: a unit test evaluates it")

with open(os.path.join(ROOT, "README.md")) as f:
    readme = f.read()
section = readme.split("\n## Containers and pods\n", 1)[1].split("\n## ", 1)[0]
queries = re.findall(r"```promql\n(.*?)```", section, re.S)
t.ok(len(queries) >= 3, f"the README shows its joins ({len(queries)} queries)")
tested = {" ".join(e.split()) for e in exprs}
for q in queries:
    t.ok(" ".join(q.split()) in tested, f"the README's query is unit-tested: {' '.join(q.split())[:80]}...")

t.done()
