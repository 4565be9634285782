#!/usr/bin/env python3
"""gen-dashboards.py [OUTDIR] — writes the Grafana dashboards dashboards/procmem-overview.json,
dashboards/procmem-process.json and dashboards/procmem-containers.json (Grafana 10 JSON model).

This script is the source of the three files: edit it, run it, commit them. The test
tests/integration/test_dashboards.py fails when the committed JSON differs from what this script
writes, so the two cannot drift apart. (A dashboard edited in Grafana and exported can be
diffed against the output to carry the change over.)

Conventions every panel follows, checked by that test:
- the datasource is ${DS_PROMETHEUS}: an import input (Grafana's "Import dashboard" asks for it)
  and also a datasource variable of that name, so that file provisioning, which ignores
  __inputs, works too;
- every selector of an exporter series carries job="$job", instance="$instance";
- every panel has a description saying what the number is and where the kernel gets it.
"""
import json
import os
import sys

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Selectors. S: the chosen exporter; P: per-process series of the overview, filtered by comm.
S = 'job="$job", instance="$instance"'
P = S + ', comm=~"$process"'
# Q: the process dashboard's processes (one comm, some or all of its pids).
Q = S + ', comm="$process", pid=~"$pid"'

PROCESS_LINK = {
    "title": "Open ${__field.labels.comm} (pid ${__field.labels.pid}) in procmem: process",
    "url": "/d/procmem-process/procmem-process?${__url_time_range}&var-job=${job}"
           "&var-instance=${instance}&var-process=${__field.labels.comm}"
           "&var-pid=${__field.labels.pid}",
}
# The same from a table row, whose cells are fields rather than labelled series.
TABLE_PROCESS_LINK = {
    "title": "Open ${__data.fields.comm} (pid ${__data.fields.pid}) in procmem: process",
    "url": "/d/procmem-process/procmem-process?${__url_time_range}&var-job=${job}"
           "&var-instance=${instance}&var-process=${__data.fields.comm}"
           "&var-pid=${__data.fields.pid}",
}

# ---- text shared by several descriptions ------------------------------------------------------

PER_PROCESS_NOTE = (
    " Per-process series exist only for the processes the exporter selects (--top, default the "
    "100 with most PSS; --include, --exclude, --min-rss); the machine totals and the per-user and "
    "per-unit sums cover every process.")
RSS_TRUTH = (
    "RSS counts every resident page a process maps, in full, in every process that maps it: "
    "shared libraries, pages shared with a forked parent, shared memory. Summed over processes it "
    "counts those pages many times over, which is why RSS totals exceed the machine's memory.")
PSS_TRUTH = (
    "PSS (proportional set size, Pss in /proc/PID/smaps_rollup) divides each resident page by the "
    "number of processes that map it, so PSS sums over processes to the memory they really use.")
QUADRANTS = (
    "Quadrants split memory by mapping, as pmap shows it: shared = MAP_SHARED mappings (s in the "
    "permissions column of /proc/PID/smaps), private = the rest; anonymous = no file behind the "
    "mapping (heap, stacks, anonymous mmap, and shared memory: tmpfs/SysV/memfd-less shared "
    "anonymous), file = a file is mapped (binaries, libraries, mmapped data files). A private "
    "file mapping whose pages were written stays private/file here, although the kernel counts "
    "those copied pages as anonymous in RssAnon.")
DIRTY = (
    "Dirty: Shared_Dirty + Private_Dirty in /proc/PID/smaps (pmap -x's Dirty column), resident "
    "pages that must be written somewhere before the kernel can free them. Dirty shared/file "
    "pages go back to their file (writeback; tmpfs and memfd files excepted, they can only be "
    "swapped); dirty anonymous pages, shared or private, and the copied pages of written "
    "private file mappings (private/file) can only be swapped out. Clean pages can be dropped "
    "at once and read again if needed.")
MACHINE_NOTE = (
    " Summed over every process the exporter read: this is memory mapped by processes, not the "
    "machine's used memory (kernel memory, page cache that no process maps and tmpfs files are not "
    "in it; compare with node_exporter's MemTotal - MemAvailable).")


# ---- panel builders --------------------------------------------------------------------------------

def target(expr, legend="", ref="A", instant=False, fmt="time_series"):
    t = {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "refId": ref,
    }
    if fmt != "time_series":
        t["format"] = fmt
    return t


def targets(*specs, instant=False, fmt="time_series"):
    """specs: (expr, legend) pairs, refIds A, B, C..."""
    return [target(e, l, chr(ord("A") + i), instant, fmt) for i, (e, l) in enumerate(specs)]


def _panel(kind, title, desc, tgts, unit, extra_defaults=None, options=None):
    defaults = {"unit": unit, "color": {"mode": "palette-classic"}}
    if extra_defaults:
        defaults.update(extra_defaults)
    return {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": DS,
        "targets": tgts,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options or {},
    }


def timeseries(title, desc, tgts, unit="bytes", stack=False, min0=True, legend_calcs=None,
               no_value=None):
    custom = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 60 if stack else 10,
        "gradientMode": "none",
        "showPoints": "never",
        "spanNulls": False,
        "axisSoftMin": 0 if min0 else None,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
    }
    if not min0:
        del custom["axisSoftMin"]
    extra = {"custom": custom}
    if no_value:
        extra["noValue"] = no_value
    return _panel("timeseries", title, desc, tgts, unit, extra, {
        "legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                   "calcs": legend_calcs if legend_calcs is not None else ["lastNotNull", "max"]},
        "tooltip": {"mode": "multi", "sort": "desc"},
    })


def stat(title, desc, tgts, unit="bytes", decimals=None, thresholds=None, no_value=None):
    extra = {"color": {"mode": "thresholds"},
             "thresholds": {"mode": "absolute",
                            "steps": thresholds or [{"color": "blue", "value": None}]}}
    if decimals is not None:
        extra["decimals"] = decimals
    if no_value:
        extra["noValue"] = no_value
    return _panel("stat", title, desc, tgts, unit, extra, {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
        "orientation": "auto", "textMode": "auto",
    })


def bargauge(title, desc, tgts, unit="bytes", no_value=None, link=None):
    extra = {"color": {"mode": "continuous-BlPu"}, "min": 0}
    if no_value:
        extra["noValue"] = no_value
    if link:
        extra["links"] = [link]
    return _panel("bargauge", title, desc, tgts, unit, extra, {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True,
        "valueMode": "color", "namePlacement": "auto", "minVizHeight": 10, "minVizWidth": 0,
    })


def table(title, desc, tgts, columns, hide=(), units=None, sort_by=None, no_value=None,
          link=None):
    """Instant table queries merged into one row per label set. columns: {"Value #A": "PSS"}."""
    exclude = {"Time": True, "job": True, "instance": True, "__name__": True}
    exclude.update({h: True for h in hide})
    overrides = []
    for name, unit in (units or {}).items():
        overrides.append({"matcher": {"id": "byName", "options": name},
                          "properties": [{"id": "unit", "value": unit}]})
    if link:
        for col in ("comm", "pid"):
            overrides.append({"matcher": {"id": "byName", "options": col},
                              "properties": [{"id": "links", "value": [link]}]})
    extra = {"custom": {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False}}
    if no_value:
        extra["noValue"] = no_value
    p = _panel("table", title, desc, tgts, "bytes", extra, {
        "showHeader": True,
        "cellHeight": "sm",
        "frameIndex": 0,
        "sortBy": [{"displayName": sort_by, "desc": True}] if sort_by else [],
    })
    p["fieldConfig"]["overrides"] = overrides
    p["transformations"] = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": exclude, "renameByName": columns,
                                       "indexByName": {}}},
    ]
    return p


