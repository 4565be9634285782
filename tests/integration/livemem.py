"""The kernel's side of the live tests: processes with known memory layouts, and what
/proc says about them, read and classified here independently of the exporter.

    from livemem import Helpers, kernel_view, expected_series, exported_series
    h = Helpers()                                  # a comm prefix unique to this test run
    a = h.start("big", "--shared-anon", "50")      # started, ready, SIGSTOPped
    k = kernel_view(a.pid)                         # status, smaps_rollup, smaps, stat, ...

Everything here reads /proc of stopped helpers: a stopped process's figures do not move, so a
value the exporter printed can be compared with the kernel's byte for byte. The helper
(tests/helpers/memlayout.c) is linked statically and drops its vDSO so that no page of it is
shared with processes the test does not control (see there). One thing moves without the
process: writeback. A page of a file that was written (by write(), by a compiler, through a
shared mapping) and not yet written back counts as dirty in every process that maps it, until
the kernel's flusher writes it out, up to dirty_expire_centisecs (30 s) later. kernel_view()
therefore syncs first, so that the file pages the test made are clean before it looks, and stay
so while the stopped helpers are read.
"""
import os
import pwd
import re
import select
import subprocess
from decimal import Decimal

from procmem import HELPERS, read_kb_fields, spawn, stop_process

MEMLAYOUT = os.path.join(HELPERS, "memlayout")
MIB = 1 << 20
KIB = 1 << 10


class Helpers:
    """Starts memlayout processes named PREFIX_NAME; PREFIX is unique to this test run, so
    `include_regex()` matches this run's helpers and nothing else on the machine."""

    def __init__(self):
        if not os.access(MEMLAYOUT, os.X_OK):
            raise RuntimeError(f"{MEMLAYOUT} missing: build it with make")
        self.prefix = b"p%05d_" % (os.getpid() % 100000)
        self.procs = []

    def include_regex(self):
        return self.prefix.decode() + ".*"

    def start(self, name, *layout, comm=None, timeout=60):
        """Starts a helper with `layout` (memlayout options), waits for it to be ready, stops
        it. comm: the raw bytes to name it (default PREFIX + name)."""
        if comm is None:
            comm = self.prefix + name.encode()
        p = spawn([MEMLAYOUT, *layout, "--comm", comm], stdout=subprocess.PIPE)
        ready, _, _ = select.select([p.stdout], [], [], timeout)
        line = p.stdout.readline() if ready else b""
        if line != b"ready\n":
            raise RuntimeError(f"memlayout {layout} did not get ready (exit {p.poll()})")
        stop_process(p.pid)
        p.comm_arg = comm
        p.name = name
        self.procs.append(p)
        return p


def unused_uid(base):
    """The first uid from base up that the user database does not know: a helper run under it
    is the only process of its user, so the user's aggregate is the helper's figures."""
    uid = base
    while True:
        try:
            pwd.getpwuid(uid)
            uid += 1
        except KeyError:
            return uid


def run_as(uid):
    """A preexec_fn for spawn(): the child runs as uid (gid uid, no supplementary groups)."""
    def drop():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    return drop


def make_file(path, size):
    """A file of `size` bytes (a whole number of pages), all of them in the page cache."""
    with open(path, "wb") as f:
        f.write(b"\x5a" * size)
    return path


# ---- /proc of one process ----------------------------------------------------------------

