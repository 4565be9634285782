"""Debian's prometheus server for the tests that run queries, rules, federation and remote write
against a real one (test_prometheus_queries.py, test_federation.py)."""
import json
import os
import signal
import subprocess
import time
import urllib.parse

from procmem import http_get, spawn, tempdir
from sdtest import free_port

PROMETHEUS = "/usr/bin/prometheus"


class Prometheus:
    """Debian's prometheus on a free 127.0.0.1 port, storage in a temp dir; `args` are further
    flags (a remote-write receiver's, say)."""

    def __init__(self, config_text, *args, tries=5):
        self.dir = tempdir()
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(config_text)
        for _ in range(tries):
            self.port = free_port()  # another process may take it before prometheus binds: retry
            self.logpath = os.path.join(self.dir, f"prometheus-{self.port}.log")
            self._log = open(self.logpath, "w")
            self.proc = spawn([PROMETHEUS, f"--config.file={self.config}",
                               f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                               f"--web.listen-address=127.0.0.1:{self.port}",
                               "--log.level=info", *args],
                              stdout=self._log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                self.started = time.time()
                return
            self._log.close()
            if "address already in use" not in self.log():
                raise RuntimeError(f"prometheus did not start: {self.log()[-3000:]}")
        raise RuntimeError(f"prometheus found no free port in {tries} tries")

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if http_get(self.url("/-/ready"), timeout=2).status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready within {timeout}s: {self.log()[-3000:]}")

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def api(self, path, **params):
        """GET /api/v1/PATH; returns (ok, data or error text)."""
        query = urllib.parse.urlencode(params, doseq=True)
        r = http_get(self.url(f"/api/v1/{path}?{query}"), timeout=30)
        try:
            body = json.loads(r.body)
        except ValueError:
            return False, f"HTTP {r.status}: {r.body[:300]!r}"
        if r.status != 200 or body.get("status") != "success":
            return False, f"HTTP {r.status}: {body.get('errorType')}: {body.get('error')}"
        return True, body["data"]

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