def top20_table(title, desc, label, column):
    """Processes, PSS, USS, RSS and swap of the 20 rows of procmem_LABEL_* with most PSS."""
    top = f"topk(20, procmem_{label}_pss_bytes{{{S}}})"
    return table(
        title, desc,
        targets((f"procmem_{label}_processes{{{S}}} and on (job, instance, {label}) {top}", ""),
                (top, ""),
                (f"procmem_{label}_uss_bytes{{{S}}} and on (job, instance, {label}) {top}", ""),
                (f"procmem_{label}_resident_bytes{{{S}}} and on (job, instance, {label}) {top}", ""),
                (f"procmem_{label}_swap_bytes{{{S}}} and on (job, instance, {label}) {top}", ""),
                instant=True, fmt="table"),
        {label: column, "Value #A": "Processes", "Value #B": "PSS", "Value #C": "USS",
         "Value #D": "RSS", "Value #E": "Swap"},
        units={"Processes": "none"}, sort_by="PSS")


# ---- layout ------------------------------------------------------------------------------------

class Layout:
    """Places panels left to right on Grafana's 24-column grid, row after row."""

    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.line_h = 0

    def _newline(self):
        self.y += self.line_h
        self.x = 0
        self.line_h = 0

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def add(self, panel, w, h):
        if self.x + w > 24:
            self._newline()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.panels.append(panel)
        self.x += w
        self.line_h = max(self.line_h, h)

    def numbered(self):
        for i, p in enumerate(self.panels, 1):
            p["id"] = i
        return self.panels


# ---- variables -----------------------------------------------------------------------------------

def ds_variable():
    return {"name": "DS_PROMETHEUS", "label": "Data source", "type": "datasource",
            "query": "prometheus", "hide": 0, "includeAll": False, "multi": False,
            "options": [], "refresh": 1, "regex": "", "skipUrlSync": False}


def query_variable(name, label, query, multi=False, include_all=False, all_value=None,
                   description=""):
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "definition": query, "query": query, "description": description,
         "hide": 0, "includeAll": include_all, "multi": multi, "options": [],
         "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1}
    if all_value is not None:
        v["allValue"] = all_value
    return v


JOB_VAR = query_variable(
    "job", "Job", "label_values(procmem_exporter_build_info, job)",
    description="The Prometheus scrape job of procmem_exporter.")
INSTANCE_VAR = query_variable(
    "instance", "Instance", 'label_values(procmem_exporter_build_info{job="$job"}, instance)',
    description="The machine: one procmem_exporter target.")


def dashboard(uid, title, description, variables, panels):
    kinds = sorted({p["type"] for p in panels if p["type"] != "row"})
    names = {"timeseries": "Time series", "stat": "Stat", "bargauge": "Bar gauge",
             "table": "Table"}
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus",
                      "description": "The Prometheus that scrapes procmem_exporter",
                      "type": "datasource", "pluginId": "prometheus",
                      "pluginName": "Prometheus"}],
        "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana",
                        "version": "10.0.0"},
                       {"type": "datasource", "id": "prometheus", "name": "Prometheus",
                        "version": "1.0.0"}]
        + [{"type": "panel", "id": k, "name": names[k], "version": ""} for k in kinds],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"title": "procmem dashboards", "type": "dashboards", "tags": ["procmem"],
                   "asDropdown": False, "includeVars": True, "keepTime": True,
                   "targetBlank": False, "icon": "external link", "tooltip": "", "url": ""}],
        "liveNow": False,
        "panels": panels,
        "refresh": "1m",
        "schemaVersion": 38,
        "tags": ["procmem", "memory", "linux"],
        "templating": {"list": [ds_variable()] + variables},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


# ---- the overview ------------------------------------------------------------------------------