def read_stat(pid):
    """comm (raw bytes), state, ppid, starttime (clock ticks after boot) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        raw = f.read()
    comm = raw[raw.index(b"(") + 1:raw.rindex(b")")]
    rest = raw[raw.rindex(b")") + 2:].split()
    # rest[0] is field 3 (state); field N is rest[N - 3]
    return {"comm": comm, "state": rest[0].decode(), "ppid": int(rest[1]),
            "starttime": int(rest[19])}


def read_btime():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def read_status(pid):
    """The kB fields of /proc/PID/status in bytes, plus ruid."""
    st = read_kb_fields(f"/proc/{pid}/status")
    with open(f"/proc/{pid}/status", errors="replace") as f:  # Name: holds any bytes
        for line in f:
            if line.startswith("Uid:"):
                st["ruid"] = int(line.split()[1])
    return st


_HEADER = re.compile(rb"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+) ?\s*(.*)$")
_FIELD = re.compile(rb"^(\w+):\s+(\d+) kB$")


def read_smaps(pid):
    """The mappings of /proc/PID/smaps: [{perms, inode, path (bytes), fields {name: bytes}}]."""
    maps = []
    with open(f"/proc/{pid}/smaps", "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            m = _HEADER.match(line)
            if m:
                maps.append({"perms": m.group(3).decode(), "inode": int(m.group(6)),
                             "path": m.group(7), "fields": {}})
                continue
            m = _FIELD.match(line)
            if m:
                maps[-1]["fields"][m.group(1).decode()] = int(m.group(2)) * KIB
    return maps


_SYSV = re.compile(rb"/SYSV[0-9a-fA-F]{8} \(deleted\)")


def quadrant(m):
    """(sharing, backing) of a mapping by DESIGN.md's rules; m needs perms, inode and path,
    as read_smaps() and read_maps() give them."""
    sharing = "shared" if m["perms"][3] == "s" else "private"
    p = m["path"]
    anon = (m["inode"] == 0 or p in (b"/dev/zero (deleted)", b"/dev/zero",
                                     b"/anon_hugepage (deleted)") or
            _SYSV.fullmatch(p) is not None or p.startswith(b"[anon_shmem:"))
    return sharing, "anonymous" if anon else "file"


def read_maps(pid):
    """/proc/PID/maps: {start address: {perms, inode, path (bytes)}}."""
    maps = {}
    with open(f"/proc/{pid}/maps", "rb") as f:
        for line in f:
            m = _HEADER.match(line.rstrip(b"\n"))
            maps[int(m.group(1), 16)] = {"perms": m.group(3).decode(), "inode": int(m.group(6)),
                                         "path": m.group(7)}
    return maps


QUADRANTS = [(s, b) for s in ("private", "shared") for b in ("anonymous", "file")]


def dirty(fields):
    """pmap -x's Dirty of a mapping (or of the rollup): Shared_Dirty + Private_Dirty."""
    return fields.get("Shared_Dirty", 0) + fields.get("Private_Dirty", 0)


def quadrant_sums(maps):
    """{(sharing, backing): {"Size", "Rss", "Pss", "Swap", "Dirty", "Pss_Dirty"}} summed over
    the mappings (Dirty as dirty() says)."""
    sums = {q: {"Size": 0, "Rss": 0, "Pss": 0, "Swap": 0, "Dirty": 0, "Pss_Dirty": 0}
            for q in QUADRANTS}
    for m in maps:
        s = sums[quadrant(m)]
        for k in s:
            s[k] += dirty(m["fields"]) if k == "Dirty" else m["fields"].get(k, 0)
    return sums


_UNIT = re.compile(r"[A-Za-z0-9:_.\\@-]+\.(service|scope|socket|mount|swap)")


def cgroup_unit(pid):
    """The systemd unit of a process, from /proc/PID/cgroup: the name=systemd hierarchy, else
    the unified one; its first path component that is a unit of a process-holding type."""
    v1 = v2 = None
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            hid, ctrl, path = line.rstrip("\n").split(":", 2)
            if ctrl == "name=systemd":
                v1 = path
            elif hid == "0" and ctrl == "":
                v2 = path
    path = v1 if v1 is not None else v2 or ""
    for comp in path.split("/"):
        if len(comp) > 1 and comp[0] == "_":
            comp = comp[1:]
        if len(comp) <= 255 and _UNIT.fullmatch(comp):
            return comp
    return ""


# What a cgroup path says about containers and pods (DESIGN.md, "Whose memory"), written again
# here from the rules, not from src/cgroup.c: the outermost component naming a container; a pod
# only where the kubelet puts it (the root of the path, or after the "/.." of a namespace).
_ID = r"[0-9a-f]{64}"
_UID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})"
_UID_ = _UID.replace("}-", "}_")  # the systemd driver's
_CONTAINER = [(re.compile(r"docker-(%s)\.scope" % _ID), "docker"),
              (re.compile(r"cri-containerd-(%s)\.scope" % _ID), "containerd"),
              (re.compile(r"crio-(%s)(?:\.scope)?" % _ID), "crio"),
              (re.compile(r"libpod-(%s)(?:\.scope)?" % _ID), "podman"),
              (re.compile(r"lxc\.payload\.(.+)"), "lxc")]
