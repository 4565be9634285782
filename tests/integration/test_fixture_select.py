#!/usr/bin/env python3
"""Selection and aggregation on the fixture /proc tree (issue 5): per-user and per-unit
aggregates; --top, --include, --exclude and --min-rss choose which processes get per-process
series and never change totals, aggregates or top mapped files; --smaps-max-rss skips a large
process's smaps and counts it; --mapping-top keeps the files with most PSS. Every expected
value is derived by hand from the fixture text (tests/fixtures/golden/DERIVATION.md, sections
5, 7 and 8)."""
from fixture import VOLATILE, family_of, require_nss, run
from procmem import parse, sample_value, Test

require_nss()
t = Test("fixture tree: aggregates, --top, --include/--exclude, --min-rss, --smaps-max-rss, --mapping-top")

KB = 1024
ALL = {310, 311, 1200, 1201, 1500, 1700, 2100}


def exported(text):
    """The pids that got per-process series, per procmem_process_* family."""
    by_family = {}
    for name, labels, _ in parse(text):
        if name.startswith("procmem_process_"):
            by_family.setdefault(name, set()).add(int(labels["pid"]))
    return by_family


def machine_part(text):
    """Everything but the per-process series, the count of exported processes and the
    volatile self metrics: totals, aggregates, top mapped files, counters."""
    return "".join(l for l in text.splitlines(keepends=True)
                   if not (family_of(l) or "").startswith("procmem_process_")
                   and family_of(l) != "procmem_processes_exported"
                   and family_of(l) not in VOLATILE)


def check_selection(mode, args, want, what):
    """The run with `args` exports exactly the pids `want`, and differs from the unfiltered
    run in nothing else."""
    text = run(mode, *args)
    s = parse(text)
    fams = exported(text)
    info = fams.get("procmem_process_info", set())
    t.eq(info, want, f"{what}: processes with procmem_process_info")
    stray = {f: p - want for f, p in fams.items() if p - want}
    t.eq(stray, {}, f"{what}: no per-process series outside the selection")
    t.eq(sample_value(s, "procmem_processes_exported"), len(want), f"{what}: procmem_processes_exported")
    t.eq(sample_value(s, "procmem_processes"), 7, f"{what}: procmem_processes still counts all 7 read")
    t.ok(machine_part(text) == machine_part(unfiltered[mode]),
         f"{what}: totals, aggregates and top mapped files byte-identical to the unfiltered run")
    return s


unfiltered = {m: run(m) for m in ["off", "rollup", "full"]}
# what the byte-identical comparisons cover (so that they cannot pass on an empty text)
covered = {family_of(l) for l in machine_part(unfiltered["full"]).splitlines()}
for fam in ["procmem_quadrant_pss_bytes", "procmem_pss_bytes", "procmem_uss_bytes", "procmem_swap_bytes",
            "procmem_user_pss_bytes", "procmem_unit_resident_bytes", "procmem_mapping_pss_bytes",
            "procmem_mapping_resident_bytes", "procmem_processes"]:
    t.ok(fam in covered, f"the unfiltered full run's machine part holds {fam}")

# ---- aggregates (DERIVATION.md section 5), rollup mode -------------------------------------
s = parse(unfiltered["rollup"])
users = {  # user: resident, swap, pss, uss, processes (kB but processes)
    "4242": (30508 + 7864, 1536 + 0, 26115 + 3471, 22824 + 180, 2),
    "nobody": (6224 + 1880, 128 + 0, 3471 + 1108, 1820 + 340, 2),
    "root": (5384 + 3004 + 1776, 60 + 20 + 0, 2631 + 1493, 980 + 1084, 3),  # 2100: no rollup
}
for u, (res, swap, pss, uss, n) in users.items():
    t.eq(sample_value(s, "procmem_user_resident_bytes", user=u), res * KB, f"user {u} resident")
    t.eq(sample_value(s, "procmem_user_swap_bytes", user=u), swap * KB, f"user {u} swap")
    t.eq(sample_value(s, "procmem_user_pss_bytes", user=u), pss * KB, f"user {u} pss")
    t.eq(sample_value(s, "procmem_user_uss_bytes", user=u), uss * KB, f"user {u} uss")
    t.eq(sample_value(s, "procmem_user_processes", user=u), n, f"user {u} processes")
