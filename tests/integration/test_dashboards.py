#!/usr/bin/env python3
"""The Grafana dashboards are well-formed and consistent (no Grafana or Prometheus needed; the
queries themselves are run by test_prometheus_queries.py).

For dashboards/procmem-overview.json, dashboards/procmem-process.json and
dashboards/procmem-containers.json:
- the JSON parses and is exactly what tools/gen-dashboards.py writes (the generator is the
  source; the two cannot drift apart);
- Grafana 10 model: schemaVersion, unique uid and panel ids, panels on the 24-column grid
  without overlapping;
- the datasource is ${DS_PROMETHEUS} everywhere: declared as an import input, defined as a
  datasource variable (for file provisioning), used by every panel, query and query variable;
- the variables job, instance and process (and pid on the process dashboard) exist, every
  variable is used, and every $variable used is defined or one of Grafana's own;
- every panel has at least one query, each with an expression and a unique refId, and a
  description; panels about memory say where the kernel gets the number;
- every series selector names a metric the exporter exports at its default settings (per a
  scrape of it), a recorded series of config/procmem.rules.yml, or Prometheus's own
  up/scrape_duration_seconds, and carries job="$job" and instance="$instance".
"""
import importlib.util
import json
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import FIXTURES, ROOT, Daemon, Test, once, parse  # noqa: E402

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                    "__range_ms", "__from", "__to", "__url_time_range", "__field", "__data",
                    "__series", "__value", "__dashboard", "__org", "__user", "timeFilter"}
REQUIRED_VARS = {"procmem-overview": ["DS_PROMETHEUS", "job", "instance", "process"],
                 "procmem-process": ["DS_PROMETHEUS", "job", "instance", "process", "pid"],
                 "procmem-containers": ["DS_PROMETHEUS", "job", "instance"]}
PROMETHEUS_OWN = {"up", "scrape_duration_seconds"}
# Where the kernel keeps what a memory panel shows; its description must name one.
KERNEL_SOURCES = ("/proc", "smaps", "status", "statm", "cgroup")

t = Test("Grafana dashboards: structure, datasource, variables, selectors")

# ---- what may be queried ---------------------------------------------------------------------

# what a scrape serves at the default settings (the --once output lacks the per-scrape HTTP
# request counters): a dashboard that selects a family the defaults do not export fails here
# (--top-min-age 0 only so that the families are there even where every process is young); and
# what this machine may lack: the containers and pods of the fixture tree
with Daemon("--top-min-age", "0") as d:
    exposition = d.metrics_text()
exposition += once("--procfs", os.path.join(FIXTURES, "proc-containers"), "--cgroup-top", "0")
exported = {name for name, _, _ in parse(exposition)}
exported |= {m.group(1) for m in re.finditer(r"^# TYPE (\S+)", exposition, re.M)}
with open("/proc/self/smaps_rollup") as f:
    if "Pss_Anon" not in f.read():  # kernels before 5.x: the family is rightly absent
        exported.add("procmem_process_pss_kind_bytes")
with open(os.path.join(ROOT, "config", "procmem.rules.yml")) as f:
    recorded = {r["record"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]
                if "record" in r}
known_metrics = exported | recorded | PROMETHEUS_OWN


def selectors(expr):
    """(metric, matchers text or None) for every metric name in a PromQL expression, skipping
    string literals; function names, keywords and label names are not metric names here
    because ours all start with procmem_/process_ (or are recorded names with colons)."""
    out = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" else 1
            i = j + 1
            continue
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(expr, i)
        if not m:
            i += 1
            continue
        word = m.group(0)
        i = m.end()
        if expr[m.start() - 1:m.start()] == "$":
            continue  # a Grafana variable
        if not (re.match(r"(\w+:)?(procmem|process)_", word) or word in PROMETHEUS_OWN):
            continue
        rest = expr[i:].lstrip()
        if rest.startswith("{"):
            close = rest.index("}")
            out.append((word, rest[1:close]))
            i = n - len(rest) + close + 1
        else:
            out.append((word, None))
    return out


def variables_used(text):
    """Grafana variables named in text; "$1" is label_replace()'s group reference, which Grafana
    leaves alone (it replaces only the variables it knows)."""
    return {m.group(1) or m.group(2) or m.group(3)
            for m in re.finditer(r"\$\{(\w+)[^}]*\}|\$(?!\d+\b)(\w+)|\[\[(\w+)\]\]", text)}