def overview():
    L = Layout()

    L.row("Machine: memory of all processes")
    L.add(stat(
        "Processes' memory (PSS)",
        PSS_TRUTH + " This is procmem_pss_bytes: Pss summed over every process whose smaps_rollup "
        "was read (processes denied or skipped are missing, see the exporter health row)."
        + MACHINE_NOTE,
        targets((f"procmem_pss_bytes{{{S}}}", "PSS"))), 5, 5)
    L.add(stat(
        "Sum of RSS",
        "VmRSS (/proc/PID/status, top's RES) summed over every process read. " + RSS_TRUTH
        + " Compare with PSS on the left: the difference is pages counted more than once.",
        targets((f"sum(procmem_user_resident_bytes{{{S}}})", "RSS"))), 5, 5)
    L.add(stat(
        "Private memory (USS)",
        "USS (unique set size: Private_Clean + Private_Dirty in /proc/PID/smaps_rollup) summed "
        "over every process whose smaps_rollup was read: pages that only one process maps. "
        "Roughly what would be freed if every process exited (private clean file pages would "
        "stay in the page cache).",
        targets((f"procmem_uss_bytes{{{S}}}", "USS"))), 5, 5)
    L.add(stat(
        "Swap used by processes",
        "VmSwap (/proc/PID/status, top's SWAP) summed over every process read: their anonymous "
        "pages that were written out to swap. Swapped shared memory (tmpfs, SysV shm) is not in "
        "VmSwap; it shows in the swap quadrants below.",
        targets((f"procmem_swap_bytes{{{S}}}", "swap"))), 5, 5)
    L.add(stat(
        "RSS / PSS",
        "Sum of RSS divided by sum of PSS: how many times, on average, the RSS column counts "
        "each page processes use. 1 means nothing is shared; 3 means adding up top's RES column "
        "overstates memory threefold. PSS covers only processes whose smaps_rollup was read, "
        "so with --smaps off (no PSS) or many permission errors this ratio is meaningless.",
        targets((f"sum(procmem_user_resident_bytes{{{S}}}) / sum(procmem_pss_bytes{{{S}}})",
                 "RSS / PSS")),
        unit="none", decimals=2), 4, 5)

    L.add(timeseries(
        "PSS by quadrant (stacked)",
        PSS_TRUTH + " " + QUADRANTS + " Stacked, the four add up to the processes' memory (the "
        "PSS total, within kB rounding). Source: Pss of each mapping in /proc/PID/smaps, summed "
        "per quadrant over every process read (needs --smaps full)." + MACHINE_NOTE,
        targets((f"procmem_quadrant_pss_bytes{{{S}}}", "{{sharing}} {{backing}}")),
        stack=True), 12, 9)
    L.add(timeseries(
        "RSS by quadrant (stacked)",
        "Resident memory by quadrant: Rss of each mapping in /proc/PID/smaps, summed per "
        "quadrant over every process read. " + RSS_TRUTH + " " + QUADRANTS
        + " The shared quadrants are where RSS overcounts most.",
        targets((f"procmem_quadrant_resident_bytes{{{S}}}", "{{sharing}} {{backing}}")),
        stack=True), 12, 9)
    L.add(timeseries(
        "PSS, RSS and USS totals",
        "The machine's process memory three ways, over time. PSS (Pss in smaps_rollup, summed): "
        "what processes really use. RSS (VmRSS in status, summed): overcounts every shared page "
        "once per process that maps it. USS (Private_Clean + Private_Dirty, summed): memory no "
        "two processes share. Swap: VmSwap summed. A gap between RSS and PSS is sharing, not "
        "waste.",
        targets((f"procmem_pss_bytes{{{S}}}", "PSS"),
                (f"sum(procmem_user_resident_bytes{{{S}}})", "RSS"),
                (f"procmem_uss_bytes{{{S}}}", "USS"),
                (f"procmem_swap_bytes{{{S}}}", "swap"))), 12, 9)
    L.add(timeseries(
        "Swap by quadrant (stacked)",
        "Swapped-out memory by quadrant: Swap of each mapping in /proc/PID/smaps, summed per "
        "quadrant over every process read. Unlike VmSwap this includes swapped shared memory "
        "(shared anonymous: tmpfs, SysV shm), counted once per process mapping it. "
        + QUADRANTS,
        targets((f"procmem_quadrant_swap_bytes{{{S}}}", "{{sharing}} {{backing}}")),
        stack=True), 12, 9)
    L.add(timeseries(
        "Dirty memory by quadrant (stacked)",
        DIRTY + " Here Pss_Dirty of each mapping in /proc/PID/smaps (kernels 6.0 and later), "
        "summed per quadrant over every process read: each dirty page divided among the "
        "processes mapping it, so the stack adds up to the dirty memory itself, each page once. "
        + QUADRANTS + " Needs --smaps full.",
        targets((f"procmem_quadrant_pss_dirty_bytes{{{S}}}", "{{sharing}} {{backing}}")),
        stack=True), 12, 9)
    L.add(timeseries(
        "Dirty memory: what writeback can free, what only swap can",
        DIRTY + " The two lines split Pss_Dirty (/proc/PID/smaps, summed over every process "
        "read) that way: shared/file, which the kernel can write back to the files and then "
        "drop, and the other three quadrants, which only swapping can free (on a machine "
        "without swap: only the processes' own munmap or exit). Needs --smaps full and a "
        "kernel of 6.0 or later.",
        targets((f'procmem_quadrant_pss_dirty_bytes{{{S}, sharing="shared", backing="file"}}',
                 "writeback can free (shared file)"),
                (f"sum(procmem_quadrant_pss_dirty_bytes{{{S}}} unless "
                 f'procmem_quadrant_pss_dirty_bytes{{{S}, sharing="shared", backing="file"}})',
                 "only swap can free"))), 12, 9)
    L.add(table(
        "Quadrants now",
        "The four quadrants of every process's memory summed over the machine, at the end of "
        "the time range. Mapped: Size of the mappings (address space, resident or not). "
        "Resident: Rss (shared pages once per process). PSS: Pss (sums to real use). Swap: "
        "Swap. Dirty (PSS): Pss_Dirty, the dirty part of PSS. All from /proc/PID/smaps. "
        + QUADRANTS,
        targets((f"procmem_quadrant_virtual_bytes{{{S}}}", ""),
                (f"procmem_quadrant_resident_bytes{{{S}}}", ""),
                (f"procmem_quadrant_pss_bytes{{{S}}}", ""),
                (f"procmem_quadrant_swap_bytes{{{S}}}", ""),
                (f"procmem_quadrant_pss_dirty_bytes{{{S}}}", ""),
                instant=True, fmt="table"),
        {"sharing": "Sharing", "backing": "Backing", "Value #A": "Mapped",
         "Value #B": "Resident", "Value #C": "PSS", "Value #D": "Swap",
         "Value #E": "Dirty (PSS)"},
        sort_by="PSS"), 24, 6)

    L.row("Top processes")
    L.add(table(
        "Top 20 processes by PSS",
        "The processes using most memory, like top sorted by memory, with columns that add "
        "up. PSS: Pss in smaps_rollup (shared pages divided among their users). USS: "
        "Private_Clean + Private_Dirty in smaps_rollup (pages no other process maps). RSS: VmRSS "
        "in status (top's RES; shared pages in full). SHR: RssFile + RssShmem in status (top's "
        "SHR: file-backed resident pages plus shared memory, mapped by others or not). Swap: "
        "VmSwap. user (real uid) and unit (systemd unit from /proc/PID/cgroup) come from "
        "procmem_process_info. Click a pid or comm for its own dashboard." + PER_PROCESS_NOTE,
        targets(
            (f"topk(20, procmem_process_pss_bytes{{{P}}})", ""),
            (f"procmem_process_uss_bytes{{{P}}} and on (job, instance, pid, comm) "
             f"topk(20, procmem_process_pss_bytes{{{P}}})", ""),
            (f"procmem_process_resident_bytes{{{P}}} and on (job, instance, pid, comm) "
             f"topk(20, procmem_process_pss_bytes{{{P}}})", ""),
            (f"procmem_process_shared_bytes{{{P}}} and on (job, instance, pid, comm) "
             f"topk(20, procmem_process_pss_bytes{{{P}}})", ""),
            (f"procmem_process_swap_bytes{{{P}}} and on (job, instance, pid, comm) "
             f"topk(20, procmem_process_pss_bytes{{{P}}})", ""),
            (f"procmem_process_info{{{P}}} and on (job, instance, pid, comm) "
             f"topk(20, procmem_process_pss_bytes{{{P}}})", ""),
            instant=True, fmt="table"),
        {"Value #A": "PSS", "Value #B": "USS", "Value #C": "RSS", "Value #D": "SHR",
         "Value #E": "Swap"},
        hide=("Value #F", "exe", "ppid"), sort_by="PSS", link=TABLE_PROCESS_LINK), 24, 12)
    for metric, what, desc in (
            ("procmem_process_pss_bytes", "PSS",
             PSS_TRUTH + " The best single number for \"how much memory does this process "
             "use\"."),
            ("procmem_process_uss_bytes", "USS",
             "USS (Private_Clean + Private_Dirty in /proc/PID/smaps_rollup): resident pages no "
             "other process maps, about what exiting would free (private clean file pages stay "
             "in the page cache)."),
            ("procmem_process_resident_bytes", "RSS",
             "RSS (VmRSS in /proc/PID/status = RssAnon + RssFile + RssShmem; top's RES). "
             + RSS_TRUTH)):
        L.add(bargauge(
            f"Top 10 processes by {what}", desc + PER_PROCESS_NOTE,
            targets((f"sort_desc(topk(10, {metric}{{{P}}}))", "{{comm}} [{{pid}}]"),
                    instant=True),
            link=PROCESS_LINK), 6, 10)
    L.add(bargauge(
        "Top 10 processes by swap",
        "VmSwap in /proc/PID/status (top's SWAP): the process's anonymous pages written out to "
        "swap. Only processes with some swap are listed; none on a machine without swap, or "
        "with swap that nothing needed." + PER_PROCESS_NOTE,
        targets((f"sort_desc(topk(10, procmem_process_swap_bytes{{{P}}} > 0))",
                 "{{comm}} [{{pid}}]"), instant=True),
        no_value="No process has memory in swap", link=PROCESS_LINK), 6, 10)
    L.add(timeseries(
        "Top 10 processes by PSS over time",
        "PSS (Pss in /proc/PID/smaps_rollup) of the 10 processes with most PSS at the end of the "
        "time range, over the whole range. A restarted process is a new pid and a new line. "
        + PER_PROCESS_NOTE,
        targets((f"procmem_process_pss_bytes{{{P}}} and on (job, instance, pid, comm) "
                 f"topk(10, procmem_process_pss_bytes{{{P}}} @ end())", "{{comm}} [{{pid}}]"))),
        12, 10)
    L.add(bargauge(
        "Top 10 commands by PSS (all their processes)",
        "PSS (Pss in /proc/PID/smaps_rollup) summed over all processes with the same comm (the "
        "kernel's 15-byte process name, /proc/PID/comm), e.g. every postgres backend together. Because PSS divides shared pages among the "
        "processes sharing them, the sum is what the command really uses; the same sum of RSS "
        "would count shared buffers once per backend." + PER_PROCESS_NOTE,
        targets((f"sort_desc(topk(10, sum by (comm) (procmem_process_pss_bytes{{{P}}})))",
                 "{{comm}}"), instant=True)), 12, 10)

    L.row("Leak suspects: whose memory grows")
    L.add(bargauge(
        "Fastest-growing processes (PSS slope over the time range)",
        "Slope of a least-squares line through each process's PSS (Pss in smaps_rollup) over the "
        "whole time range (Prometheus deriv()), for processes that were already running when "
        "the range began (procmem_process_start_time_seconds), so that start-up growth and a "
        "reused pid do not count. A leak grows at a steady rate; a cache grows and then stops. "
        "Widen the time range to tell them apart. Only growing processes are listed."
        + PER_PROCESS_NOTE,
        targets((f"sort_desc(topk(10, deriv(procmem_process_pss_bytes{{{P}}}[$__range]) > 0 "
                 f"and on (job, instance, pid, comm) "
                 f"procmem_process_start_time_seconds{{{P}}} < ${{__from:date:seconds}}))",
                 "{{comm}} [{{pid}}]"), instant=True),
        unit="binBps", no_value="No process older than the time range grew",
        link=PROCESS_LINK), 12, 10)
    L.add(bargauge(
        "Fastest-growing commands (PSS slope over the time range)",
        "Slope of a least-squares line through the PSS summed over all processes of a command "
        "(comm), over the whole time range. Catches what per-process slopes miss: a service "
        "whose worker processes are recycled (each one young) while the whole keeps growing, "
        "or one that forks more and more processes. Reads the recorded series "
        "comm:procmem_process_pss_bytes:sum: needs the recording rules of "
        "config/procmem.rules.yml." + PER_PROCESS_NOTE,
        targets((f"sort_desc(topk(10, deriv(comm:procmem_process_pss_bytes:sum{{{P}}}"
                 f"[$__range]) > 0))", "{{comm}}"), instant=True),
        unit="binBps", no_value="No command grew (or the recording rules are not loaded)"),
        12, 10)
    L.add(timeseries(
        "PSS of the 5 fastest-growing processes",
        "PSS (Pss in smaps_rollup) over time of the 5 processes whose PSS rose fastest over the "
        "time range (least-squares slope, as in the panel above). A leak is a line that keeps "
        "climbing; a cache levels off." + PER_PROCESS_NOTE,
        targets((f"procmem_process_pss_bytes{{{P}}} and on (job, instance, pid, comm) "
                 f"topk(5, deriv(procmem_process_pss_bytes{{{P}}}[$__range] @ end()))",
                 "{{comm}} [{{pid}}]"))), 12, 9)
    L.add(timeseries(
        "PSS growth rate by command (1 h slope)",
        "How fast each command's PSS (summed over its processes) grows, as the least-squares "
        "slope over the preceding hour, for the 5 commands growing fastest at the end of the "
        "range. Positive for an hour or more is a leak suspect; the alert "
        "ProcmemProcessMemoryGrowing does the same per process. Reads the recorded series "
        "comm:procmem_process_pss_bytes:deriv1h: needs the recording rules of "
        "config/procmem.rules.yml." + PER_PROCESS_NOTE,
        targets((f"comm:procmem_process_pss_bytes:deriv1h{{{P}}} and on (job, instance, comm) "
                 f"topk(5, comm:procmem_process_pss_bytes:deriv1h{{{P}}} @ end())",
                 "{{comm}}")),
        unit="binBps", min0=False), 12, 9)

    L.row("Users and systemd units")
    L.add(timeseries(
        "PSS by user (stacked)",
        "PSS (Pss in smaps_rollup) summed over each user's processes (real uid, named through "
        "NSS), over every process the exporter read, not just the exported ones. Stacked, the "
        "users add up to the processes' memory.",
        targets((f"procmem_user_pss_bytes{{{S}}}", "{{user}}")), stack=True), 12, 9)
    L.add(timeseries(
        "PSS by systemd unit (top 15, stacked)",
        "PSS (Pss in smaps_rollup) summed over each systemd unit's processes (the unit comes from "
        "the process's cgroup in /proc/PID/cgroup; \"(no unit)\": processes outside any unit, or "
        "a machine without systemd), for the 15 units with most PSS at the end of the range. "
        "Unlike the cgroup's memory.current this excludes page cache and kernel memory the unit "
        "caused, and counts shared pages by share.",
        targets((f'label_replace(procmem_unit_pss_bytes{{{S}}} and on (job, instance, unit) '
                 f'topk(15, procmem_unit_pss_bytes{{{S}}} @ end()), '
                 f'"unit", "(no unit)", "unit", "")', "{{unit}}")), stack=True), 12, 9)
    L.add(table(
        "Users now",
        "Per user (real uid in /proc/PID/status, named through NSS), over every process read: "
        "Processes: how many. PSS: Pss of /proc/PID/smaps_rollup summed (real use). USS: "
        "Private_Clean + Private_Dirty of smaps_rollup summed. RSS: VmRSS of /proc/PID/status "
        "summed (shared pages once per process). Swap: VmSwap of status summed.",
        targets((f"procmem_user_processes{{{S}}}", ""),
                (f"procmem_user_pss_bytes{{{S}}}", ""),
                (f"procmem_user_uss_bytes{{{S}}}", ""),
                (f"procmem_user_resident_bytes{{{S}}}", ""),
                (f"procmem_user_swap_bytes{{{S}}}", ""),
                instant=True, fmt="table"),
        {"user": "User", "Value #A": "Processes", "Value #B": "PSS", "Value #C": "USS",
         "Value #D": "RSS", "Value #E": "Swap"},
        units={"Processes": "none"}, sort_by="PSS"), 12, 9)
    L.add(top20_table(
        "Systemd units now (top 20 by PSS)",
        "Per systemd unit (from /proc/PID/cgroup; empty: outside any unit), over every process "
        "read, for the 20 units with most PSS: Processes, PSS (Pss of smaps_rollup: real use), "
        "USS (Private_Clean + Private_Dirty of smaps_rollup), RSS (VmRSS of status: shared "
        "pages once per process) and Swap (VmSwap of status).",
        "unit", "Unit"), 12, 9)

    L.row("Mapped files")
    L.add(bargauge(
        "Mapped files with most PSS",
        "The files whose mappings hold most PSS, summed over every process that maps them "
        "(Pss of the file's mappings in /proc/PID/smaps): shared libraries, executables, "
        "mmapped data files. A library mapped by 200 processes costs its PSS once, not 200 "
        "times. The exporter keeps the top --mapping-top files (default 20; needs --smaps full).",
        targets((f"sort_desc(procmem_mapping_pss_bytes{{{S}}})", "{{path}}"), instant=True)),
        12, 10)
    L.add(table(
        "Mapped files: PSS and RSS",
        "For the same files, from the file's mappings in /proc/PID/smaps of every process: PSS "
        "(Pss: shared pages divided among the processes mapping them) and Resident (Rss summed "
        "over processes: each shared page once per process). Resident / PSS tells how many processes share the file's pages.",
        targets((f"procmem_mapping_pss_bytes{{{S}}}", ""),
                (f"procmem_mapping_resident_bytes{{{S}}}", ""),
                instant=True, fmt="table"),
        {"path": "File", "device": "Device", "inode": "Inode", "Value #A": "PSS",
         "Value #B": "Resident"}, sort_by="PSS"), 12, 10)

    L.row("Exporter health")
    L.add(timeseries(
        "Collection cycle duration",
        "Wall time of each collection cycle (procmem_collect_duration_seconds): reading status, "
        "smaps_rollup and smaps of every process. Full smaps costs about 1.8 us of CPU per "
        "mapping, most of it in the kernel; a cycle close to --interval means the exporter "
        "cannot keep up (see --smaps-budget, --smaps rollup). Scrapes do not wait for it: they "
        "get the last finished cycle.",
        targets((f"procmem_collect_duration_seconds{{{S}}}", "cycle")), unit="s"), 8, 8)
    L.add(timeseries(
        "Processes not read in full, per cycle",
        "procmem_collect_errors_total by reason, per collection cycle. vanished: the process "
        "exited while being read (normal). permission: EACCES on smaps (its status figures are "
        "kept; the daemon needs root or CAP_SYS_PTRACE). parse: /proc text we could not parse "
        "(a bug: report it). skipped_large: RSS over --smaps-max-rss and not read yet (such "
        "processes are read on a slower cadence, --smaps-large-share; reading stalls a huge "
        "process). skipped_budget: the cycle's --smaps-budget ran out before a due full smaps "
        "read (the process keeps its last quadrants; its PSS is read regardless).",
        targets((f"rate(procmem_collect_errors_total{{{S}}}[$__rate_interval]) "
                 f"/ ignoring (reason) group_left "
                 f"rate(procmem_collect_cycles_total{{{S}}}[$__rate_interval])", "{{reason}}")),
        unit="none"), 8, 8)
    L.add(stat(
        "Skipped processes in the time range",
        "Processes not read in full in the time range, on purpose: over --smaps-max-rss and "
        "not read yet (skipped_large: status figures only, and the machine's PSS total misses "
        "them) or a full smaps read put off past the cycle's --smaps-budget (skipped_budget: "
        "last quadrants kept, PSS read as always).",
        targets((f'sum(increase(procmem_collect_errors_total{{{S}, '
                 f'reason=~"skipped_large|skipped_budget"}}[$__range]))', "skipped")),
        unit="none", decimals=0,
        thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}]), 4, 4)
    L.add(stat(
        "Last collection",
        "Seconds since the last collection cycle ended (time() - "
        "procmem_last_collect_timestamp_seconds). Should stay below --interval plus a cycle's "
        "duration; the alert ProcmemCollectorStalled fires past 3 minutes.",
        targets((f"time() - procmem_last_collect_timestamp_seconds{{{S}}}", "age")),
        unit="s", thresholds=[{"color": "green", "value": None},
                              {"color": "orange", "value": 60}, {"color": "red", "value": 180}]),
        4, 4)
    L.add(stat(
        "Scrape",
        "up: 1 when Prometheus's last scrape of the exporter succeeded. The exporter serves a "
        "pre-rendered page, so scrape_duration_seconds stays in milliseconds however many "
        "processes there are.",
        targets((f"up{{{S}}}", "up")), unit="none",
        thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}]), 4, 4)
    L.add(stat(
        "Scrape duration",
        "scrape_duration_seconds: how long Prometheus's scrape of the exporter took. A scrape "
        "never reads /proc (the collector thread does, every --interval), so this stays small.",
        targets((f"scrape_duration_seconds{{{S}}}", "scrape")), unit="s"), 4, 4)
    L.add(timeseries(
        "Processes",
        "Processes read in the last cycle (procmem_processes; kernel threads and zombies not "
        "included), of those the ones that got per-process series (procmem_processes_exported, "
        "after --include, --exclude, --min-rss and --top), and kernel threads seen "
        "(procmem_kernel_threads, Kthread: 1 in status: no memory of their own).",
        targets((f"procmem_processes{{{S}}}", "read"),
                (f"procmem_processes_exported{{{S}}}", "exported"),
                (f"procmem_kernel_threads{{{S}}}", "kernel threads")), unit="none"), 8, 8)
    L.add(timeseries(
        "Exporter CPU and memory",
        "The exporter's own cost: CPU (rate of process_cpu_seconds_total, 1 = one core busy) and "
        "resident memory (process_resident_memory_bytes, VmRSS of the daemon).",
        targets((f"rate(process_cpu_seconds_total{{{S}}}[$__rate_interval])", "CPU"),
                (f"process_resident_memory_bytes{{{S}}}", "resident memory")),
        unit="percentunit"), 8, 8)
    L.panels[-1]["fieldConfig"]["overrides"] = [{
        "matcher": {"id": "byName", "options": "resident memory"},
        "properties": [{"id": "unit", "value": "bytes"},
                       {"id": "custom.axisPlacement", "value": "right"}]}]
    L.add(timeseries(
        "HTTP requests by status code",
        "Responses the exporter sent per second (procmem_http_requests_total), by HTTP status: "
        "200 for /metrics and the other endpoints, 404 unknown paths, 405 other methods, 401 "
        "failed basic auth when enabled, 400 a request with a body or malformed, 413, 414, 431 "
        "and 505 requests libmicrohttpd refused by itself.",
        targets((f"sum by (code) (rate(procmem_http_requests_total{{{S}}}[$__rate_interval]))",
                 "{{code}}")), unit="reqps"), 8, 8)

    variables = [JOB_VAR, INSTANCE_VAR, query_variable(
        "process", "Process (comm)",
        'label_values(procmem_process_info{job="$job", instance="$instance"}, comm)',
        multi=True, include_all=True, all_value=".*",
        description="Filters the per-process panels by comm (the kernel's 15-byte name).")]
    return dashboard(
        "procmem-overview", "procmem: process memory overview",
        "Where a machine's memory goes, by process, user and systemd unit, in the kernel's own "
        "figures (RSS, PSS, USS, swap, the private/shared x anonymous/file quadrants), with leak "
        "suspects and the exporter's health. Generated by tools/gen-dashboards.py.",
        variables, L.numbered())


