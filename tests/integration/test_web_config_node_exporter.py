#!/usr/bin/env python3
"""The same web configuration file, handed to Debian's prometheus-node-exporter (Go,
exporter-toolkit: the reference) and to procmem_exporter, answers the same requests alike.

Each scenario is one file in a temporary directory whose paths are relative (exporter-toolkit
resolves them against the file's directory; both servers run from another one). Both servers
run on 127.0.0.1; node_exporter with every collector off (--collector.disable-defaults), stopped
by pid. Every request is made the same way to both, with Python's ssl (OpenSSL) as the client,
and its outcome is one of: the TLS handshake failed; the handshake passed but no HTTP answer
came (TLS 1.3 client certificates are checked after the client's side of the handshake is done);
or an HTTP status, with the negotiated TLS version and the configured headers. The outcomes must
be equal, and equal to the one written here by hand from exporter-toolkit's semantics, so that
two servers that are wrong alike fail too.

Covered: basic auth over TLS (right, wrong, unknown user, none) with headers on 200 and 401;
RequireAndVerifyClientCert, VerifyClientCertIfGiven, RequireAnyClientCert and RequestClientCert
with a client certificate from the CA, one from another CA, one from the CA but for servers
only, an expired one, and none, over TLS 1.2 and 1.3; min_version TLS13 and max_version TLS12
against clients limited to the other version; basic auth without TLS; files both refuse at start.

Where they must differ, and the test checks the difference rather than hiding it:
- files procmem_exporter refuses and node_exporter takes (min_version above max_version, a
  verifying client_auth_type without client_ca_file: Go would then trust the system's public
  CAs for client certificates);
- not asserted equal: the 401 body and the WWW-Authenticate parameters (both say Basic), the TLS
  alert a refused client certificate gets (Go sends one, libmicrohttpd closes the connection;
  the client sees the failure at the same step either way), paths other than /metrics
  (node_exporter answers any path with its landing page), HTTP/2 (Go offers it through ALPN,
  libmicrohttpd does not; this client asks for neither).
"""
import base64
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import BIN, Daemon, Test, bcrypt, skip, spawn, tempdir  # noqa: E402
from sdtest import free_port, have  # noqa: E402
from tlscerts import Certs  # noqa: E402

NODE = "prometheus-node-exporter"
for tool in (NODE, "certtool"):
    if not have(tool):
        skip(f"{tool} is not installed (tools/deps.sh test installs it)")

t = Test("the same web config file: node_exporter and procmem_exporter answer alike")
d = tempdir()
certs = Certs(d)
ca = certs.ca("ca")
other_ca = certs.ca("other-ca")
server = certs.signed("server", ca, "server")
client = certs.signed("client", ca, "client")
rogue = certs.signed("rogue", other_ca, "client")
server_only = certs.signed("server-only", ca, "server")  # from the CA, but not for TLS clients
expired = certs.signed("expired", ca, "client", expired=True)
PASSWORD = "correct horse"
HASH = bcrypt(PASSWORD)


