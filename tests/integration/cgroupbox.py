"""A private cgroup2 hierarchy for live tests: Kubernetes- and Docker-style cgroups made on this
machine without touching its own, and processes moved into them.

    from cgroupbox import CgroupBox, enter_private_mount_namespace
    enter_private_mount_namespace("why")    # first thing: re-executes the test under unshare -m
    box = CgroupBox()                       # cgroup2 mounted, a directory of this run's own
    box.make("kubepods/besteffort/pod<uid>/<id>")
    box.move(pid, "kubepods/besteffort/pod<uid>/<id>")
    cmd = box.in_namespace([BIN, "--once"])  # runs in a cgroup namespace rooted at the box

cgroup2 is one hierarchy per machine: mounting it again (which works even where the machine's
controllers sit on cgroup v1) shows the same cgroups as /sys/fs/cgroup/unified. So:
- the test runs in a mount namespace of its own (unshare --mount --propagation private), and
  the mount lives only there: it disappears with the namespace, even if the test is killed;
- everything the test makes sits in one directory, procmem-test-PID-RANDOM, and the daemon under
  test runs in a cgroup namespace rooted there, so that it reads the test's cgroups as the
  host's own ("/kubepods/...") while other runs and the machine stay out of sight;
- at exit, also on failure, the processes in those cgroups (all started by the test) are killed
  by pid, the directories removed bottom-up, and the hierarchy unmounted. A run killed outright
  leaves empty directories behind; the next run removes those whose PID is dead.
"""
import atexit
import errno
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time

from procmem import require_root, require_unshare

_ENV = "PROCMEM_PRIVATE_MOUNT_NS"
_STALE = re.compile(r"procmem-test-(\d+)-[0-9a-f]+$")


def enter_private_mount_namespace(why, required=True):
    """Re-executes the calling test in a mount namespace of its own (once), and returns True
    there. Where that is not possible: skips the test, or with required=False says why and
    returns False."""
    if os.environ.get(_ENV) == "1":
        return True
    if not required:
        reason = ("not root" if os.geteuid() != 0 else None)
        if reason is None:
            probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                                   capture_output=True, text=True)
            reason = None if probe.returncode == 0 else f"unshare -m: {probe.stderr.strip()}"
        if reason:
            print(f"no private mount namespace ({reason}): {why} is left out")
            return False
    require_root(why)
    require_unshare(["--mount", "--propagation", "private"], why)
    os.environ[_ENV] = "1"
    sys.stdout.flush()
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable,
                          *sys.argv])


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _rmdir_tree(top, timeout=10):
    """Removes the cgroup directories under and including top, deepest first. A cgroup whose
    last process has just exited may refuse for a moment (EBUSY): tried again until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        busy = []
        for d, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(d)
            except FileNotFoundError:
                pass
            except OSError as e:
                if e.errno != errno.EBUSY:
                    raise
                busy.append(d)
        if not busy:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"cgroups still busy: {busy}")
        time.sleep(0.05)


class CgroupBox:
    def __init__(self):
        if os.environ.get(_ENV) != "1":
            raise RuntimeError("enter_private_mount_namespace() first")
        self.mnt = tempfile.mkdtemp(prefix="procmem-cgroup2-")
        p = subprocess.run(["mount", "-t", "cgroup2", "none", self.mnt], capture_output=True,
                           text=True)
        if p.returncode != 0:
            os.rmdir(self.mnt)
            print(f"skip: cannot mount cgroup2 here: {p.stderr.strip()}")
            sys.exit(77)
        self._mounted = True
        self.top = None
        atexit.register(self.close)
        self._sweep_stale()
        self.name = f"procmem-test-{os.getpid()}-{secrets.token_hex(4)}"
        self.top = os.path.join(self.mnt, self.name)
        os.mkdir(self.top)

    def _sweep_stale(self):
        for name in os.listdir(self.mnt):
            m = _STALE.match(name)
            if m and not _pid_alive(int(m.group(1))):
                try:
                    _rmdir_tree(os.path.join(self.mnt, name), timeout=1)
                except (OSError, RuntimeError):
                    pass  # still holds processes: not ours to kill

    def path(self, rel=""):
        return os.path.join(self.top, rel) if rel else self.top

    def make(self, rel):
        os.makedirs(self.path(rel), exist_ok=True)
        return self.path(rel)

    def move(self, pid, rel=""):
        """Moves pid (a process this test started) into the cgroup rel."""
        with open(os.path.join(self.path(rel), "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def in_namespace(self, cmd, rel="", extra=()):
        """cmd run in the cgroup rel, in a new cgroup namespace rooted there (unshare --cgroup),
        with more unshare options in extra."""
        self.make(rel)
        return ["sh", "-c", 'echo $$ >"$0/cgroup.procs" && exec unshare --cgroup "$@"',
                self.path(rel), *extra, *cmd]

    def pids(self):
        """Every process in the box's cgroups."""
        out = []
        for d, _, files in os.walk(self.top):
            if "cgroup.procs" in files:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    out += [int(x) for x in f.read().split()]
        return out

    def close(self):
        if not self._mounted:
            return
        try:
            if self.top and os.path.isdir(self.top):
                # only this test's processes can be in this run's cgroups: stop them by pid
                for _ in range(100):
                    pids = self.pids()
                    if not pids:
                        break
                    for pid in pids:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    time.sleep(0.05)
                _rmdir_tree(self.top)
        finally:
            # not rmtree: were the umount to fail, it would remove other people's empty cgroups
            if subprocess.run(["umount", self.mnt], check=False).returncode == 0:
                os.rmdir(self.mnt)
            self._mounted = False
