#!/usr/bin/env python3
"""--once on the fixture /proc tree prints, in each smaps mode, exactly the golden exposition
written by hand from the fixture (tests/fixtures/golden/DERIVATION.md), passes promtool, and
carries well-formed self metrics."""
import difflib
import sys
import time

from fixture import VOLATILE, fixture_problems, golden, require_nss, run, stable, version
from procmem import families, parse, promtool_check, sample_value, Test

require_nss()
t = Test("fixture tree: golden expositions in off, rollup and full modes")

problems = fixture_problems()
t.ok(not problems, "the fixture is internally consistent:\n  " + "\n  ".join(problems))

for mode in ["off", "rollup", "full"]:
    before = time.time()
    text = run(mode)
    after = time.time()

    want, got = golden(mode), stable(text)
    if not t.ok(got == want, f"--smaps {mode}: output equals tests/fixtures/golden/{mode}.prom"):
        sys.stdout.writelines(difflib.unified_diff(
            want.splitlines(keepends=True), got.splitlines(keepends=True),
            f"golden/{mode}.prom", f"procmem_exporter --once --smaps {mode}"))

    rc, out = promtool_check(text)
    t.ok(rc == 0 and out.strip() == "", f"--smaps {mode}: promtool check metrics is silent: {out!r}")

    # the families left out of the comparison: each once, typed, with a sane value
    fams, samples = families(text), parse(text)
    for name in sorted(VOLATILE):
        want_type = "counter" if name.endswith("_total") else "gauge"
        t.eq(fams.get(name, {}).get("type"), want_type, f"--smaps {mode}: {name} has TYPE {want_type}")
        t.eq(sum(1 for n, _, _ in samples if n == name), 1, f"--smaps {mode}: one {name} sample")
    v = {name: sample_value(samples, name) for name in VOLATILE}
    if all(x is not None for x in v.values()):
        t.ok(v["procmem_collect_duration_seconds"] >= 0, f"{mode}: collect duration is not negative")
        # the cycle ended while --once ran (whole seconds of slack for clock granularity only)
        t.ok(before - 1 <= v["procmem_last_collect_timestamp_seconds"] <= after + 1,
             f"{mode}: last collect timestamp {v['procmem_last_collect_timestamp_seconds']} "
             f"lies within the run [{before}, {after}]")
        t.ok(v["process_cpu_seconds_total"] >= 0, f"{mode}: cpu seconds are not negative")
        t.ok(v["process_resident_memory_bytes"] > 0, f"{mode}: the daemon has resident memory")
        t.ok(v["process_virtual_memory_bytes"] >= v["process_resident_memory_bytes"],
             f"{mode}: virtual >= resident")
        t.ok(3 <= v["process_open_fds"] <= v["process_max_fds"], f"{mode}: 3 <= open fds <= max fds")
        # the daemon's own start time comes from the real /proc, whatever --procfs says
        t.ok(1e9 < v["process_start_time_seconds"] <= after + 1,
             f"{mode}: process_start_time_seconds {v['process_start_time_seconds']} is a past unix time")
    t.eq(sample_value(samples, "procmem_exporter_build_info", version=version()), 1,
         f"{mode}: build_info carries the Makefile's version")

t.done()
