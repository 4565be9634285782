#!/usr/bin/env python3
"""Cgroups, containers and pods from fixture /proc trees, against figures derived by hand.

- tests/fixtures/proc-containers: a cgroup file in every format the exporter reads (cgroup v1,
  hybrid, v2; Docker, containerd, CRI-O, Podman, LXC, systemd-nspawn; Kubernetes pods under
  both kubelet cgroup drivers, a static pod, paths relative to a cgroup namespace) and hostile
  ones (lookalikes below a real container and in a user's subtree, names that are not UTF-8 or
  that hold quotes, backslashes and " (deleted)", a forged line). --once with --cgroup-top 0
  prints exactly tests/fixtures/golden/containers.prom for the process info, cgroup, container
  and pod families (DERIVATION.md, section 10), holds no series twice, and passes promtool.
- the same tree with --cgroup-top 3: the three of each kind with most PSS, ties broken by path,
  the rest under cgroup="other" (section 10's sums).
- tests/fixtures/proc-forged: a v1 machine whose daemon's own cgroup file is the reference; a
  forged line the rules alone cannot see (after the last real line) is refused, and so is one
  they can (section 11).
"""
import difflib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import family_of, require_nss  # noqa: E402
from procmem import FIXTURES, Test, once, parse, promtool_check, sample_value  # noqa: E402

require_nss()
t = Test("fixture trees: cgroups, containers and pods in every format, hostile names")

TREE = os.path.join(FIXTURES, "proc-containers")
FORGED = os.path.join(FIXTURES, "proc-forged")
ARGS = ["--top", "0", "--detail-top", "0", "--smaps-budget", "0", "--smaps", "full"]
WANTED = re.compile(r"procmem_(process_info|cgroup|container|pod)")


def selected(text):
    return "".join(l for l in text.splitlines(keepends=True)
                   if (family_of(l) or "") and WANTED.match(family_of(l)))


def no_duplicates(text, what):
    keys = [l.rsplit(" ", 1)[0] for l in text.splitlines() if l and not l.startswith("#")]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    t.ok(not dup, f"{what}: no series twice: {dup[:3]}")


# ---- every format, all of each kind ---------------------------------------------------------------

text = once("--procfs", TREE, "--cgroup-top", "0", *ARGS)
with open(os.path.join(FIXTURES, "golden", "containers.prom"), encoding="utf-8") as f:
    want = f.read()
got = selected(text)
if not t.ok(got == want, "--cgroup-top 0: the cgroup, container and pod families equal golden/containers.prom"):
    sys.stdout.writelines(difflib.unified_diff(want.splitlines(keepends=True), got.splitlines(keepends=True),
                                               "golden/containers.prom", "procmem_exporter --once"))
rc, out = promtool_check(text)
t.ok(rc == 0 and out.strip() == "", f"promtool check metrics is silent: {out!r}")
no_duplicates(text, "--cgroup-top 0")
samples = parse(text)
# the forged file (pid 605) is refused and counted; the machine's totals still hold every process
t.eq(sample_value(samples, "procmem_collect_errors_total", reason="parse"), 1,
     "the forged cgroup file is counted as a parse error")
t.eq(sum(int(v) for n, l, v in samples if n == "procmem_cgroup_pss_bytes"),
     sample_value(samples, "procmem_pss_bytes"), "the cgroups' PSS adds up to the machine's")

# ---- bounded ------------------------------------------------------------------------------------

text = once("--procfs", TREE, "--cgroup-top", "3", *ARGS)
samples = parse(text)
no_duplicates(text, "--cgroup-top 3")
K = 1024
for fam, n in (("procmem_cgroup_pss_bytes", 4), ("procmem_container_pss_bytes", 4), ("procmem_pod_pss_bytes", 4),
               ("procmem_cgroup_processes", 4), ("procmem_container_quadrant_pss_bytes", 16)):
    t.eq(sum(1 for name, _, _ in samples if name == fam), n, f"--cgroup-top 3: {n} series of {fam}")
# cgroups by PSS: 204 (6000 kB), 200 (3600), 401 (2500); the other 21 processes hold 10340 kB
t.eq(sample_value(samples, "procmem_cgroup_pss_bytes", cgroup="other"), 10340 * K, "cgroup other: PSS")
t.eq(sample_value(samples, "procmem_cgroup_processes", cgroup="other"), 21, "cgroup other: processes")
t.eq(sample_value(samples, "procmem_cgroup_pss_bytes", cgroup="/lxc/db1"), 2500 * K, "cgroup /lxc/db1 kept")
# containers: C3 6000, C1 3600, then a tie at 2500 between /docker/D2 and /lxc/db1: the path decides
d2 = "/docker/" + "d2" * 32
t.eq(sample_value(samples, "procmem_container_pss_bytes", cgroup=d2), 2500 * K,
     "containers: the 2500 kB tie goes to /docker/... (before /lxc/... bytewise)")
t.eq(sample_value(samples, "procmem_container_pss_bytes", cgroup="/lxc/db1"), None,
     "containers: /lxc/db1 is summed under other")
t.eq(sample_value(samples, "procmem_container_pss_bytes", cgroup="other"), 9890 * K, "container other: PSS")
t.eq(sample_value(samples, "procmem_container_quadrant_pss_bytes", cgroup="other", sharing="shared",
                  backing="file"), 200 * K, "container other: pause's share of the shared file")
t.eq(sample_value(samples, "procmem_pod_pss_bytes", cgroup="other"), (1200 + 700 + 450) * K, "pod other: PSS")
for n, v in (("procmem_cgroups", 24), ("procmem_containers", 16), ("procmem_pods", 6)):
    t.eq(sample_value(samples, n), v, f"{n} counts every one, kept or not")

# ---- a forged line after the last real one --------------------------------------------------------

text = once("--procfs", FORGED, *ARGS)
samples = parse(text)
info = {l["pid"]: l for n, l, _ in samples if n == "procmem_process_info"}
t.eq((info["700"]["unit"], info["700"]["pod_uid"]), ("session-1.scope", ""), "700, genuine: its unit")
t.eq(sample_value(samples, "procmem_cgroup_processes", cgroup="/user.slice/user-4242.slice/session-1.scope"), 1,
     "700, genuine: its cgroup")
for pid in ("701", "702"):
    t.eq((info[pid]["unit"], info[pid]["container_id"], info[pid]["pod_uid"]), ("", "", ""),
         f"{pid}, forged: no unit, container or pod")
t.eq(sample_value(samples, "procmem_cgroup_processes", cgroup=""), 2, "the two forged files: cgroup \"\"")
t.eq(sample_value(samples, "procmem_pods"), 0, "no pod claimed by a forged line")
t.eq(sample_value(samples, "procmem_collect_errors_total", reason="parse"), 2, "both counted as parse errors")

t.done()
