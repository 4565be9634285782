"""The fixture /proc tree (tests/fixtures/proc) and its golden expositions, for the fixture tests.

The expected values live in tests/fixtures/golden/*.prom, written by hand from the fixture text
(tests/fixtures/golden/DERIVATION.md shows the arithmetic); nothing here computes them from
the program's output.
"""
import os
import pwd
import re

from procmem import FIXTURES, ROOT, once, skip

PROC = os.path.join(FIXTURES, "proc")
GOLDEN = os.path.join(FIXTURES, "golden")

# the arguments the golden files were written for; --smaps-budget 0 so that no smaps read is
# ever skipped for time on a loaded machine
BASE_ARGS = ["--procfs", PROC, "--top", "0", "--detail-top", "0", "--mapping-top", "20", "--smaps-budget", "0"]

# families whose values change from run to run: left out of the comparison, checked apart
VOLATILE = {
    "procmem_collect_duration_seconds",
    "procmem_last_collect_timestamp_seconds",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
}

_NAME = re.compile(r"(?:# (?:HELP|TYPE|UNIT) )?([a-zA-Z_:][a-zA-Z0-9_:]*)")


def require_nss():
    """The golden files name uid 0 root, 65534 nobody, and 4242 by number: true on any Debian
    machine, but a site could assign 4242."""
    try:
        if pwd.getpwuid(0).pw_name != "root" or pwd.getpwuid(65534).pw_name != "nobody":
            skip("uid 0 / 65534 are not root / nobody on this machine")
    except KeyError:
        skip("uid 0 or 65534 has no name on this machine")
    try:
        skip(f"uid 4242 is assigned here ({pwd.getpwuid(4242).pw_name}); the fixture needs it unassigned")
    except KeyError:
        pass


def version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        m = re.search(r"^VERSION\s*:?=\s*(\S+)", f.read(), re.M)
    return m.group(1)


def family_of(line):
    m = _NAME.match(line)
    return m.group(1) if m else None


def stable(text):
    """The exposition without the volatile families' HELP, TYPE and sample lines."""
    return "".join(l for l in text.splitlines(keepends=True) if family_of(l) not in VOLATILE)


def golden(mode):
    with open(os.path.join(GOLDEN, f"{mode}.prom"), encoding="utf-8") as f:
        return f.read().replace("@VERSION@", version())


def run(mode, *extra):
    return once(*BASE_ARGS, "--smaps", mode, *extra)


def fixture_problems():
    """Internal consistency of the fixture (README.md, "Consistency kept"): returns a list of
    what is wrong, empty when all holds. Computed from the fixture text alone."""
    problems = []

    def kb_fields(text):
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^(\w+):\s+(\d+) kB$", text, re.M)}

    for pid in sorted((p for p in os.listdir(PROC) if p.isdigit()), key=int):
        d = os.path.join(PROC, pid)
        with open(os.path.join(d, "status"), encoding="utf-8", errors="surrogateescape") as f:
            st = kb_fields(f.read())
        if "VmSize" not in st:
            continue  # kernel thread or zombie
        maps, cur = [], None
        with open(os.path.join(d, "smaps"), encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                line = line.rstrip("\n")
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    parts = line.split(None, 5)
                    cur = {"range": parts[0], "path": parts[5] if len(parts) > 5 else ""}
                    maps.append(cur)
                elif line.startswith("VmFlags:"):
                    cur["flags"] = line.split()[1:]
                else:
                    m = re.match(r"^(\w+):\s+(\d+) kB$", line)
                    if m:
                        cur[m.group(1)] = int(m.group(2))

        def bad(what):
            problems.append(f"pid {pid}: {what}")

        for m in maps:
            lo, hi = (int(x, 16) for x in m["range"].split("-"))
            if (hi - lo) // 1024 != m["Size"]:
                bad(f"{m['range']}: Size {m['Size']} kB is not the address range")
            parts = m["Shared_Clean"] + m["Shared_Dirty"] + m["Private_Clean"] + m["Private_Dirty"]
            if parts != m["Rss"]:
                bad(f"{m['range']}: Rss {m['Rss']} != Shared/Private Clean/Dirty {parts}")
            if m.get("Pss_Dirty", 0) > m["Pss"]:
                bad(f"{m['range']}: Pss_Dirty {m['Pss_Dirty']} over Pss {m['Pss']}")
            if m["AnonHugePages"] > m["Anonymous"] or m["AnonHugePages"] % 2048:
                bad(f"{m['range']}: AnonHugePages {m['AnonHugePages']} not whole 2 MiB pages of Anonymous")
            if m["Locked"] != (m["Pss"] if "lo" in m.get("flags", []) else 0):
                bad(f"{m['range']}: Locked {m['Locked']} is not the Pss of a mapping with lo in VmFlags")

        def total(k):
            return sum(m[k] for m in maps)

        size = total("Size") - sum(m["Size"] for m in maps if m["path"] == "[vsyscall]")
        locked = sum(m["Size"] for m in maps if "lo" in m.get("flags", []))
        checks = [
            ("VmSize = smaps Size less [vsyscall]", st["VmSize"], size),
            ("VmLck = Size of the mappings with lo in VmFlags", st["VmLck"], locked),
            ("VmRSS = RssAnon + RssFile + RssShmem", st["VmRSS"],
             st["RssAnon"] + st["RssFile"] + st["RssShmem"]),
            ("VmRSS = smaps Rss", st["VmRSS"], total("Rss")),
            ("RssAnon = smaps Anonymous", st["RssAnon"], total("Anonymous")),
            ("VmSwap = smaps SwapPss", st["VmSwap"], total("SwapPss")),
        ]
        with open(os.path.join(d, "stat"), "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        checks += [("stat vsize = VmSize", int(fields[20]), st["VmSize"] * 1024),
                   ("stat rss pages = VmRSS", int(fields[21]) * 4, st["VmRSS"])]
        with open(os.path.join(d, "smaps_rollup")) as f:
            rollup_text = f.read()
        if pid == "2100":
            if "18O kB" not in rollup_text:
                bad("smaps_rollup should hold its malformed line")
        else:
            ru = kb_fields(rollup_text)
            for k in ["Rss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
                      "Anonymous", "AnonHugePages", "Swap", "SwapPss"]:
                checks.append((f"rollup {k} = smaps sum", ru[k], total(k)))
            for k in ["Pss", "Pss_Dirty", "Locked"]:  # kept to PSS precision, printed in kB
                if k in ru and not 0 <= ru[k] - sum(m.get(k, 0) for m in maps) < len(maps):
                    bad(f"rollup {k} {ru[k]} is not the smaps sum within rounding")
            if ("Pss_Dirty" in ru) != all("Pss_Dirty" in m for m in maps):
                bad("Pss_Dirty in the rollup but not in every mapping, or the other way round")
            if "Pss_Anon" in ru:
                checks.append(("Pss_Anon + Pss_File + Pss_Shmem = Pss", ru["Pss"],
                               ru["Pss_Anon"] + ru["Pss_File"] + ru["Pss_Shmem"]))
        for what, a, b in checks:
            if a != b:
                bad(f"{what}: {a} != {b}")
    return problems