_POD_CONTAINER = [(re.compile(r"cri-containerd-(%s)\.scope" % _ID), "containerd"),
                  (re.compile(r"crio-(%s)(?:\.scope)?" % _ID), "crio"),
                  (re.compile(r"docker-(%s)\.scope" % _ID), "docker"),
                  (re.compile(r"(%s)" % _ID), "")]


def cgroup_path(pid):
    """The cgroup the exporter names a process by: unified if not the root, else name=systemd,
    else memory (a path of only "/.." counts as the root)."""
    lines = {}
    with open(f"/proc/{pid}/cgroup", "rb") as f:
        for line in f:
            hid, ctrl, path = line.rstrip(b"\n").split(b":", 2)
            if hid == b"0":
                lines["unified"] = path
            for c in ctrl.split(b","):
                if c in (b"name=systemd", b"memory"):
                    lines[c.decode()] = path
    have = [lines[k] for k in ("unified", "name=systemd", "memory") if k in lines]
    for p in have:
        if any(c not in (b"", b"..") for c in p.split(b"/")):
            return p
    return have[0] if have else b""


def cgroup_identity(path):
    """(container_id, runtime, pod_uid) a cgroup path names; "" where none."""
    comps = [c.decode(errors="surrogateescape") for c in path.split(b"/") if c]
    relative = bool(comps) and comps[0] == ".."
    while comps and comps[0] == "..":
        comps.pop(0)
    pod = None
    fs = "/".join(comps[:3])
    m = re.match(r"(?:kubepods/)?(?:(?:burstable|besteffort)/)?pod(%s)(?:/|$)" % _UID, fs)
    if m and (relative or fs.startswith("kubepods/")):
        pod = (m.group(1), m.group(0).rstrip("/").count("/") + 1)
    for i, c in enumerate(comps[:16]):
        m = re.fullmatch(r"(.*-)?kubepods(-(?:burstable|besteffort))?-pod(%s)\.slice"
                         % _UID_, c)
        if m:
            parts = c[:-6].split("-")
            chain = ["-".join(parts[:k]) + ".slice" for k in range(1, len(parts))]
            if comps[:i] == (chain[len(chain) - i:] if relative else chain) and i <= len(chain):
                pod = (m.group(3).replace("_", "-"), i + 1)
            break
        if not c.endswith(".slice"):
            break
    if pod:
        nxt = comps[pod[1]] if len(comps) > pod[1] else ""
        for rx, rt in _POD_CONTAINER:
            m = rx.fullmatch(nxt)
            if m:
                return m.group(1), rt, pod[0]
        return "", "", pod[0]
    parent = ""
    for c in comps:
        for rx, rt in _CONTAINER:
            m = rx.fullmatch(c)
            if m:
                return m.group(1), rt, ""
        if re.fullmatch(_ID, c) and parent == "docker":
            return c, "docker", ""
        if parent == "lxc":
            return c, "lxc", ""
        m = re.fullmatch(r"machine-(.+)\.scope", c)
        if m:
            name = re.sub(r"\\x([0-9a-fA-F]{2})", lambda x: chr(int(x.group(1), 16)), m.group(1))
            return name, "machined", ""
        parent = c
    return "", "", ""


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def kernel_view(pid):
    """Everything the kernel says about a (stopped) process that the exporter exports. Syncs
    first: see the top of this file."""
    os.sync()
    return {
        "status": read_status(pid),
        "rollup": read_kb_fields(f"/proc/{pid}/smaps_rollup"),
        "smaps": read_smaps(pid),
        "stat": read_stat(pid),
        "btime": read_btime(),
        "exe": os.readlink(f"/proc/{pid}/exe"),
        "unit": cgroup_unit(pid),
        "container": cgroup_identity(cgroup_path(pid)),
    }


# ---- what the exporter should say ------------------------------------------------------------

