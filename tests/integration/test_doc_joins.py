#!/usr/bin/env python3
"""Joins with procmem_process_info hold when Prometheus scrapes several machines.

1. Every vector-matching clause (on (...)) that names pid, comm or unit, in the README, the man
   page, the rules and the dashboards (and their generator), also names job and instance: a pid
   repeats across machines, a comm and a unit do too.
2. The README's and the man page's join, run by Prometheus' own engine (promtool test rules) on
   two machines whose processes share a pid, gives each process its user and unit. The control:
   the join the README used to show, on(pid), fails there with "duplicate series", so the check
   can tell the two apart."""
import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import ROOT, Test, skip, tempdir  # noqa: E402

t = Test("joins on (job, instance, pid, comm) in every document; the README's join on two machines")

DOCS = ["README.md", "man/procmem_exporter.8", "config/procmem.rules.yml", "tools/gen-dashboards.py",
        *sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "dashboards", "*.json")))]
ON = re.compile(r"\b(on|ignoring)\s*\(([^)]*)\)")
clauses = 0
for doc in DOCS:
    text = open(os.path.join(ROOT, doc)).read()
    for m in ON.finditer(text):
        labels = {l.strip() for l in m.group(2).split(",") if l.strip()}
        if m.group(1) != "on" or not labels & {"pid", "comm", "unit", "user"}:
            continue
        clauses += 1
        t.ok({"job", "instance"} <= labels, f"{doc}: {m.group(0)} names job and instance")
t.ok(clauses >= 10, f"the documents hold joins to check ({clauses})")

if not shutil.which("promtool"):
    skip("no promtool (Debian package prometheus): the join on two machines is not run")

readme = open(os.path.join(ROOT, "README.md")).read()
m = re.search(r"```promql\n(procmem_process_pss_bytes[^\n]*group_left[^\n]*)\n```", readme)
if not m:
    t.fatal("the README shows no join with procmem_process_info")
man = open(os.path.join(ROOT, "man", "procmem_exporter.8")).read()
mm = re.search(r"\.EX\n(procmem_process_pss_bytes\n[^.]*?group_left[^\n]*\n[^\n]*)\n\.EE", man)
queries = {"README": m.group(1), "man page": " ".join(mm.group(1).split()) if mm else None}
t.ok(queries["man page"] is not None, "the man page shows the join")

# two machines, each with a pid 1 and a pid 42; the second machine's 42 has another comm
SERIES = []
for inst, procs in (("a:9470", (("1", "systemd", "root", ""), ("42", "postgres", "postgres", "postgresql.service"))),
                    ("b:9470", (("1", "systemd", "root", ""), ("42", "nginx", "www-data", "nginx.service")))):
    for pid, comm, user, unit in procs:
        base = f'job="procmem",instance="{inst}",pid="{pid}",comm="{comm}"'
        SERIES.append((f"procmem_process_pss_bytes{{{base}}}", f"{int(pid) * 1000 + len(inst)}"))
        SERIES.append((f'procmem_process_info{{{base},user="{user}",unit="{unit}",exe="/x",ppid="0"}}', "1"))


def expected():
    out = []
    for name, value in SERIES:
        if name.startswith("procmem_process_pss_bytes"):
            labels = name[name.index("{") + 1:-1]
            info = [n for n, _ in SERIES if n.startswith("procmem_process_info{" + labels + ",")][0]
            user = re.search(r'user="([^"]*)"', info).group(1)
            unit = re.search(r'unit="([^"]*)"', info).group(1)
            # an empty label is no label to Prometheus
            out.append((f"{{{labels},user=\"{user}\"" + (f",unit=\"{unit}\"" if unit else "") + "}", value))
    return out


def run(query):
    d = tempdir()
    test = os.path.join(d, "join.test.yml")
    with open(test, "w") as f:
        f.write("rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
        for name, value in SERIES:
            f.write(f"      - series: '{name}'\n        values: '{value}x3'\n")
        f.write(f"    promql_expr_test:\n      - expr: '{query}'\n        eval_time: 2m\n        exp_samples:\n")
        for labels, value in expected():
            f.write(f"          - labels: '{labels}'\n            value: {value}\n")
    p = subprocess.run(["promtool", "test", "rules", test], capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


for where, query in queries.items():
    if query:
        rc, out = run(query)
        t.eq(rc, 0, f"the {where}'s join gives every process of both machines its user and unit ({out[-300:]})")
rc, out = run("procmem_process_pss_bytes * on(pid) group_left(user, unit) procmem_process_info")
t.ok(rc != 0 and "duplicate series" in out, f"the control, on(pid), fails on two machines ({out[-200:]})")
t.done()