def overlaps(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


# ---- the generator is the source ------------------------------------------------------------------

spec = importlib.util.spec_from_file_location("gen", os.path.join(ROOT, "tools",
                                                                  "gen-dashboards.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
generated = gen.outputs()

uids = set()
for name, text in sorted(generated.items()):
    path = os.path.join(ROOT, "dashboards", name)
    with open(path) as f:
        committed = f.read()
    t.ok(committed == text, f"{name} is what tools/gen-dashboards.py writes (run it and commit)")
    try:
        d = json.loads(committed)
    except ValueError as e:
        t.fatal(f"{name} does not parse: {e}")
    uid = d.get("uid")
    t.ok(uid and uid not in uids and name == f"{uid}.json", f"{name}: uid {uid} unique, names file")
    uids.add(uid)
    t.ok(d.get("title"), f"{name}: has a title")
    t.ok(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 36,
         f"{name}: Grafana 10 schema (schemaVersion {d.get('schemaVersion')})")
    t.ok(d.get("id") is None, f"{name}: no instance-specific id (import makes one)")

    # datasource input and variable
    inputs = {i["name"]: i for i in d.get("__inputs", [])}
    t.ok(inputs.get("DS_PROMETHEUS", {}).get("type") == "datasource"
         and inputs["DS_PROMETHEUS"].get("pluginId") == "prometheus",
         f"{name}: declares the DS_PROMETHEUS Prometheus datasource input")
    variables = {v["name"]: v for v in d["templating"]["list"]}
    t.eq(len(variables), len(d["templating"]["list"]), f"{name}: variable names unique")
    for v in REQUIRED_VARS[uid]:
        t.ok(v in variables, f"{name}: has variable {v}")
    dsvar = variables.get("DS_PROMETHEUS", {})
    t.ok(dsvar.get("type") == "datasource" and dsvar.get("query") == "prometheus",
         f"{name}: DS_PROMETHEUS is also a Prometheus datasource variable (file provisioning)")
    for v in variables.values():
        if v["type"] == "query":
            t.eq(v.get("datasource"), DS, f"{name}: variable {v['name']} uses ${{DS_PROMETHEUS}}")
            t.ok(re.fullmatch(r"label_values\(.+,\s*\w+\)", v.get("query", "")),
                 f"{name}: variable {v['name']} is a label_values query")
            if v.get("includeAll"):
                t.eq(v.get("allValue"), ".*",
                     f"{name}: variable {v['name']}'s All is .* (not a giant alternation)")

    # panels
    text_using_vars = json.dumps(d["templating"]["list"]) + json.dumps(d.get("links", []))
    ids = set()
    boxes = []
    panels = d["panels"]
    t.ok(len(panels) > 5, f"{name}: has panels")
    for p in panels:
        what = f"{name}: panel {p.get('id')} {p.get('title')!r}"
        t.ok(isinstance(p.get("id"), int) and p["id"] not in ids, f"{what}: unique id")
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        t.ok(all(isinstance(g.get(k), int) for k in "xywh") and g["x"] >= 0 and g["w"] > 0
             and g["h"] > 0 and g["x"] + g["w"] <= 24, f"{what}: on the 24-column grid: {g}")
        for other_what, other in boxes:
            t.ok(not overlaps(g, other), f"{what} does not overlap {other_what}")
        boxes.append((what, g))
        text_using_vars += json.dumps(p)
        if p["type"] == "row":
            t.ok("targets" not in p and "datasource" not in p and not p.get("panels"),
                 f"{what}: a row without queries or hidden panels")
            continue
        t.ok(p["type"] in ("timeseries", "stat", "bargauge", "table"), f"{what}: known type")
        t.ok(p.get("title"), f"{what}: has a title")
        desc = p.get("description", "")
        t.ok(len(desc) >= 100, f"{what}: has a description that explains it")
        t.eq(p.get("datasource"), DS, f"{what}: uses ${{DS_PROMETHEUS}}")
        tgts = p.get("targets", [])
        t.ok(len(tgts) > 0, f"{what}: has a query")
        refs = [x.get("refId") for x in tgts]
        t.ok(all(refs) and len(set(refs)) == len(refs), f"{what}: unique refIds {refs}")
        memory = False
        for x in tgts:
            tw = f"{what} query {x.get('refId')}"
            t.eq(x.get("datasource"), DS, f"{tw}: uses ${{DS_PROMETHEUS}}")
            expr = x.get("expr", "")
            t.ok(expr.strip(), f"{tw}: has an expression")
            t.ok(x.get("instant") != x.get("range"), f"{tw}: either instant or range")
            sels = selectors(expr)
            t.ok(sels, f"{tw}: selects some series")
            for metric, matchers in sels:
                t.ok(metric in known_metrics,
                     f"{tw}: {metric} is exported, recorded by the rules or Prometheus's own")
                t.ok(matchers is not None and 'job="$job"' in matchers
                     and 'instance="$instance"' in matchers,
                     f"{tw}: {metric} selected with job=\"$job\", instance=\"$instance\": "
                     f"{{{matchers}}}")
                if re.search(r"(procmem_(process|quadrant|user|unit|mapping|cgroup|container|pod)_\w*|"
                             r"procmem_(pss|uss|swap))_bytes", metric):
                    memory = True
        if memory:
            t.ok(any(s in desc for s in KERNEL_SOURCES),
                 f"{what}: a memory panel whose description says where the kernel keeps it")

    used = variables_used(text_using_vars)
    for v in sorted(used):
        t.ok(v in variables or v in GRAFANA_BUILTINS,
             f"{name}: ${v} is a defined variable or one of Grafana's")
    panel_text = json.dumps(panels)
    for v in variables:
        t.ok(v in variables_used(panel_text), f"{name}: variable {v} is used by a panel")

t.done()