t.eq(len([1 for n, _, _ in s if n == "procmem_user_processes"]), 3, "three users")
units = {  # unit: resident, swap, pss, uss, processes; None: no sample
    "": (1880, 0, 1108, 340, 1),
    "cron.service": (1776, 0, None, None, 1),
    "nginx.service": (5384 + 6224, 60 + 128, 2631 + 3471, 980 + 1820, 2),
    "session-3.scope": (3004, 20, 1493, 1084, 1),
    "user@4242.service": (30508 + 7864, 1536, 26115 + 3471, 22824 + 180, 2),
}
for u, (res, swap, pss, uss, n) in units.items():
    t.eq(sample_value(s, "procmem_unit_resident_bytes", unit=u), res * KB, f"unit {u!r} resident")
    t.eq(sample_value(s, "procmem_unit_swap_bytes", unit=u), swap * KB, f"unit {u!r} swap")
    t.eq(sample_value(s, "procmem_unit_pss_bytes", unit=u), pss and pss * KB, f"unit {u!r} pss")
    t.eq(sample_value(s, "procmem_unit_uss_bytes", unit=u), uss and uss * KB, f"unit {u!r} uss")
    t.eq(sample_value(s, "procmem_unit_processes", unit=u), n, f"unit {u!r} processes")
t.eq(len([1 for n, _, _ in s if n == "procmem_unit_processes"]), 5, "five units (one of them \"\")")
t.eq(sample_value(s, "procmem_unit_resident_bytes", unit="agent.service"), None,
     "the container's agent.service is not a unit of this machine")

# ---- --top: by PSS where read (else VmRSS), ties by lower pid ------------------------------
for mode in ["rollup", "full"]:
    # 1200 26115 kB, then 311 and 1201 tie at 3471 kB: the lower pid wins
    check_selection(mode, ["--top", "2"], {1200, 311}, f"{mode} --top 2")
    check_selection(mode, ["--top", "3"], {1200, 311, 1201}, f"{mode} --top 3")
    # 2100 has no rollup and ranks by VmRSS 1776 kB, above 1500's PSS 1493 kB
    check_selection(mode, ["--top", "5"], {1200, 311, 1201, 310, 2100}, f"{mode} --top 5")
    check_selection(mode, ["--top", "7"], ALL, f"{mode} --top 7")
    check_selection(mode, ["--top", "100"], ALL, f"{mode} --top 100")
# off mode: no PSS anywhere, VmRSS ranks: 1200 30508, 1201 7864, 311 6224
check_selection("off", ["--top", "2"], {1200, 1201}, "off --top 2")

# ---- --include / --exclude: PCRE2 patterns on comm, anchored at both ends ------------------------
check_selection("rollup", ["--include", "nginx"], {310, 311}, "--include nginx")
check_selection("rollup", ["--include", "ngin"], set(), "--include ngin (anchored: no match)")
check_selection("rollup", ["--include", "ngin.*"], {310, 311}, "--include ngin.*")
check_selection("rollup", ["--exclude", "nginx|cron"], {1200, 1201, 1500, 1700}, "--exclude nginx|cron")
check_selection("rollup", ["--include", r"x\).*"], {1201}, "--include on the hostile comm")
check_selection("rollup", ["--include", "nginx|cron|sshd", "--exclude", "cron"], {310, 311, 1500},
                "--include with --exclude")
