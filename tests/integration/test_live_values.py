#!/usr/bin/env python3
"""Live values: processes with known memory layouts are started and stopped; the real daemon
reads them in each smaps mode; every per-process figure it exports must equal, byte for byte,
what /proc/PID/status, smaps_rollup, smaps, stat, cgroup and the exe link of the same stopped
process say, what a mode cannot know must be absent, DESIGN.md's quadrant invariants must hold,
and each region of the layout must land in the quadrant its mapping calls for.

The helpers are stopped before the daemon starts, so every cycle of every daemon here reads
them stopped; their kernel figures are read again afterwards to show they did not move.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (KIB, MIB, QUADRANTS, Helpers, compare_series, expected_comm,  # noqa: E402
                     expected_series, exported_series, kernel_view, make_file, quadrant,
                     quadrant_sums)
from procmem import Daemon, Test, parse, sample_value, tempdir  # noqa: E402

t = Test("live values: exported per-process figures equal the kernel's for stopped processes")

h = Helpers()
d = tempdir()
FILE_SIZE = 8 * MIB
f_private = make_file(os.path.join(d, "private.bin"), FILE_SIZE)
f_shared = make_file(os.path.join(d, "shared-written.bin"), FILE_SIZE)
helpers = {
    "shanon": h.start("shanon", "--shared-anon", "50"),
    "privanon": h.start("privanon", "--private-anon", "64:24"),
    "fpriv": h.start("fpriv", "--file-private", f_private),
    "fshw": h.start("fshw", "--file-shared-write", f_shared),
}
before = {n: kernel_view(p.pid) for n, p in helpers.items()}


def mappings_of(k, path):
    return [m for m in k["smaps"] if m["path"] == os.fsencode(path)]


# ---- the layouts themselves, as the kernel reports them --------------------------------------
# (so that the placement checks below rest on what was really built)

shm = [m for m in before["shanon"]["smaps"] if m["perms"][3] == "s"]
t.eq([(m["path"], m["fields"]["Size"], m["fields"]["Rss"], m["fields"]["Pss"]) for m in shm],
     [(b"/dev/zero (deleted)", 50 * MIB, 50 * MIB, 50 * MIB)],
     "shanon: one shared anonymous mapping, 50 MiB, all resident, its own")
big = [m for m in before["privanon"]["smaps"] if m["fields"]["Size"] == 64 * MIB]
t.eq([(m["perms"], m["inode"], m["fields"]["Rss"]) for m in big], [("rw-p", 0, 24 * MIB)],
     "privanon: one private anonymous 64 MiB mapping with 24 MiB resident")
fp = mappings_of(before["fpriv"], f_private)
t.eq([(m["perms"], m["fields"]["Size"], m["fields"]["Rss"], m["fields"]["Pss"]) for m in fp],
     [("r--p", FILE_SIZE, FILE_SIZE, FILE_SIZE)],
     "fpriv: the file mapped private, every page resident, mapped by it alone")
fs = mappings_of(before["fshw"], f_shared)
t.eq([(m["perms"], m["fields"]["Size"], m["fields"]["Rss"], m["fields"]["Pss"]) for m in fs],
     [("rw-s", FILE_SIZE, FILE_SIZE, FILE_SIZE)],
     "fshw: the file mapped shared and written, every page resident, mapped by it alone")
for n, k in before.items():
    t.ok(not any(m["path"] == b"[vdso]" for m in k["smaps"]),
         f"{n}: no vDSO (its PSS share would move with every process on the machine)")


# ---- the daemon, in each mode ---------------------------------------------------------------

def q(got, fam, sharing, backing):
    return got.get((f"procmem_process_quadrant_{fam}_bytes",
                    (("backing", backing), ("sharing", sharing))))


def check_quadrant_invariants(name, got, k):
    """DESIGN.md: quadrant virtual sums to the mappings' sizes (VmSize, plus [vsyscall]);
    resident to rollup Rss; pss to rollup Pss within each mapping line's kB rounding."""
    smaps, st, ru = k["smaps"], k["status"], k["rollup"]
    total = {fam: sum(q(got, fam, s, b) or 0 for s, b in QUADRANTS) for fam in ("virtual", "resident", "pss")}
    size_sum = sum(m["fields"]["Size"] for m in smaps)
    vsyscall = sum(m["fields"]["Size"] for m in smaps if m["path"] == b"[vsyscall]")
    t.eq(total["virtual"], size_sum, f"full {name}: quadrant virtual sums to the smaps Size lines")
    t.eq(total["virtual"], st["VmSize"] + vsyscall, f"full {name}: ... which is VmSize plus [vsyscall]")
    t.eq(total["resident"], ru["Rss"], f"full {name}: quadrant resident sums to rollup Rss")
    gap = ru["Pss"] - total["pss"]
    t.ok(0 <= gap < KIB * len(smaps),
         f"full {name}: quadrant pss {total['pss']} within {len(smaps)} kB-roundings below rollup Pss {ru['Pss']}")


