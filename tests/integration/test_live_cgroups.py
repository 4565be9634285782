#!/usr/bin/env python3
"""Live: processes moved into Kubernetes- and Docker-style cgroups of a private cgroup2 mount,
read by the real daemon; every cgroup, container and pod sum equals what the helpers'
smaps_rollup (and smaps, for the quadrants) say, a shared anonymous region between two pods
counted once, half in each; hostile names kept apart; the bound holds against hundreds of
cgroups; and the daemon reads the same from inside a cgroup namespace (paths relative to it) and
from its own pid namespace through the host's /proc (--procfs).

The test re-executes itself in a mount namespace of its own, mounts cgroup2 there, and makes
everything under one directory of this run (tests/integration/cgroupbox.py); the daemon runs in a
cgroup namespace rooted at that directory, so it reads "/kubepods.slice/..." as a kubelet's
machine would. Helpers are started, moved in through cgroup.procs, and stopped (SIGSTOP) before
any daemon reads them; their kernel figures are read before and after and must not move.
Cleaned up at exit, also on failure: processes killed by pid, cgroups removed, cgroup2 unmounted.
"""
import errno
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgroupbox import CgroupBox, enter_private_mount_namespace  # noqa: E402

enter_private_mount_namespace("mounts cgroup2 and moves processes between cgroups")

from livemem import MEMLAYOUT, MIB, QUADRANTS, Helpers, quadrant_sums, read_smaps  # noqa: E402
from procmem import (BIN, Daemon, Test, parse, promtool_check, read_kb_fields,  # noqa: E402
                     require_unshare, sample_value, spawn, stop_process, tempdir)

t = Test("live: cgroup, container and pod sums equal the helpers' smaps_rollup, in a cgroup2 mount")

box = CgroupBox()
h = Helpers()
P = h.prefix.decode()

ID_A, ID_B, ID_C, ID_D = ("%02x" % n * 32 for n in (0xa1, 0xb2, 0xc3, 0xd4))
UID1 = "0a0a0a0a-1111-4222-8333-444444444444"
UID2 = "0b0b0b0b-5555-4666-8777-888888888888"
POD1 = ("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice"
        % UID1.replace("-", "_"))
POD2 = "kubepods/besteffort/pod%s" % UID2
CG = {  # helper -> its cgroup, relative to the box (the daemon's namespace root)
    "pod1": f"{POD1}/cri-containerd-{ID_A}.scope",
    "pod2": f"{POD2}/{ID_B}",
    "dockerd": f"system.slice/docker-{ID_C}.scope",
    "dockerfs": f"docker/{ID_D}",
    "dockersub": f"docker/{ID_D}/inner",
}

# ---- what the kernel allows in a name ----------------------------------------------------------------

try:
    os.mkdir(box.path("a\nb"))
    newline_refused = False
except OSError as e:
    newline_refused = e.errno == errno.EINVAL
t.ok(newline_refused, "the kernel refuses a cgroup name with a newline (EINVAL), so no live "
     "process can forge a line of /proc/PID/cgroup on this kernel (fixtures test older ones)")
ODD = {"badff": b"user.slice/a\xff", "badfe": b"user.slice/a\xfe",
       "quoted": b'user.slice/q"\\:  z (deleted)'}
for rel in ODD.values():
    os.makedirs(os.path.join(os.fsencode(box.top), rel))

# ---- helpers --------------------------------------------------------------------------------------


def start_pair():
    """Two processes sharing a 16 MiB MAP_SHARED|MAP_ANONYMOUS region, each with 8 MiB of its own
    afterwards: memlayout --fork."""
    p = spawn([MEMLAYOUT, "--shared-anon", "16", "--comm", P + "pod1", "--fork", P + "pod2",
               "--private-anon", "8:8"], stdout=subprocess.PIPE)
    out = b""
    while out.count(b"\n") < 2:
        ready, _, _ = select.select([p.stdout], [], [], 60)
        chunk = os.read(p.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            t.fatal(f"memlayout --fork did not get ready: {out!r}")
        out += chunk
    lines = out.splitlines(keepends=True)
    if not (lines[0].startswith(b"child ") and lines[1] == b"ready\n"):
        t.fatal(f"memlayout --fork said {lines}")
    return p.pid, int(lines[0].split()[1])


pids = {}
pids["pod1"], pids["pod2"] = start_pair()
for name, layout in (("dockerd", "4:4"), ("dockerfs", "2:2"), ("dockersub", "3:3"),
                     ("badff", "1:1"), ("badfe", "1:1"), ("quoted", "1:1")):
    pids[name] = h.start(name, "--private-anon", layout).pid
for name, rel in CG.items():
    box.make(rel)
    box.move(pids[name], rel)
for name, rel in ODD.items():
    with open(os.path.join(os.fsencode(box.top), rel, b"cgroup.procs"), "w") as f:
        f.write(str(pids[name]))
for pid in (pids["pod1"], pids["pod2"]):
    stop_process(pid)


ROLLUP = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem", "Private_Clean", "Private_Dirty", "Swap",
          "SwapPss")


