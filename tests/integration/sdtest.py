"""What the systemd tests share (Python standard library only): a stand-in for systemd's notify
socket, a small fake proc tree whose process count the test decides, and a free loopback port.

    from sdtest import NotifyListener, fake_procfs
    with NotifyListener() as n:
        env = dict(os.environ, NOTIFY_SOCKET=n.path)
        ...
        msg = n.wait_for(lambda m: m.get("READY") == "1")
"""
import os
import socket
import subprocess
import time

from procmem import spawn, stop_process, tempdir


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