def check_placement(got):
    """Where each region of the known layouts must land (quadrant values from the exporter)."""
    g = {n: got[n] for n in helpers}
    # 50 MiB shared anonymous: all of it shared/anonymous, resident, and its PSS (sole mapper)
    for fam in ("virtual", "resident", "pss"):
        t.eq(q(g["shanon"], fam, "shared", "anonymous"), 50 * MIB,
             f"shanon: shared/anonymous {fam} is the 50 MiB region")
    t.eq(g["shanon"].get(("procmem_process_pss_kind_bytes", (("kind", "shmem"),))), 50 * MIB,
         "shanon: its 50 MiB count as Pss_Shmem")
    t.eq(q(g["shanon"], "dirty", "shared", "anonymous"), 50 * MIB,
         "shanon: shared/anonymous dirty is the 50 MiB written (shmem pages are not written back)")
    # 64 MiB private anonymous, 24 MiB of it touched
    t.ok(q(g["privanon"], "virtual", "private", "anonymous") >= 64 * MIB,
         "privanon: private/anonymous virtual holds the 64 MiB region")
    t.ok(q(g["privanon"], "resident", "private", "anonymous") >= 24 * MIB,
         "privanon: private/anonymous resident holds the 24 MiB touched")
    t.ok(q(g["privanon"], "resident", "private", "anonymous") < 32 * MIB,
         "privanon: ... and not the 40 MiB never touched")
    t.ok(q(g["privanon"], "dirty", "private", "anonymous") >= 24 * MIB,
         "privanon: private/anonymous dirty holds the 24 MiB written")
    # the file mapped private and read: private/file
    t.ok(q(g["fpriv"], "resident", "private", "file") >= FILE_SIZE,
         "fpriv: the privately mapped file's pages are private/file resident")
    t.ok(q(g["fpriv"], "pss", "private", "file") >= FILE_SIZE,
         "fpriv: ... and private/file pss (sole mapper)")
    # the file mapped shared and written: shared/file, exactly (nothing else of it is shared)
    for fam in ("virtual", "resident", "pss"):
        t.eq(q(g["fshw"], fam, "shared", "file"), FILE_SIZE,
             f"fshw: shared/file {fam} is the shared written file")
    # kernel_view() synced before the daemon read: written back, the file's pages are clean
    t.eq(q(g["fshw"], "dirty", "shared", "file"), 0, "fshw: the written file, synced, is clean")
    # nothing else in these processes is shared; their own binary is private/file
    for n in helpers:
        if n != "shanon":
            t.eq(q(g[n], "resident", "shared", "anonymous"), 0, f"{n}: no shared/anonymous memory")
        if n != "fshw":
            t.eq(q(g[n], "resident", "shared", "file"), 0, f"{n}: no shared/file memory")
        t.ok(q(g[n], "resident", "private", "file") > 0, f"{n}: its executable is private/file")


def families_present(samples):
    return {name for name, _, _ in samples}


with open("/proc/self/smaps_rollup") as f:
    PSS_DIRTY_KERNEL = "Pss_Dirty:" in f.read()  # kernels >= 6.0

MODE_ONLY = {
    # families the exporter can only know with smaps_rollup, and with full smaps
    "rollup": {"procmem_process_pss_bytes", "procmem_process_uss_bytes",
               "procmem_process_swap_pss_bytes", "procmem_process_pss_kind_bytes",
               "procmem_process_dirty_bytes", "procmem_process_anon_huge_pages_bytes",
               "procmem_process_locked_pss_bytes",
               "procmem_pss_bytes", "procmem_uss_bytes", "procmem_user_pss_bytes",
               "procmem_user_uss_bytes", "procmem_unit_pss_bytes", "procmem_unit_uss_bytes"},
    "full": {f"procmem_process_quadrant_{f}_bytes" for f in ("virtual", "resident", "pss", "swap", "dirty")} |
            {f"procmem_quadrant_{f}_bytes" for f in ("virtual", "resident", "pss", "swap", "dirty")} |
            {"procmem_mapping_pss_bytes", "procmem_mapping_resident_bytes"} |
            ({"procmem_quadrant_pss_dirty_bytes"} if PSS_DIRTY_KERNEL else set()),
}