def kernel():
    """Each helper's smaps_rollup (the fields the exporter reads; Referenced, say, moves with
    the kernel's page aging) and smaps quadrants."""
    out = {}
    for n, pid in pids.items():
        ru = read_kb_fields(f"/proc/{pid}/smaps_rollup")
        out[n] = ({k: ru.get(k) for k in ROLLUP}, quadrant_sums(read_smaps(pid)))
    return out


before = kernel()
for n in pids:
    with open(f"/proc/{pids[n]}/cgroup", "rb") as f:
        t.ok(f.read().endswith(b"0::/" + box.name.encode() + b"/" + os.fsencode(CG.get(n, ODD.get(n, b""))) + b"\n"),
             f"{n} is in its cgroup")

# the layout as the kernel reports it: the region is mapped by the two, half each
for n in ("pod1", "pod2"):
    sa = before[n][1][("shared", "anonymous")]
    t.eq((sa["Rss"], sa["Pss"]), (16 * MIB, 8 * MIB), f"{n}: 16 MiB shared anonymous, 8 MiB of it its share")


def figures(names, field):
    return sum(before[n][0][field] for n in names)


def uss(names):
    return sum(before[n][0]["Private_Clean"] + before[n][0]["Private_Dirty"] for n in names)


def check(samples, root, what):
    """root: how the box's top reads in the daemon's cgroup namespace ("" or "/..")."""
    def cg(rel):
        return root + "/" + rel

    c_pod1, c_pod2 = cg(CG["pod1"]), cg(CG["pod2"])
    # per cgroup: the processes directly in it
    for n in ("pod1", "pod2", "dockerd", "dockerfs", "dockersub"):
        t.eq(sample_value(samples, "procmem_cgroup_pss_bytes", cgroup=cg(CG[n])), figures([n], "Pss"),
             f"{what}: cgroup of {n}: PSS = its smaps_rollup Pss")
        t.eq(sample_value(samples, "procmem_cgroup_resident_bytes", cgroup=cg(CG[n])), figures([n], "Rss"),
             f"{what}: cgroup of {n}: resident = its rollup Rss")
        t.eq(sample_value(samples, "procmem_cgroup_processes", cgroup=cg(CG[n])), 1,
             f"{what}: cgroup of {n}: one process")
    # per container: its cgroup and below (dockerfs's has dockersub below it)
    for n, cid, rt, pod, ccg, members in (
            ("pod1", ID_A, "containerd", UID1, c_pod1, ["pod1"]),
            ("pod2", ID_B, "", UID2, c_pod2, ["pod2"]),
            ("dockerd", ID_C, "docker", "", cg(CG["dockerd"]), ["dockerd"]),
            ("dockerfs", ID_D, "docker", "", cg(CG["dockerfs"]), ["dockerfs", "dockersub"])):
        labels = dict(container_id=cid, runtime=rt, pod_uid=pod, cgroup=ccg)
        t.eq(sample_value(samples, "procmem_container_pss_bytes", **labels), figures(members, "Pss"),
             f"{what}: container of {n}: PSS = Pss summed over {members}")
        t.eq(sample_value(samples, "procmem_container_uss_bytes", **labels), uss(members),
             f"{what}: container of {n}: USS = Private_Clean + Private_Dirty summed")
        t.eq(sample_value(samples, "procmem_container_resident_bytes", **labels), figures(members, "Rss"),
             f"{what}: container of {n}: resident = Rss summed")
        t.eq(sample_value(samples, "procmem_container_swap_bytes", **labels),
             sum(read_kb_fields(f"/proc/{pids[m]}/status")["VmSwap"] for m in members),
             f"{what}: container of {n}: swap = VmSwap summed")
        for s, b in QUADRANTS:
            t.eq(sample_value(samples, "procmem_container_quadrant_pss_bytes", sharing=s, backing=b, **labels),
                 sum(before[m][1][(s, b)]["Pss"] for m in members),
                 f"{what}: container of {n}: {s}/{b} PSS = its smaps' Pss lines of that quadrant")
        for m in members:
            info = [l for nm, l, _ in samples if nm == "procmem_process_info" and l["pid"] == str(pids[m])]
            t.eq([(l["container_id"], l["runtime"], l["pod_uid"]) for l in info], [(cid, rt, pod)],
                 f"{what}: {m}'s process_info names its container and pod")
    # per pod, and the region shared between the two pods: once in all, half in each
    for n, uid, pcg in (("pod1", UID1, cg(POD1)), ("pod2", UID2, cg(POD2))):
        t.eq(sample_value(samples, "procmem_pod_pss_bytes", pod_uid=uid, cgroup=pcg), figures([n], "Pss"),
             f"{what}: pod {uid}: PSS = its process's Pss")
        t.eq(sample_value(samples, "procmem_pod_uss_bytes", pod_uid=uid, cgroup=pcg), uss([n]),
             f"{what}: pod {uid}: USS")
    shared = [sample_value(samples, "procmem_container_quadrant_pss_bytes", cgroup=c, sharing="shared",
                           backing="anonymous") for c in (c_pod1, c_pod2)]
    t.eq(shared, [8 * MIB, 8 * MIB], f"{what}: the 16 MiB region shared by two pods: 8 MiB in each")
    # hostile names: kept as bytes, apart, valid
    for n, want in (("badff", "non-utf8:" + root + "/user.slice/a\\xff"),
                    ("badfe", "non-utf8:" + root + "/user.slice/a\\xfe"),
                    ("quoted", root + '/user.slice/q"\\:  z (deleted)')):
        t.eq(sample_value(samples, "procmem_cgroup_pss_bytes", cgroup=want), figures([n], "Pss"),
             f"{what}: {n}'s cgroup is its own series, labelled {want!r}")