# filters first, then --top among what is left: without foo (1200) the top 2 are 311 and 1201
check_selection("full", ["--exclude", "foo", "--top", "2"], {311, 1201}, "--exclude foo --top 2")

# ---- --min-rss: VmRSS below the bound gets no series ----------------------------------------
check_selection("off", ["--min-rss", str(5384 * KB)], {310, 311, 1200, 1201}, "--min-rss = 310's VmRSS")
check_selection("off", ["--min-rss", str(5384 * KB + 1)], {311, 1200, 1201}, "--min-rss one byte above 310's")
check_selection("full", ["--min-rss", str(5384 * KB + 1), "--top", "1"], {1200}, "--min-rss with --top 1")

# ---- --smaps-max-rss below 1200's VmRSS (30508 kB) --------------------------------------------
text = run("full", "--smaps-max-rss", str(20 * 1024 * KB))
s = parse(text)
t.eq(sample_value(s, "procmem_collect_errors_total", reason="skipped_large"), 1, "skipped_large counts 1200")
t.eq(sample_value(s, "procmem_collect_errors_total", reason="parse"), 1, "2100 still counts as parse")
t.eq(sample_value(s, "procmem_process_resident_bytes", pid="1200"), 30508 * KB, "1200 keeps its status figures")
t.eq(sample_value(s, "procmem_process_virtual_bytes", pid="1200"), 88492 * KB, "1200 keeps VmSize")
t.ok(sample_value(s, "procmem_process_info", pid="1200") == 1, "1200 keeps its info series")
for fam in ["procmem_process_pss_bytes", "procmem_process_uss_bytes", "procmem_process_swap_pss_bytes",
            "procmem_process_pss_kind_bytes", "procmem_process_quadrant_resident_bytes"]:
    t.ok(1200 not in exported(text).get(fam, set()), f"1200 has no {fam}")
t.eq(sample_value(s, "procmem_process_pss_bytes", pid="311"), 3471 * KB, "the others' PSS unchanged")
t.eq(sample_value(s, "procmem_pss_bytes"), (38289 - 26115) * KB, "PSS total without 1200")
t.eq(sample_value(s, "procmem_user_pss_bytes", user="4242"), 3471 * KB, "user 4242's PSS is 1201's alone")
t.eq(sample_value(s, "procmem_mapping_pss_bytes", path="/srv/app data/cache index.db"), 1024 * KB,
     "the shared cache file keeps only 1201's share")
t.eq(sample_value(s, "procmem_processes"), 7, "1200 is still read")

# ---- --mapping-top ------------------------------------------------------------------------
def mappings(text):
    return [(l["path"], int(v)) for n, l, v in parse(text) if n == "procmem_mapping_pss_bytes"]


def mappings_rss(text):
    return [(l["path"], int(v)) for n, l, v in parse(text) if n == "procmem_mapping_resident_bytes"]


LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
CACHE = "/srv/app data/cache index.db"
text = run("full", "--mapping-top", "2")
t.eq(mappings(text), [(CACHE, 2048 * KB), (LIBC, 1080 * KB)], "--mapping-top 2: the two files with most PSS")
t.eq(mappings_rss(text), [(CACHE, 4096 * KB), (LIBC, 6840 * KB)], "--mapping-top 2: their resident sizes")
text = run("full", "--mapping-top", "6")
t.eq([p for p, _ in mappings(text)],
     [CACHE, LIBC, "/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)", "/usr/sbin/nginx",
      "/var/lib/lxc/web1/rootfs/usr/lib/x86_64-linux-gnu/libc.so.6",
      "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"],
     "--mapping-top 6: the 210 kB tie goes to the bytewise smaller path (ld.so, not sshd)")
text = run("full", "--mapping-top", "0")
t.eq(mappings(text), [], "--mapping-top 0: no mapped files")
t.ok(sample_value(parse(text), "procmem_pss_bytes") == 38289 * KB, "--mapping-top 0 leaves the PSS total")

t.done()