for mode in ("off", "rollup", "full"):
    with Daemon("--interval", "1", "--smaps", mode, "--smaps-budget", "0", "--top", "0", "--detail-top", "0",
                "--include", h.include_regex(), "--mapping-top", "100000") as dm:
        text = dm.metrics_text()
    samples = parse(text)
    got = {}
    for n, p in helpers.items():
        k = before[n]
        got[n], comms = exported_series(samples, p.pid)
        t.eq(comms, {expected_comm(p.comm_arg)}, f"{mode} {n}: comm label")
        t.eq(comms, {k["stat"]["comm"].decode()}, f"{mode} {n}: comm label is /proc/PID/stat's")
        compare_series(t, got[n], expected_series(k, mode), f"{mode} {n}")
        if mode != "off":
            pss = got[n].get(("procmem_process_pss_bytes", ()), -1)
            uss = got[n].get(("procmem_process_uss_bytes", ()), -1)
            res = got[n].get(("procmem_process_resident_bytes", ()), -1)
            t.ok(0 <= uss <= pss <= res, f"{mode} {n}: uss {uss} <= pss {pss} <= resident {res}")
        if mode == "full":
            check_quadrant_invariants(n, got[n], k)

    # the kernel's figures did not move while the daemon read them
    for n, p in helpers.items():
        now = kernel_view(p.pid)
        t.eq(expected_series(now, "full"), expected_series(before[n], "full"),
             f"{mode} {n}: the stopped helper's kernel figures are the same after the scrape")

    present = families_present(samples)
    for m, fams in MODE_ONLY.items():
        knows = mode == "full" or (mode == "rollup" and m == "rollup")
        t.eq(sorted(fams - present) if knows else sorted(fams & present), [],
             f"{mode}: families that need smaps {m} are " + ("present" if knows else "absent"))
    t.eq(sample_value(samples, "procmem_processes_exported"), len(helpers),
         f"{mode}: --include selects exactly this run's helpers")
    t.eq(sample_value(samples, "procmem_collect_errors_total", reason="parse"), 0,
         f"{mode}: the kernel's text always parsed")

    # machine totals and aggregates cover at least the helpers (they cover every process)
    def helper_sum(key):
        return sum(got[n].get(key, 0) for n in helpers)

    t.ok(sample_value(samples, "procmem_processes") >= len(helpers), f"{mode}: procmem_processes")
    t.ok(sample_value(samples, "procmem_swap_bytes") >= helper_sum(("procmem_process_swap_bytes", ())),
         f"{mode}: procmem_swap_bytes covers the helpers'")
    info = got["shanon"]
    user = [dict(k[1])["user"] for k in info if k[0] == "procmem_process_info"][0]
    unit = [dict(k[1])["unit"] for k in info if k[0] == "procmem_process_info"][0]
    for agg, key in (("user", user), ("unit", unit)):
        t.ok(sample_value(samples, f"procmem_{agg}_processes", **{agg: key}) >= len(helpers),
             f"{mode}: procmem_{agg}_processes{{{agg}={key!r}}} counts the helpers")
        t.ok(sample_value(samples, f"procmem_{agg}_resident_bytes", **{agg: key}) >=
             helper_sum(("procmem_process_resident_bytes", ())),
             f"{mode}: procmem_{agg}_resident_bytes covers the helpers'")
        if mode != "off":
            t.ok(sample_value(samples, f"procmem_{agg}_pss_bytes", **{agg: key}) >=
                 helper_sum(("procmem_process_pss_bytes", ())),
                 f"{mode}: procmem_{agg}_pss_bytes covers the helpers'")
    if mode != "off":
        for fam in ("pss", "uss"):
            t.ok(sample_value(samples, f"procmem_{fam}_bytes") >= helper_sum((f"procmem_process_{fam}_bytes", ())),
                 f"{mode}: procmem_{fam}_bytes covers the helpers'")
    if mode == "full":
        for fam in ("virtual", "resident", "pss", "swap", "dirty"):
            for s, b in QUADRANTS:
                total = sample_value(samples, f"procmem_quadrant_{fam}_bytes", sharing=s, backing=b)
                t.ok(total >= sum(q(got[n], fam, s, b) for n in helpers),
                     f"full: procmem_quadrant_{fam}_bytes{{{s},{b}}} {total} covers the helpers'")
        if PSS_DIRTY_KERNEL:
            for s, b in QUADRANTS:
                total = sample_value(samples, "procmem_quadrant_pss_dirty_bytes", sharing=s, backing=b)
                helpers_pss_dirty = sum(quadrant_sums(before[n]["smaps"])[(s, b)]["Pss_Dirty"]
                                        for n in helpers)
                t.ok(total >= helpers_pss_dirty,
                     f"full: procmem_quadrant_pss_dirty_bytes{{{s},{b}}} {total} covers the "
                     f"helpers' Pss_Dirty {helpers_pss_dirty}")
        # each file the helpers map, under its own path
        for path, n in ((f_private, "fpriv"), (f_shared, "fshw")):
            maps = mappings_of(before[n], path)
            t.eq(sample_value(samples, "procmem_mapping_pss_bytes", path=path),
                 sum(m["fields"]["Pss"] for m in maps), f"full: procmem_mapping_pss_bytes of {n}'s file")
            t.eq(sample_value(samples, "procmem_mapping_resident_bytes", path=path),
                 sum(m["fields"]["Rss"] for m in maps), f"full: procmem_mapping_resident_bytes of {n}'s file")
        check_placement(got)
        # the quadrant of each file mapping, from the helper's own smaps
        t.eq(quadrant(mappings_of(before["fpriv"], f_private)[0]), ("private", "file"),
             "fpriv's mapping classifies private/file")
        t.eq(quadrant(mappings_of(before["fshw"], f_shared)[0]), ("shared", "file"),
             "fshw's mapping classifies shared/file")

t.done()