def expected_series(k, mode):
    """{(metric, ((label, value), ...)): value} of the per-process series for kernel view k
    in smaps mode `mode`, pid and comm labels left out. What the mode cannot know is absent."""
    st, ru = k["status"], k["rollup"]
    hz = os.sysconf("SC_CLK_TCK")
    e = {
        ("procmem_process_virtual_bytes", ()): st["VmSize"],
        ("procmem_process_resident_bytes", ()): st["VmRSS"],
        ("procmem_process_shared_bytes", ()): st["RssFile"] + st["RssShmem"],
        ("procmem_process_data_bytes", ()): st["VmData"],
        ("procmem_process_code_bytes", ()): st["VmExe"],
        ("procmem_process_swap_bytes", ()): st["VmSwap"],
        # btime + starttime / hz, to the microsecond
        ("procmem_process_start_time_seconds", ()):
            Decimal(k["btime"] * 10**6 + k["stat"]["starttime"] * 10**6 // hz) / 10**6,
        ("procmem_process_info", (("container_id", k["container"][0]), ("exe", k["exe"]),
                                  ("pod_uid", k["container"][2]), ("ppid", str(k["stat"]["ppid"])),
                                  ("runtime", k["container"][1]), ("unit", k["unit"]),
                                  ("user", user_name(st["ruid"])))): 1,
    }
    if mode in ("rollup", "full"):
        e[("procmem_process_pss_bytes", ())] = ru["Pss"]
        e[("procmem_process_uss_bytes", ())] = ru["Private_Clean"] + ru["Private_Dirty"]
        e[("procmem_process_swap_pss_bytes", ())] = ru["SwapPss"]
        for kind, field in (("anon", "Pss_Anon"), ("file", "Pss_File"), ("shmem", "Pss_Shmem")):
            if field in ru:
                e[("procmem_process_pss_kind_bytes", (("kind", kind),))] = ru[field]
        e[("procmem_process_dirty_bytes", ())] = dirty(ru)
        e[("procmem_process_anon_huge_pages_bytes", ())] = ru["AnonHugePages"]
        e[("procmem_process_locked_pss_bytes", ())] = ru["Locked"]
    if mode == "full":
        sums = quadrant_sums(k["smaps"])
        for fam, field in (("virtual", "Size"), ("resident", "Rss"), ("pss", "Pss"),
                           ("swap", "Swap"), ("dirty", "Dirty")):
            for (s, b) in QUADRANTS:
                e[(f"procmem_process_quadrant_{fam}_bytes",
                   (("backing", b), ("sharing", s)))] = sums[(s, b)][field]
    return e


def exported_series(samples, pid):
    """The same shape as expected_series, from a parsed exposition; and the comm labels seen."""
    out, comms = {}, set()
    for name, labels, value in samples:
        if not name.startswith("procmem_process_") or labels.get("pid") != str(pid):
            continue
        comms.add(labels.get("comm"))
        rest = tuple(sorted((k, v) for k, v in labels.items() if k not in ("pid", "comm")))
        key = (name, rest)
        if key in out:
            raise ValueError(f"{key} twice for pid {pid}")
        out[key] = Decimal(value) if name == "procmem_process_start_time_seconds" else int(value)
    return out, comms


def compare_series(t, got, want, what):
    """One check per expected series, one for anything exported that should not be."""
    for key in sorted(want):
        t.eq(got.get(key), want[key], f"{what}: {key[0]}{dict(key[1]) if key[1] else ''}")
    extra = sorted(set(got) - set(want))
    t.eq(extra, [], f"{what}: series the mode cannot know are absent")


def expected_comm(comm_arg):
    """The comm label of a process named with prctl(PR_SET_NAME, comm_arg): the kernel keeps
    15 bytes; the label is valid UTF-8, each maximal ill-formed subpart replaced by U+FFFD."""
    return comm_arg[:15].decode("utf-8", errors="replace")


PF_KTHREAD = 0x00200000  # include/linux/sched.h


def kernel_thread_pids():
    """The pids of /proc whose stat flags say kernel thread."""
    pids = set()
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue  # exited meanwhile
        rest = raw[raw.rindex(b")") + 2:].split()
        if int(rest[6]) & PF_KTHREAD:  # field 9, flags
            pids.add(e)
    return pids
