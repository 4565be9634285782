"""What the systemd tests share (Python standard library only): a stand-in for systemd's notify
socket, a small fake proc tree whose process count the test decides, a free loopback port, and
a real systemd booted by the shared systemd-sandbox tool.

    from sdtest import NotifyListener, fake_procfs
    with NotifyListener() as n:
        env = dict(os.environ, NOTIFY_SOCKET=n.path)
        ...
        msg = n.wait_for(lambda m: m.get("READY") == "1")
"""
import atexit
import os
import signal
import socket
import subprocess
import sys
import time

from procmem import ROOT, require_unshare, skip, spawn, stop_process, tempdir


class NotifyListener:
    """A unix datagram socket where sd_notify() sends; keeps every message, in order, as a dict
    of its KEY=VALUE lines (the raw text under "_raw")."""

    def __init__(self):
        self.path = os.path.join(tempdir(), "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []
        self.seen = 0  # how many of self.messages wait_for() has looked at

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def _receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, BlockingIOError):
            return False
        text = data.decode("utf-8", errors="replace")
        msg = {"_raw": text}
        for line in text.split("\n"):
            if "=" in line:
                k, v = line.split("=", 1)
                msg[k] = v
        self.messages.append(msg)
        return True

    def drain(self):
        """Receives whatever is queued now; marks everything as seen."""
        while self._receive(0.0):
            pass
        self.seen = len(self.messages)

    def wait_for(self, pred, timeout=60):
        """The first message not seen before that satisfies pred; None on timeout. Messages
        looked at on the way count as seen."""
        deadline = time.monotonic() + timeout
        while True:
            while self.seen < len(self.messages):
                m = self.messages[self.seen]
                self.seen += 1
                if pred(m):
                    return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._receive(left):
                if self.seen == len(self.messages):
                    return None


def fake_procfs(pids):
    """A directory that --procfs accepts, with one process per pid in `pids`: copies of the
    status, stat and cgroup files of a stopped `sleep`, an exe link, and /proc/stat (for btime).
    Returns the directory; the test knows exactly how many processes it holds."""
    d = tempdir()
    p = spawn(["sleep", "600"])
    try:
        stop_process(p.pid)
        files = {}
        for f in ("status", "stat", "cgroup"):
            with open(f"/proc/{p.pid}/{f}", "rb") as src:
                files[f] = src.read()
    finally:
        p.kill()
        p.wait()
    for pid in pids:
        add_fake_process(d, pid, files)
    with open("/proc/stat", "rb") as src, open(os.path.join(d, "stat"), "wb") as dst:
        dst.write(src.read())
    os.chmod(d, 0o755)
    return d


def add_fake_process(d, pid, files):
    pd = os.path.join(d, str(pid))
    os.mkdir(pd)
    for name, data in files.items():
        with open(os.path.join(pd, name), "wb") as f:
            f.write(data)
    os.symlink("/bin/sleep", os.path.join(pd, "exe"))
    os.chmod(pd, 0o755)