def web_config(name, text):
    path = os.path.join(d, f"{name}.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


class NodeExporter:
    """prometheus-node-exporter on a free loopback port, nothing collected; None if it exits."""

    def __init__(self, config):
        self.port = free_port()
        self.log = os.path.join(tempdir(), "node.log")
        with open(self.log, "w") as log:
            self.proc = spawn([NODE, f"--web.listen-address=127.0.0.1:{self.port}", f"--web.config.file={config}",
                               "--collector.disable-defaults", "--web.disable-exporter-metrics"],
                              stdout=log, stderr=subprocess.STDOUT, cwd="/")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                if "Listening on" in open(self.log).read():
                    return
            except OSError:
                pass
            time.sleep(0.05)

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # Go's default: it exits on the signal
            self.proc.wait(timeout=20)
        return self.proc.returncode


def ours(config):
    return Daemon("--interval", "1h", "--smaps", "off", "--web.config.file", config)


def request(port, tls=True, version=None, cert=None, user=None, password=None, headers=()):
    """One GET /metrics; ("handshake failed",), ("no answer",) or (status, TLS version,
    {header: value} for the names in `headers`)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    proto = None
    try:
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(ca.cert)
            if version:
                ctx.minimum_version = ctx.maximum_version = version
            if cert:
                ctx.load_cert_chain(cert.cert, cert.key)
            try:
                sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
            except (ssl.SSLError, OSError):
                return ("handshake failed",)
            proto = sock.version()
        req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if user is not None:
            req += "Authorization: Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() + "\r\n"
        got = b""
        try:
            sock.sendall((req + "\r\n").encode())
            while b"\r\n\r\n" not in got:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (ssl.SSLError, OSError):
            pass
        if not got.startswith(b"HTTP/1.1 ") or b"\r\n\r\n" not in got:
            return ("no answer",)
        head = got.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        fields = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            fields[k.strip().lower()] = v.strip()
        return (int(head[0].split()[1]), proto, {h: fields.get(h.lower()) for h in headers})
    finally:
        sock.close()


TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


def compare(name, text, cases):
    """cases: [(what, request kwargs, expected outcome)]; both servers, same requests."""
    config = web_config(name, text)
    node = NodeExporter(config)
    if not t.ok(node.running(), f"{name}: node_exporter starts ({open(node.log).read()[-300:]})"):
        node.stop()
        return
    daemon = ours(config)
    our_port = int(daemon.addr.rsplit(":", 1)[1])
    for what, kw, want in cases:
        theirs = request(node.port, **kw)
        mine = request(our_port, **kw)
        t.eq(theirs, want, f"{name}, {what}: node_exporter answers as exporter-toolkit means")
        t.eq(mine, theirs, f"{name}, {what}: procmem_exporter answers as node_exporter does")
    t.eq(node.stop(), -signal.SIGTERM, f"{name}: node_exporter stops on SIGTERM")
    t.eq(daemon.stop(), 0, f"{name}: procmem_exporter stops cleanly")


HEADERS = ("X-Frame-Options", "X-Content-Type-Options", "Content-Security-Policy")
H = {"X-Frame-Options": "deny", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"}
TLS_AUTH = f"""tls_server_config:
  cert_file: server.crt
  key_file: server.key
http_server_config:
  headers:
    X-Frame-Options: deny
    Content-Security-Policy: "default-src 'none'"
    X-Content-Type-Options: nosniff
basic_auth_users:
  prometheus: {HASH}
"""
compare("tls-auth", TLS_AUTH, [
    ("right credentials", dict(user="prometheus", password=PASSWORD, headers=HEADERS), (200, "TLSv1.3", H)),
    ("wrong password", dict(user="prometheus", password="wrong", headers=HEADERS), (401, "TLSv1.3", H)),
    ("unknown user", dict(user="nobody", password=PASSWORD, headers=HEADERS), (401, "TLSv1.3", H)),
    ("no credentials", dict(headers=HEADERS), (401, "TLSv1.3", H)),
    ("right credentials over TLS 1.2", dict(version=TLS12, user="prometheus", password=PASSWORD),
     (200, "TLSv1.2", {})),
    ("plain HTTP to the TLS port", dict(tls=False, user="prometheus", password=PASSWORD), ("no answer",)),
])

CLIENTS = [("a client certificate from the CA", client), ("one from another CA", rogue),
           ("one from the CA for servers only", server_only), ("an expired one from the CA", expired),
           ("no client certificate", None)]


def mtls_cases(outcomes):
    """outcomes: per client of CLIENTS, the outcome with TLS 1.3 (200 or "refused"); with TLS 1.2
    a refusal shows in the handshake, with TLS 1.3 after it."""
    cases = []
    for (what, cert), outcome in zip(CLIENTS, outcomes):
        for version, proto in ((TLS13, "TLSv1.3"), (TLS12, "TLSv1.2")):
            want = (200, proto, {}) if outcome == 200 else \
                ("no answer",) if version == TLS13 else ("handshake failed",)
            cases.append((f"{what}, {proto}", dict(version=version, cert=cert), want))
    return cases


def mtls(mode, ca_file=True):
    return (f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: {mode}\n" +
            ("  client_ca_file: ca.crt\n" if ca_file else ""))


R = "refused"
compare("require-and-verify", mtls("RequireAndVerifyClientCert"), mtls_cases([200, R, R, R, R]))
compare("verify-if-given", mtls("VerifyClientCertIfGiven"), mtls_cases([200, R, R, R, 200]))
compare("require-any", mtls("RequireAnyClientCert"), mtls_cases([200, 200, 200, 200, R]))
compare("request", mtls("RequestClientCert", ca_file=False), mtls_cases([200, 200, 200, 200, 200]))
# mutual TLS and basic auth: a client needs both
compare("mtls-and-auth", mtls("RequireAndVerifyClientCert") + f"basic_auth_users:\n  prometheus: {HASH}\n", [
    ("certificate and credentials", dict(cert=client, user="prometheus", password=PASSWORD), (200, "TLSv1.3", {})),
    ("certificate, no credentials", dict(cert=client), (401, "TLSv1.3", {})),
    ("credentials, no certificate", dict(user="prometheus", password=PASSWORD), ("no answer",)),
])

VERSIONED = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
compare("tls13-only", VERSIONED + "  min_version: TLS13\n", [
    ("a TLS 1.3 client", dict(version=TLS13), (200, "TLSv1.3", {})),
    ("a TLS 1.2 client", dict(version=TLS12), ("handshake failed",)),
    ("a client offering both", dict(), (200, "TLSv1.3", {})),
])
compare("tls12-only", VERSIONED + "  max_version: TLS12\n", [
    ("a TLS 1.2 client", dict(version=TLS12), (200, "TLSv1.2", {})),
    ("a TLS 1.3 client", dict(version=TLS13), ("handshake failed",)),
    ("a client offering both", dict(), (200, "TLSv1.2", {})),
])
compare("auth-without-tls", f"basic_auth_users:\n  prometheus: {HASH}\n", [
    ("right credentials", dict(tls=False, user="prometheus", password=PASSWORD), (200, None, {})),
    ("wrong password", dict(tls=False, user="prometheus", password="nope"), (401, None, {})),
    ("TLS to a plain port", dict(), ("handshake failed",)),
])


def ours_refuses(config):
    p = subprocess.run([BIN, "--web.listen-address", "127.0.0.1:0", "--interval", "1h", "--web.config.file", config],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr


# files both refuse at start: node_exporter exits non-zero, procmem_exporter with 2 and the line
for name, text, line, why in [
        ("unknown-key", VERSIONED + "  cert_flie: x\n", 4, "unknown key \"cert_flie\""),
        ("bad-header", "http_server_config:\n  headers:\n    Server: x\n", 3, "\"Server\" can not be configured"),
        ("not-bcrypt", "basic_auth_users:\n  prometheus: hunter2\n", 2, "not bcrypt"),
        ("bad-client-auth", VERSIONED + "  client_auth_type: Always\n", 4, "client_auth_type: unknown value"),
        ("ca-without-auth-type", VERSIONED + "  client_ca_file: ca.crt\n", 4, "client_ca_file needs a client_auth_type"),
        ("missing-key", "tls_server_config:\n  cert_file: server.crt\n", 1, "missing key_file"),
        ("missing-cert-file", "tls_server_config:\n  cert_file: nowhere.crt\n  key_file: server.key\n", 2,
         "nowhere.crt: No such file")]:
    config = web_config(name, text)
    node = NodeExporter(config)
    alive = node.running()
    rc = node.stop()
    t.ok(not alive and rc not in (0, None), f"{name}: node_exporter refuses the file (exit {rc})")
    rc, err = ours_refuses(config)
    t.ok(rc == 2 and f"{config}:{line}: " in err and why in err,
         f"{name}: procmem_exporter refuses it too, exit 2 and {config}:{line}: ...{why}... ({rc}, {err.strip()!r})")

# where they differ on purpose: node_exporter takes these files, procmem_exporter refuses them
for name, text, why in [
        ("min-above-max", VERSIONED + "  min_version: TLS13\n  max_version: TLS12\n", "min_version is above max_version"),
        ("verify-without-ca", VERSIONED + "  client_auth_type: RequireAndVerifyClientCert\n", "needs client_ca_file")]:
    config = web_config(name, text)
    node = NodeExporter(config)
    t.ok(node.running(), f"{name}: node_exporter starts with it")
    if name == "min-above-max":
        t.eq(request(node.port), ("handshake failed",), f"{name}: and then fails every handshake")
    node.stop()
    rc, err = ours_refuses(config)
    t.ok(rc == 2 and why in err, f"{name}: procmem_exporter refuses it at start ({rc}, {err.strip()!r})")

t.done()