# ---- one process ------------------------------------------------------------------------------------

def process():
    L = Layout()
    MULTI = (" With several pids selected (a command with many processes) the panel shows "
             "their sum; summed RSS and SHR count shared pages once per process, summed PSS "
             "does not.")
    DETAIL = (" Only for the processes with every per-process family: the exporter's "
              "--detail-top (by default the 10 with most PSS); the others have the summary "
              "(PSS, USS, RSS, SHR, swap).")

    L.row("$process")
    L.add(table(
        "Processes",
        "The selected processes: pid, parent pid, user (real uid), systemd unit (from "
        "/proc/PID/cgroup), executable (/proc/PID/exe) from procmem_process_info, and when each "
        "started (starttime in /proc/PID/stat plus the boot time: a pid reused by a new process "
        "has a new start time).",
        targets((f"procmem_process_info{{{Q}}}", ""),
                (f"procmem_process_start_time_seconds{{{Q}}} * 1000", ""),
                (f"procmem_process_pss_bytes{{{Q}}}", ""),
                instant=True, fmt="table"),
        {"Value #B": "Started", "Value #C": "PSS"},
        hide=("Value #A",), units={"Started": "dateTimeAsIso"}, sort_by="PSS"), 24, 6)
    for title, expr, desc in (
            ("PSS", f"sum(procmem_process_pss_bytes{{{Q}}})",
             PSS_TRUTH + " The process's fair share of the memory it maps."),
            ("USS", f"sum(procmem_process_uss_bytes{{{Q}}})",
             "USS: Private_Clean + Private_Dirty in /proc/PID/smaps_rollup, resident pages no "
             "other process maps; about what exiting would free."),
            ("RSS", f"sum(procmem_process_resident_bytes{{{Q}}})",
             "VmRSS in /proc/PID/status (top's RES). " + RSS_TRUTH),
            ("SHR", f"sum(procmem_process_shared_bytes{{{Q}}})",
             "RssFile + RssShmem in /proc/PID/status (top's SHR): resident file-backed pages "
             "plus shared memory (tmpfs, SysV shm, shared anonymous mappings). Shareable, not "
             "necessarily shared: a file page only this process maps is in SHR too."),
            ("Swap", f"sum(procmem_process_swap_bytes{{{Q}}})",
             "VmSwap in /proc/PID/status (top's SWAP): anonymous pages written out to swap."),
    ):
        L.add(stat(title, desc + MULTI, targets((expr, title))), 4, 4)
    L.add(stat(
        "Processes",
        "How many processes of this command are selected and exported (a process appears when "
        "the exporter's --top/--include/--exclude/--min-rss select it, and --top only chooses "
        "among processes older than --top-min-age).",
        targets((f"count(procmem_process_info{{{Q}}})", "processes")), unit="none"), 4, 4)

    L.add(timeseries(
        "RSS, PSS, USS, SHR, DATA and swap",
        "The columns top and smem show, from the kernel, over time. RSS: VmRSS in status (all "
        "resident pages mapped, shared ones in full). PSS: Pss in smaps_rollup (shared pages "
        "divided by their sharers; the fair share). USS: Private_Clean + Private_Dirty (pages "
        "only this process maps). SHR: RssFile + RssShmem (resident file pages and shared "
        "memory, shareable rather than shared). DATA: VmData, private writable mappings other "
        "than the main stack (heap, anonymous mmaps, thread stacks) as reserved address space: "
        "it says nothing about how much is resident (the data field of /proc/PID/statm is "
        "VmData + VmStk, so tools that read statm show a little more). Swap: VmSwap. Expect "
        "USS <= PSS <= RSS. DATA is one of the detail families:" + DETAIL + MULTI,
        targets((f"sum(procmem_process_resident_bytes{{{Q}}})", "RSS"),
                (f"sum(procmem_process_pss_bytes{{{Q}}})", "PSS"),
                (f"sum(procmem_process_uss_bytes{{{Q}}})", "USS"),
                (f"sum(procmem_process_shared_bytes{{{Q}}})", "SHR"),
                (f"sum(procmem_process_data_bytes{{{Q}}})", "DATA (reserved)"),
                (f"sum(procmem_process_swap_bytes{{{Q}}})", "swap"))), 16, 10)
    L.add(timeseries(
        "Virtual size and code",
        "VIRT: VmSize in status, the whole address space (mapped, resident or not; allocators "
        "and runtimes reserve far more than they use, so it is no measure of memory use). CODE: "
        "VmExe, the executable's text." + DETAIL + MULTI,
        targets((f"sum(procmem_process_virtual_bytes{{{Q}}})", "VIRT"),
                (f"sum(procmem_process_code_bytes{{{Q}}})", "CODE"))), 8, 10)
    L.add(timeseries(
        "RSS and dirty",
        "RSS (VmRSS in /proc/PID/status) against its dirty part, Shared_Dirty + Private_Dirty "
        "in /proc/PID/smaps_rollup (what pmap -x totals as Dirty). High RSS with little dirty: "
        "memory read, not modified, that the kernel can drop and read again. Dirty close to RSS: "
        "memory being modified. Dirty that keeps growing: a leak suspect. " + DIRTY + DETAIL + MULTI,
        targets((f"sum(procmem_process_resident_bytes{{{Q}}})", "RSS"),
                (f"sum(procmem_process_dirty_bytes{{{Q}}})", "dirty"))), 12, 8)
    L.add(timeseries(
        "Transparent huge pages and locked memory",
        "THP: AnonHugePages in /proc/PID/smaps_rollup, anonymous memory in transparent huge "
        "pages mapped whole (2 MiB on x86-64): what to watch when tuning THP for a database. "
        "Locked: Locked in smaps_rollup, the proportional set size of the process's mlocked "
        "mappings (mlock, mlockall, MAP_LOCKED), memory the kernel never reclaims or swaps; "
        "VmLck in status would be their size instead." + DETAIL + MULTI,
        targets((f"sum(procmem_process_anon_huge_pages_bytes{{{Q}}})", "THP (AnonHugePages)"),
                (f"sum(procmem_process_locked_pss_bytes{{{Q}}})", "locked (PSS)"))), 12, 8)
    L.add(timeseries(
        "PSS per process",
        "PSS (Pss in /proc/PID/smaps_rollup) of each selected process. A restart shows as one "
        "line ending and another beginning: a new pid.",
        targets((f"procmem_process_pss_bytes{{{Q}}}", "{{pid}}"))), 12, 8)
    L.add(timeseries(
        "PSS growth rate (1 h slope)",
        "Least-squares slope of each process's PSS (Pss in /proc/PID/smaps_rollup) over the "
        "preceding hour (Prometheus deriv()). "
        "Positive for hours on end is what a leak looks like; the alert "
        "ProcmemProcessMemoryGrowing fires on steady growth of at least 16 MiB and 10% in an "
        "hour.",
        targets((f"deriv(procmem_process_pss_bytes{{{Q}}}[1h])", "{{pid}}")),
        unit="binBps", min0=False), 12, 8)

    L.row("Quadrants: private/shared x anonymous/file")
    for title, metric, what in (
            ("PSS by quadrant", "procmem_process_quadrant_pss_bytes",
             "Pss per quadrant, summed over the mappings of /proc/PID/smaps: where the fair share "
             "sits. Private anonymous growing steadily is the classic heap leak."),
            ("RSS by quadrant", "procmem_process_quadrant_resident_bytes",
             "Rss per quadrant, summed over the mappings of /proc/PID/smaps (sums to Rss in "
             "smaps_rollup). Shared quadrants count pages other processes map too."),
            ("Dirty by quadrant", "procmem_process_quadrant_dirty_bytes",
             "Shared_Dirty + Private_Dirty per quadrant, summed over the mappings of "
             "/proc/PID/smaps: pmap -x's Dirty column added up by quadrant (sums to the process's "
             "dirty). " + DIRTY),
            ("Swap by quadrant", "procmem_process_quadrant_swap_bytes",
             "Swap per quadrant, summed over the mappings of /proc/PID/smaps. Includes swapped "
             "shared memory (shared anonymous), which VmSwap leaves out."),
            ("Mapped (virtual) by quadrant", "procmem_process_quadrant_virtual_bytes",
             "Size per quadrant, summed over the mappings of /proc/PID/smaps: address space, "
             "resident or not. Reserved arenas and thread stacks make private anonymous large "
             "here without using memory.")):
        L.add(timeseries(
            title + " (stacked)", what + " " + QUADRANTS + " Needs --smaps full." + DETAIL + MULTI,
            targets((f"sum by (sharing, backing) ({metric}{{{Q}}})",
                     "{{sharing}} {{backing}}")), stack=True), 12, 8)
    L.add(timeseries(
        "PSS by kind of page (stacked)",
        "Pss_Anon, Pss_File and Pss_Shmem of /proc/PID/smaps_rollup (kernels 5.x and later): "
        "the fair share split by what the pages are. Unlike the quadrants, this goes by page, "
        "not by mapping: pages a process wrote in a private file mapping count as anon here."
        + DETAIL + MULTI,
        targets((f"sum by (kind) (procmem_process_pss_kind_bytes{{{Q}}})", "{{kind}}")),
        stack=True), 12, 8)
    L.add(timeseries(
        "Swap and proportional swap",
        "Swap: VmSwap in status, the process's anonymous pages in swap. Swap PSS: SwapPss in "
        "smaps_rollup, each swapped page divided by the number of processes sharing it (pages "
        "swapped after a fork are shared until written). For per-file detail of a process, run "
        "pmap -x PID or read /proc/PID/smaps: the exporter keeps per-file figures only "
        "machine-wide (overview dashboard, Mapped files). Swap PSS is one of the detail "
        "families:" + DETAIL + MULTI,
        targets((f"sum(procmem_process_swap_bytes{{{Q}}})", "swap"),
                (f"sum(procmem_process_swap_pss_bytes{{{Q}}})", "swap PSS"))), 12, 8)

    variables = [JOB_VAR, INSTANCE_VAR,
                 query_variable(
                     "process", "Process (comm)",
                     'label_values(procmem_process_info{job="$job", instance="$instance"}, comm)',
                     description="The command (comm, the kernel's 15-byte process name)."),
                 query_variable(
                     "pid", "pid",
                     'label_values(procmem_process_info{job="$job", instance="$instance", '
                     'comm="$process"}, pid)',
                     multi=True, include_all=True, all_value=".*",
                     description="Some or all processes of that command.")]
    return dashboard(
        "procmem-process", "procmem: process",
        "One process, or every process of one command, in depth: RSS, PSS, USS, SHR, DATA, "
        "swap and the four quadrants over time, in the kernel's own figures. Generated by "
        "tools/gen-dashboards.py.",
        variables, L.numbered())


