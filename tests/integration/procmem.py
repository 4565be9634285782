"""Shared helpers for procmem_exporter's integration tests (Python standard library only).

A test script imports this module, starts what it needs through it (so that everything it
started is stopped at exit, by pid, even when the test fails), and ends with `t.done()`.
Exit codes follow tests/run-integration.sh: 0 pass, 77 skip (reason on the last line), else fail.

    from procmem import Daemon, Test
    t = Test("what this test checks")
    with Daemon("--interval", "1") as d:
        r = d.get("/metrics")
        t.eq(r.status, 200, "GET /metrics answers 200")
    t.done()
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "build", "procmem_exporter")
HELPERS = os.path.join(ROOT, "build", "helpers")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

_children = []  # Popen objects started through spawn(), stopped at exit
_tempdirs = []


def _cleanup():
    for p in reversed(_children):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)  # works on stopped processes too
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def _on_signal(signum, frame):
    sys.exit(128 + signum)  # runs atexit


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def tempdir(parent=None):
    """A directory removed at exit; under `parent` (default: the system's temp dir)."""
    d = tempfile.mkdtemp(prefix="procmem-test-", dir=parent)
    _tempdirs.append(d)
    return d


def spawn(args, **kw):
    """Starts a process that is killed at exit if still running."""
    p = subprocess.Popen(args, **kw)
    _children.append(p)
    return p


def install_env(**extra):
    """This environment less what an outer make or the caller would slip into a `make install`
    (MAKEFLAGS, DESTDIR, PREFIX, ...), plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR", "PREFIX", "BINDIR", "MANDIR",
                        "SYSCONFDIR", "UNITDIR", "DOCDIR")}
    env.update(extra)
    return env


def skip(reason):
    print(f"skip: {reason}")
    sys.exit(77)


def require_root(why):
    if os.geteuid() != 0:
        skip(f"needs root: {why}")


def require_unshare(args, why):
    """Skips, saying why, where `unshare ARGS true` fails: no util-linux, or a kernel, container
    or chroot that refuses those namespaces (in a chroot whose root is not a mount point,
    --mount-proc cannot make the mounts private)."""
    if not shutil.which("unshare"):
        skip(f"no unshare (util-linux): {why}")
    probe = subprocess.run(["unshare", *args, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        skip(f"namespaces unavailable here: unshare {' '.join(args)} says "
             f"{probe.stderr.strip()!r}: {why}")


class Test:
    """Counts checks; prints each failure; exits non-zero at done() if any failed."""

    def __init__(self, title):
        self.title = title
        self.checks = 0
        self.failures = 0
        print(f"== {title}")

    def ok(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures += 1
            print(f"FAIL: {what}")
        return cond

    def eq(self, got, want, what):
        self.checks += 1
        if got != want:
            self.failures += 1
            print(f"FAIL: {what}: got {got!r}, want {want!r}")
            return False
        return True

    def fatal(self, what):
        print(f"FAIL: {what}")
        sys.exit(1)

    def done(self):
        print(f"{self.checks - self.failures}/{self.checks} checks passed")
        sys.exit(1 if self.failures or self.checks == 0 else 0)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def text(self):
        return self.body.decode("utf-8")


def http_get(url, headers=None, method="GET", timeout=10):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def wait_listening(logpath, proc, timeout, wait_ready=True, step=0.05):
    """The address a daemon that logs to logpath says it listens on, once it has also said
    "ready" (unless not wait_ready); None if proc exits or timeout seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with open(logpath, errors="replace") as f:
            text = f.read()
        m = re.search(r"listening on (\S+)", text)
        if m and (not wait_ready or "ready" in text):
            return m.group(1)
        time.sleep(step)
    return None


class Daemon:
    """procmem_exporter on a free 127.0.0.1 port (port 0: the kernel picks, the log tells)."""

    def __init__(self, *args, listen="127.0.0.1:0", env=None, wait_ready=True, timeout=60, wrap=None):
        """wrap: a function from the daemon's command line to the one to run (it must exec the
        daemon in the same process, so that its pid is the daemon's)."""
        self.dir = tempdir()
        self.logpath = os.path.join(self.dir, "daemon.log")
        self.args = [BIN, "--web.listen-address", listen, *args]
        if wrap:
            self.args = wrap(self.args)
        self._log = open(self.logpath, "w")
        self.proc = spawn(self.args, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid
        self.addr = wait_listening(self.logpath, self.proc, timeout, wait_ready)
        if self.addr:
            return
        if self.proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.log()}")
        raise RuntimeError(f"daemon not ready within {timeout}s: {self.log()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def url(self, path="/metrics"):
        return f"http://{self.addr}{path}"

    def get(self, path="/metrics", headers=None, method="GET"):
        return http_get(self.url(path), headers, method)

    def metrics_text(self, headers=None):
        r = self.get("/metrics", headers)
        if r.status != 200:
            raise RuntimeError(f"/metrics answered {r.status}")
        return r.text()

    def wait_cycles(self, n, timeout=60, headers=None):
        """Waits until procmem_collect_cycles_total reaches n; returns the exposition."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.metrics_text(headers)
            if sample_value(parse(text), "procmem_collect_cycles_total") >= n:
                return text
            time.sleep(0.1)
        raise RuntimeError(f"fewer than {n} cycles within {timeout}s")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the daemon; returns its exit status."""
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def once(*args, check=True):
    """Runs one --once cycle; returns its standard output."""
    p = subprocess.run([BIN, "--once", *args], capture_output=True, timeout=300)
    if check and p.returncode != 0:
        raise RuntimeError(f"--once exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode("utf-8")


# ---- the exposition format ---------------------------------------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"


def _parse_labels(s, i):
    """Parses {a="b",...} starting at s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i] == "}":
            return labels, i + 1
        m = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"").match(s, i)
        if not m:
            raise ValueError(f"bad label at {s[i:i+40]!r}")
        name = m.group(1)
        i = m.end()
        val = []
        while s[i] != '"':
            if s[i] == "\\":
                nxt = s[i + 1]
                val.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            else:
                val.append(s[i])
                i += 1
        i += 1
        if name in labels:
            raise ValueError(f"label {name} repeated")
        labels[name] = "".join(val)
        if s[i] == ",":
            i += 1


def parse(text):
    """Parses an exposition (text 0.0.4 or OpenMetrics) into a list of
    (name, labels, value-string) and checks the basic rules on the way; raises ValueError."""
    samples = []
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        m = re.compile(_NAME).match(line)
        if not m:
            raise ValueError(f"bad sample line {line!r}")
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i)
        if line[i] != " ":
            raise ValueError(f"no space before value in {line!r}")
        samples.append((name, labels, line[i + 1:]))
    return samples


def families(text):
    """{family: {"help": str, "type": str, "unit": str}} from the metadata lines."""
    fams = {}
    for line in text.split("\n"):
        m = re.match(r"# (HELP|TYPE|UNIT) (\S+) ?(.*)$", line)
        if m:
            fams.setdefault(m.group(2), {})[m.group(1).lower()] = m.group(3)
    return fams


def sample_value(samples, name, **labels):
    """The value of the one sample `name` whose labels include `labels`, as int or float;
    None when there is none; raises if several match."""
    found = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    if not found:
        return None
    if len(found) > 1:
        raise ValueError(f"{len(found)} samples of {name} match {labels}")
    v = found[0]
    return int(v) if re.fullmatch(r"-?\d+", v) else float(v)


def bcrypt(password, cost=4):
    """A bcrypt hash of password made here, with a fresh salt: Python's crypt (libxcrypt's
    crypt(3)), else htpasswd -nbB; skips the test when neither can."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
            h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** cost))
            if h and h.startswith("$2b$"):
                return h
        except ImportError:
            pass
    if shutil.which("htpasswd"):
        out = subprocess.run(["htpasswd", "-nbBC", str(cost), "x", password], capture_output=True,
                             text=True, check=True).stdout
        return out.strip().split(":", 1)[1]
    skip("no way to make a bcrypt hash here (python3 crypt or htpasswd)")


def promtool_check(text):
    """Runs `promtool check metrics` on an exposition; returns (exit code, output)."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=60)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


# ---- the kernel's own figures -----------------------------------------------------------------

def read_kb_fields(path):
    """{field: bytes} for every "Name:   123 kB" line of a /proc file."""
    out = {}
    with open(path, errors="replace") as f:  # status's Name: line holds any bytes
        for line in f:
            m = re.match(r"^(\w+):\s+(\d+) kB$", line.rstrip("\n"))
            if m:
                out[m.group(1)] = int(m.group(2)) * 1024
    return out


def stop_process(pid, timeout=10):
    """SIGSTOPs pid and waits until the kernel reports it stopped (state T)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", "rb") as f:  # bytes: comm may be any bytes
            state = f.read().rsplit(b")", 1)[1].split()[0]
        if state in (b"T", b"t"):
            return
        time.sleep(0.01)
    raise RuntimeError(f"pid {pid} did not stop")