def free_port():
    """A loopback TCP port nobody listens on right now (the kernel's pick)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def have(cmd):
    return subprocess.run(["sh", "-c", f"command -v {cmd}"], capture_output=True).returncode == 0


class LoggedDaemon:
    """The daemon started as systemd would start it: with the environment given (NOTIFY_SOCKET,
    WATCHDOG_USEC, ...) and, when journal=True, stderr on a file that $JOURNAL_STREAM names, the
    way journald announces itself. Learns its address from the log; does not wait for ready."""

    def __init__(self, args, env, journal=False, argv0=None, timeout=60):
        import re
        from procmem import BIN
        self.logpath = os.path.join(tempdir(), "daemon.log")
        self._log = open(self.logpath, "w")
        env = dict(env)
        if journal:
            st = os.fstat(self._log.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        else:
            env.pop("JOURNAL_STREAM", None)
        self.proc = spawn(argv0 or [BIN, *args], stdout=subprocess.DEVNULL, stderr=self._log, env=env)
        self.pid = self.proc.pid
        self.addr = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(r"listening on (\S+)", self.log())
            if m:
                self.addr = m.group(1)
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.log()}")
            time.sleep(0.05)
        raise RuntimeError(f"daemon not listening within {timeout}s: {self.log()}")

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def url(self, path="/metrics"):
        return f"http://{self.addr}{path}"

    def wait_exit(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


# ---- the systemd sandbox ----------------------------------------------------------------------

SANDBOX_ENV = "PROCMEM_SYSTEMD_SANDBOX"


def _find_sandbox_tool():
    given = os.environ.get(SANDBOX_ENV)
    if given:
        if not os.access(given, os.X_OK):
            print(f"FAIL: ${SANDBOX_ENV}={given} is not an executable file")
            sys.exit(1)
        return given
    places = [os.path.join(os.path.dirname(ROOT), "shared", "tools", "systemd-sandbox")]
    if "/work/shared/tools/systemd-sandbox" not in places:
        places.append("/work/shared/tools/systemd-sandbox")
    for p in places:
        if os.access(p, os.X_OK):
            return os.path.realpath(p)
    skip(f"systemd-sandbox not found (looked for ${SANDBOX_ENV}, {', '.join(places)}); "
         f"set {SANDBOX_ENV}=/path/to/systemd-sandbox to run this test")


def require_sandbox():
    """The systemd-sandbox tool's path; skips, saying why, when: not root; the tool is not found
    (looked for in $PROCMEM_SYSTEMD_SANDBOX, then ../shared/tools/systemd-sandbox beside the
    checkout, then /work/shared/tools/systemd-sandbox; a $PROCMEM_SYSTEMD_SANDBOX that names no
    executable is a failure, not a skip); systemd is not installed; pid/mount namespaces are
    unavailable."""
    if os.geteuid() != 0:
        skip("needs root: the systemd sandbox boots systemd in new pid and mount namespaces")
    tool = _find_sandbox_tool()
    if not os.access("/lib/systemd/systemd", os.X_OK):
        skip("systemd is not installed (/lib/systemd/systemd; Debian package systemd)")
    require_unshare(["--pid", "--fork", "--mount", "--mount-proc", "--uts", "--ipc"],
                    "the systemd sandbox boots systemd in new pid and mount namespaces")
    return tool


def sandbox_systemds():
    """Host pids of the systemd processes that sandboxes run (the tool boots them with
    --unit=sandbox.target)."""
    pids = set()
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if d.isdigit() and argv[0].endswith(b"/systemd") and b"--unit=sandbox.target" in argv:
            pids.add(int(d))
    return pids


class Sandbox:
    """A systemd booted by the tool, stopped at exit (atexit) if not before. Raises RuntimeError
    when it does not come up, having ended whatever it started."""

    def __init__(self, tool, env):
        self.tool, self.env = tool, env
        before = sandbox_systemds()
        try:
            p = subprocess.run([tool, "start"], capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            p = None
        if p is None or p.returncode != 0 or not p.stdout.strip().isdigit():
            # the tool gives up without stopping the systemd it booted (it prints no pid then):
            # end the ones that appeared during this start, or they outlive the test
            for pid in sandbox_systemds() - before:
                try:
                    os.kill(pid, signal.SIGKILL)  # pid 1 of its namespace: the rest goes with it
                except ProcessLookupError:
                    pass
            why = "timed out" if p is None else f"{p.returncode}: {p.stderr.strip()}"
            raise RuntimeError(f"systemd-sandbox start failed ({why})")
        self.pid = p.stdout.strip()
        atexit.register(self.stop)

    def run(self, *cmd, timeout=120, input=None):
        return subprocess.run([self.tool, "exec", self.pid, *cmd], capture_output=True, text=input is None
                              or isinstance(input, str), timeout=timeout, env=self.env, input=input)

    def sh(self, script, timeout=120):
        return self.run("sh", "-ec", script, timeout=timeout)

    def stop(self):
        if not self.pid:
            return
        subprocess.run([self.tool, "stop", self.pid], capture_output=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and os.path.exists(f"/proc/{self.pid}"):
            time.sleep(0.05)
        self.pid = None