# ---- containers, pods and cgroups ------------------------------------------------------------------

# kube-state-metrics' pod names, keyed by the UID the exporter reads from the pod's cgroup (max by
# drops kube-state-metrics' own job and instance and merges its replicas)
KSM_PODS = ('label_replace(max by (uid, namespace, pod) (kube_pod_info), "pod_uid", "$1", "uid", '
            '"(.+)")')
NAMES_NOTE = (
    " Pod names and namespaces come from kube-state-metrics (kube_pod_info, joined on the pod's "
    "UID) when Prometheus scrapes it; without it the pod shows as its UID.")
CGROUP_NOTE = (
    " The exporter reads each process's cgroup from /proc/PID/cgroup and recognises containers "
    "(Docker, containerd, CRI-O, Podman, LXC, systemd-nspawn) and Kubernetes pods by the names "
    "their runtimes and the kubelet give cgroups. PSS divides each shared page among the "
    "processes mapping it, so unlike the cgroup's own memory.current (cAdvisor's working set), "
    "pages shared between containers are not charged to whichever touched them first, and page "
    "cache that no process maps is not in it. Past --cgroup-top (default 20) the rest are summed "
    "under cgroup=\"other\".")


def named(expr):
    """expr (series with a pod_uid label) with namespace and pod added from kube-state-metrics,
    and as it is where kube-state-metrics knows no such pod."""
    return f"(({expr}) * on (pod_uid) group_left (namespace, pod) {KSM_PODS}) or on (pod_uid) ({expr})"


