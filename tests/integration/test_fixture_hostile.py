#!/usr/bin/env python3
"""Odd process states on the fixture tree tests/fixtures/hostile (its README.md derives every
expected value by hand from the files):

  - 500, whose thread-group leader exited while thread 501 holds 256 MiB: read through
    /proc/500/task/501 in every smaps mode, exported under the leader's identity, and counted in
    the machine totals and the user and unit sums;
  - 510, a zombie with no thread left: skipped, no error;
  - 700, whose full smaps does not parse: a `parse` error, no quadrants, but its smaps_rollup
    figures stand.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import require_nss  # noqa: E402
from procmem import FIXTURES, Test, once, parse, promtool_check, sample_value  # noqa: E402

require_nss()
t = Test("fixture tree of odd process states: a leader that exited, a zombie, a garbled smaps")

PROC = os.path.join(FIXTURES, "hostile")
Q = [(s, b) for s in ("private", "shared") for b in ("anonymous", "file")]

# README.md, "Expected figures"
P500 = {
    "virtual": 268582912, "resident": 268455936, "shared": 8192, "data": 268439552,
    "code": 8192, "swap": 0,
}
R500 = {"pss": 268455936, "uss": 268455936, "swap_pss": 0,
        "kind": {"anon": 268447744, "file": 8192, "shmem": 0}}
QUAD500 = {
    "virtual": {("private", "anonymous"): 268574720, ("private", "file"): 8192},
    "resident": {("private", "anonymous"): 268447744, ("private", "file"): 8192},
    "pss": {("private", "anonymous"): 268447744, ("private", "file"): 8192},
    "swap": {},
}
P700 = {
    "virtual": 2232320, "resident": 1064960, "shared": 942080, "data": 266240, "code": 40960,
    "swap": 0,
}
R700 = {"pss": 440320, "uss": 163840, "swap_pss": 0,
        "kind": {"anon": 122880, "file": 317440, "shmem": 0}}
INFO = {
    "500": {"comm": "leaderless", "user": "4242", "unit": "leaderless.service",
            "exe": "/opt/leaderless/bin/leaderless", "ppid": "1"},
    "700": {"comm": "garbled", "user": "root", "unit": "garbled.service",
            "exe": "/usr/sbin/garbled", "ppid": "1"},
}
START = {"500": 1700000500, "700": 1700000700}


def check_process(s, pid, status, rollup, quad, mode):
    what = f"{mode}: {pid}"
    for fam, want in status.items():
        t.eq(sample_value(s, f"procmem_process_{fam}_bytes", pid=pid), want, f"{what}: {fam}")
    t.eq(sample_value(s, "procmem_process_start_time_seconds", pid=pid), START[pid],
         f"{what}: start time (the leader's)")
    info = [l for n, l, v in s if n == "procmem_process_info" and l["pid"] == pid]
    t.eq(len(info), 1, f"{what}: one procmem_process_info")
    if info:
        t.eq({k: info[0][k] for k in INFO[pid]}, INFO[pid], f"{what}: its info labels")
    for fam in ("pss", "uss", "swap_pss"):
        t.eq(sample_value(s, f"procmem_process_{fam}_bytes", pid=pid),
             rollup[fam] if mode != "off" else None, f"{what}: {fam}")
    for kind, want in rollup["kind"].items():
        t.eq(sample_value(s, "procmem_process_pss_kind_bytes", pid=pid, kind=kind),
             want if mode != "off" else None, f"{what}: pss of kind {kind}")
    for fam in ("virtual", "resident", "pss", "swap"):
        for sh, b in Q:
            want = None
            if mode == "full" and quad is not None:
                want = quad[fam].get((sh, b), 0)
            t.eq(sample_value(s, f"procmem_process_quadrant_{fam}_bytes", pid=pid, sharing=sh,
                              backing=b), want, f"{what}: quadrant {fam} {sh}/{b}")


for mode in ("off", "rollup", "full"):
    text = once("--procfs", PROC, "--smaps", mode, "--top", "0", "--detail-top", "0", "--smaps-budget", "0")
    t.eq(promtool_check(text), (0, ""), f"{mode}: promtool check metrics: nothing to report")
    s = parse(text)
    t.eq(sorted({l["pid"] for n, l, v in s if n == "procmem_process_info"}), ["500", "700"],
         f"{mode}: 500 and 700 get series, the zombie 510 none")
    t.eq(sample_value(s, "procmem_processes"), 2, f"{mode}: procmem_processes")
    errors = {l["reason"]: int(v) for n, l, v in s if n == "procmem_collect_errors_total"}
    t.eq(errors, {"vanished": 0, "permission": 0, "parse": 1 if mode == "full" else 0,
                  "skipped_large": 0, "skipped_budget": 0}, f"{mode}: errors")
    check_process(s, "500", P500, R500, QUAD500, mode)
    check_process(s, "700", P700, R700, None, mode)

    # the leaderless process in the sums
    for user, unit, st, ru in (("4242", "leaderless.service", P500, R500),
                               ("root", "garbled.service", P700, R700)):
        for kind, key in (("user", user), ("unit", unit)):
            lab = {kind: key}
            t.eq(sample_value(s, f"procmem_{kind}_processes", **lab), 1, f"{mode}: {kind} {key}: processes")
            t.eq(sample_value(s, f"procmem_{kind}_resident_bytes", **lab), st["resident"],
                 f"{mode}: {kind} {key}: resident")
            for fam in ("pss", "uss"):
                t.eq(sample_value(s, f"procmem_{kind}_{fam}_bytes", **lab),
                     ru[fam] if mode != "off" else None, f"{mode}: {kind} {key}: {fam}")
    if mode != "off":
        t.eq(sample_value(s, "procmem_pss_bytes"), R500["pss"] + R700["pss"], f"{mode}: procmem_pss_bytes")
        t.eq(sample_value(s, "procmem_uss_bytes"), R500["uss"] + R700["uss"], f"{mode}: procmem_uss_bytes")
    if mode == "full":
        for fam in ("virtual", "resident", "pss", "swap"):
            for sh, b in Q:
                t.eq(sample_value(s, f"procmem_quadrant_{fam}_bytes", sharing=sh, backing=b),
                     QUAD500[fam].get((sh, b), 0), f"full: machine quadrant {fam} {sh}/{b}: 500's")
        exe = INFO["500"]["exe"]
        t.eq(sample_value(s, "procmem_mapping_pss_bytes", path=exe), 8192, "full: 500's executable's pss")
        t.eq(sample_value(s, "procmem_mapping_resident_bytes", path=exe), 8192,
             "full: 500's executable's resident")
t.done()