def exposition_ok(text, what):
    rc, out = promtool_check(text)
    t.ok(rc == 0 and out.strip() == "", f"{what}: promtool check metrics is silent: {out[:300]!r}")
    keys = [l.rsplit(" ", 1)[0] for l in text.splitlines() if l and not l.startswith("#")]
    t.eq(len(keys), len(set(keys)), f"{what}: no series twice")
    return parse(text)


ARGS = ["--top", "0", "--detail-top", "0", "--cgroup-top", "0", "--smaps-budget", "0", "--interval", "1"]

# 1. the daemon in the box's top cgroup, in a cgroup namespace rooted there: the box's cgroups
#    read as a kubelet's machine's own (cgroup v2 lets a cgroup hold processes and children
#    alike while no controller is enabled below it, as here)
with Daemon(*ARGS, wrap=lambda cmd: box.in_namespace(cmd)) as d:
    text = d.wait_cycles(2)
samples = exposition_ok(text, "namespace at the box")
t.eq(sample_value(samples, "procmem_cgroup_processes", cgroup="/"), 1,
     "the daemon alone is in its namespace's root, \"/\"")
check(samples, "", "namespace at the box")

# 2. seen from one level further down: the same, every path relative ("/../..")
box.make("observer/deeper")
p = subprocess.run(box.in_namespace([BIN, "--once", *ARGS], "observer/deeper"), capture_output=True,
                   timeout=300)
t.eq(p.returncode, 0, f"--once from a deeper namespace: {p.stderr[-300:]!r}")
check(exposition_ok(p.stdout.decode(), "deeper namespace"), "/../..", "namespace at box/observer/deeper")

# 3. in a pid namespace of its own, reading the host's /proc mounted elsewhere (a container
#    without the host pid namespace, -v /proc:/host/proc); its cgroup namespace as in 1
require_unshare(["--pid", "--fork", "--mount-proc"], "the daemon in its own pid namespace")
hostproc = tempdir()
subprocess.run(["mount", "--bind", "/proc", hostproc], check=True)
p = subprocess.run(box.in_namespace([BIN, "--once", "--procfs", hostproc, *ARGS],
                                    extra=["--pid", "--fork", "--mount-proc"]),
                   capture_output=True, timeout=300)
subprocess.run(["umount", hostproc], check=True)
t.eq(p.returncode, 0, f"--once in its own pid namespace: {p.stderr[-300:]!r}")
samples = exposition_ok(p.stdout.decode(), "own pid namespace")
check(samples, "", "own pid namespace, --procfs the host's /proc")
t.ok(sample_value(samples, "procmem_process_pss_bytes", pid=str(pids["pod1"]), comm=P + "pod1")
     == figures(["pod1"], "Pss"), "own pid namespace: helpers appear under their host pids")

# 4. hundreds of cgroups, one process each: the bound holds
N = 300
many = []
for i in range(N):
    rel = f"many/c{i:03d}"
    box.make(rel)
    q = spawn(["sleep", "600"])
    box.move(q.pid, rel)
    many.append(q.pid)
p = subprocess.run(box.in_namespace([BIN, "--once", "--cgroup-top", "5", "--smaps", "rollup"]),
                   capture_output=True, timeout=300)
t.eq(p.returncode, 0, f"--once with {N} cgroups: {p.stderr[-300:]!r}")
samples = exposition_ok(p.stdout.decode(), f"{N} cgroups")
t.eq(sum(1 for n, _, _ in samples if n == "procmem_cgroup_pss_bytes"), 6,
     f"{N} cgroups, --cgroup-top 5: 5 series and one \"other\"")
t.ok(sample_value(samples, "procmem_cgroups") >= N + len(CG), "procmem_cgroups counts them all")
t.ok(sample_value(samples, "procmem_cgroup_processes", cgroup="other") >= N - 5,
     "the rest are summed under cgroup=\"other\"")

after = kernel()
moved = sorted(n for n in pids if after[n] != before[n])
t.eq(moved, [], "the helpers' kernel figures did not move while they were read")
t.done()