def short_id(expr):
    """A 12-character container_id, as docker ps shows it, in short_id."""
    return f'label_replace({expr}, "short_id", "$1", "container_id", "(.{{1,12}}).*")'


def containers():
    L = Layout()
    PODS = f'{S}, pod_uid!=""'

    L.row("Kubernetes pods")
    L.add(timeseries(
        "PSS by pod (top 15, stacked)",
        "PSS (Pss in /proc/PID/smaps_rollup) summed over each pod's processes: its containers, "
        "its sandbox (pause) and any runtime monitor in its cgroup, for the 15 pods with most PSS "
        "at the end of the range. Stacked, they add up to what the pods really use." + NAMES_NOTE
        + CGROUP_NOTE,
        targets((named(f"procmem_pod_pss_bytes{{{PODS}}} and on (job, instance, pod_uid, cgroup) "
                       f"topk(15, procmem_pod_pss_bytes{{{PODS}}} @ end())"),
                 "{{namespace}}/{{pod}} {{pod_uid}}")), stack=True), 12, 9)
    L.add(bargauge(
        "Fastest-growing pods (PSS slope over the time range)",
        "Slope of a least-squares line through each pod's PSS (Pss in smaps_rollup summed over "
        "its processes) over the whole time range (Prometheus deriv()). A pod that leaks grows "
        "at a steady rate even when its containers restart: the pod's sum survives them. Only "
        "growing pods are listed." + NAMES_NOTE,
        targets((f"sort_desc({named(f'topk(10, deriv(procmem_pod_pss_bytes{{{PODS}}}[$__range]) > 0)')})",
                 "{{namespace}}/{{pod}} {{pod_uid}}"), instant=True),
        unit="binBps", no_value="No pod grew in the time range"), 12, 9)
    L.add(table(
        "Pods now",
        "Per pod, over the processes in its cgroup: PSS (Pss of /proc/PID/smaps_rollup summed: "
        "its fair share of memory, shared pages divided among their users), USS (Private_Clean "
        "+ Private_Dirty: what it alone uses), RSS (VmRSS of status summed: shared pages once "
        "per process) and Swap (VmSwap)." + NAMES_NOTE,
        targets((named(f"procmem_pod_pss_bytes{{{PODS}}}"), ""),
                (named(f"procmem_pod_uss_bytes{{{PODS}}}"), ""),
                (named(f"procmem_pod_resident_bytes{{{PODS}}}"), ""),
                (named(f"procmem_pod_swap_bytes{{{PODS}}}"), ""),
                instant=True, fmt="table"),
        {"namespace": "Namespace", "pod": "Pod", "pod_uid": "UID", "Value #A": "PSS",
         "Value #B": "USS", "Value #C": "RSS", "Value #D": "Swap"},
        hide=("cgroup",), sort_by="PSS"), 12, 9)
    L.add(table(
        "Pods: private and shared PSS",
        "Where each pod's PSS sits, summed over its containers' processes (Pss of their "
        "mappings in /proc/PID/smaps, by quadrant; needs --smaps full): private anonymous is "
        "heap and stacks (what a leak grows), private file its binaries' and libraries' pages "
        "mapped by it alone, shared anonymous shared memory, shared file the files it maps "
        "MAP_SHARED. Pages a pod shares with its neighbours count by share in each: \"this pod "
        "shares 300 MB of file pages\" shows here." + NAMES_NOTE,
        targets(*[(named(f'sum by (pod_uid) (procmem_container_quadrant_pss_bytes{{{PODS}, '
                         f'sharing="{sh}", backing="{bk}"}})'), "")
                  for sh, bk in (("private", "anonymous"), ("private", "file"),
                                 ("shared", "anonymous"), ("shared", "file"))],
                instant=True, fmt="table"),
        {"namespace": "Namespace", "pod": "Pod", "pod_uid": "UID",
         "Value #A": "Private anonymous", "Value #B": "Private file",
         "Value #C": "Shared anonymous", "Value #D": "Shared file"},
        sort_by="Private anonymous"), 12, 9)
    L.add(timeseries(
        "PSS growth rate by pod (1 h slope)",
        "How fast each pod's PSS (summed over its processes) grows, as the least-squares slope "
        "over the preceding hour, for the 5 pods growing fastest at the end of the range. "
        "Positive for an hour or more is a leak suspect. Reads the recorded series "
        "pod_uid:procmem_pod_pss_bytes:deriv1h: needs the recording rules of "
        "config/procmem.rules.yml." + NAMES_NOTE,
        targets((named(f"pod_uid:procmem_pod_pss_bytes:deriv1h{{{PODS}}} and on (job, instance, pod_uid) "
                       f"topk(5, pod_uid:procmem_pod_pss_bytes:deriv1h{{{PODS}}} @ end())"),
                 "{{namespace}}/{{pod}} {{pod_uid}}")),
        unit="binBps", min0=False), 24, 8)

    L.row("Containers")
    L.add(timeseries(
        "PSS by container (top 15, stacked)",
        "PSS (Pss in /proc/PID/smaps_rollup) summed over each container's processes (those in "
        "its cgroup and below), for the 15 containers with most PSS at the end of the range; "
        "the legend shows the runtime and the first 12 digits of the container ID, as docker ps "
        "and crictl ps do." + CGROUP_NOTE,
        targets((short_id(f"procmem_container_pss_bytes{{{S}}} and on (job, instance, cgroup) "
                          f"topk(15, procmem_container_pss_bytes{{{S}}} @ end())"),
                 "{{runtime}} {{short_id}}")), stack=True), 12, 9)
    L.add(timeseries(
        "Containers' PSS by quadrant (stacked)",
        "PSS of every container's processes, by quadrant: Pss of each mapping in /proc/PID/smaps "
        "summed (needs --smaps full). " + QUADRANTS + " Shared file is what containers share "
        "with each other and the host (a common base image's libraries), counted by share.",
        targets((f"sum by (sharing, backing) (procmem_container_quadrant_pss_bytes{{{S}}})",
                 "{{sharing}} {{backing}}")), stack=True), 12, 9)
    L.add(table(
        "Containers now",
        "Per container, over the processes in its cgroup and below: PSS (Pss of smaps_rollup "
        "summed), USS (Private_Clean + Private_Dirty), RSS (VmRSS of status: shared pages once "
        "per process), Swap (VmSwap); its runtime, ID and pod UID as the cgroup path names them, "
        "and the cgroup (cAdvisor's id of the same container)." + CGROUP_NOTE,
        targets((f"procmem_container_pss_bytes{{{S}}}", ""),
                (f"procmem_container_uss_bytes{{{S}}}", ""),
                (f"procmem_container_resident_bytes{{{S}}}", ""),
                (f"procmem_container_swap_bytes{{{S}}}", ""),
                instant=True, fmt="table"),
        {"runtime": "Runtime", "container_id": "Container", "pod_uid": "Pod UID",
         "cgroup": "Cgroup", "Value #A": "PSS", "Value #B": "USS", "Value #C": "RSS",
         "Value #D": "Swap"},
        sort_by="PSS"), 24, 9)
    L.add(bargauge(
        "Fastest-growing containers (PSS slope over the time range)",
        "Slope of a least-squares line through each container's PSS (Pss in smaps_rollup summed "
        "over its processes) over the whole time range (Prometheus deriv()). A restarted "
        "container is a new ID and a new line. Only growing containers are listed.",
        targets((short_id(f"sort_desc(topk(10, deriv(procmem_container_pss_bytes{{{S}}}[$__range]) > 0))"),
                 "{{runtime}} {{short_id}}"), instant=True),
        unit="binBps", no_value="No container grew in the time range"), 24, 8)

    L.row("Cgroups")
    L.add(timeseries(
        "PSS by cgroup (top 15, stacked)",
        "PSS (Pss in /proc/PID/smaps_rollup) summed over the processes directly in each cgroup, "
        "named as /proc/PID/cgroup names it (cAdvisor's id label): on cgroup v2 the unified "
        "path, on v1 machines the name=systemd or memory controller's one; for the 15 cgroups "
        "with most PSS at the end of the range." + CGROUP_NOTE,
        targets((f"procmem_cgroup_pss_bytes{{{S}}} and on (job, instance, cgroup) "
                 f"topk(15, procmem_cgroup_pss_bytes{{{S}}} @ end())", "{{cgroup}}")),
        stack=True), 12, 9)
    L.add(top20_table(
        "Cgroups now (top 20 by PSS)",
        "Per cgroup, over the processes directly in it (from /proc/PID/cgroup), for the 20 with "
        "most PSS: Processes, PSS (Pss of smaps_rollup), USS (Private_Clean + Private_Dirty), "
        "RSS (VmRSS of status) and Swap (VmSwap). cgroup \"\" holds processes whose cgroup file "
        "the exporter refused (see the ProcmemParseErrors alert), \"other\" the cgroups past "
        "--cgroup-top.",
        "cgroup", "Cgroup"), 12, 9)
    for title, metric, what in (
            ("Cgroups", "procmem_cgroups", "cgroups holding the processes read"),
            ("Containers", "procmem_containers", "containers recognised from their cgroups"),
            ("Pods", "procmem_pods", "Kubernetes pods recognised from their cgroups")):
        L.add(stat(
            title,
            f"How many {what} in the last collection cycle ({metric}), all of them: past "
            "--cgroup-top the rest are summed under cgroup=\"other\". Read from /proc/PID/cgroup.",
            targets((f"{metric}{{{S}}}", title)), unit="none", decimals=0), 8, 4)

    variables = [JOB_VAR, INSTANCE_VAR]
    return dashboard(
        "procmem-containers", "procmem: containers and pods",
        "Whose memory it is on a container host: PSS, USS, RSS and swap by Kubernetes pod, by "
        "container and by cgroup, from each process's /proc/PID/cgroup, with pages shared "
        "between containers divided among them. Generated by tools/gen-dashboards.py.",
        variables, L.numbered())


def render(d):
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


def outputs():
    return {"procmem-overview.json": render(overview()),
            "procmem-process.json": render(process()),
            "procmem-containers.json": render(containers())}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "dashboards")
    os.makedirs(outdir, exist_ok=True)
    for name, text in outputs().items():
        with open(os.path.join(outdir, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
