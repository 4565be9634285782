#!/usr/bin/env python3
"""HTTPS with a throwaway self-signed certificate made here with certtool (gnutls-bin): curl
trusting that certificate scrapes /metrics over TLS, with basic auth on top too; curl not
trusting it is refused; plain HTTP to the TLS port gets no HTTP answer; TLS 1.1 is refused. A
missing certificate, a certificate that is not PEM, and a key that is not the certificate's
each stop the daemon at start with exit code 2 and a message naming the file."""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import BIN, Daemon, Test, bcrypt, parse, sample_value, skip, tempdir  # noqa: E402
from tlscerts import Certs  # noqa: E402

for tool in ("certtool", "curl"):
    if not shutil.which(tool):
        skip(f"{tool} is not installed (tools/deps.sh test installs it)")

t = Test("TLS: HTTPS scrape with a self-signed certificate; bad certificates refused at start")
d = tempdir()


def certificate(name):
    """A fresh ECDSA key and a self-signed certificate for 127.0.0.1: (cert path, key path)."""
    return Certs(d).self_signed(name, "server")


def curl(url, *args):
    """(exit code, HTTP status or 0, body)"""
    p = subprocess.run(["curl", "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}", *args, url],
                       capture_output=True)
    body, _, code = p.stdout.rpartition(b"\n")
    return p.returncode, int(code or 0), body


cert, key = certificate("server")
other_cert, other_key = certificate("other")

daemon = Daemon("--interval", "1h", "--smaps", "off", "--tls-cert", cert, "--tls-key", key)
url = f"https://{daemon.addr}/metrics"
t.ok("TLS" in daemon.log(), "the start-up line says TLS")

rc, code, body = curl(url, "--cacert", cert)
t.eq((rc, code), (0, 200), "curl trusting the certificate scrapes /metrics over HTTPS")
t.ok(sample_value(parse(body.decode()), "procmem_collect_cycles_total") == 1,
     "and gets the exposition (one cycle)")

rc, code, _ = curl(url)
t.ok(rc != 0 and code == 0, f"curl not trusting the certificate is refused (curl exit {rc})")

rc, code, _ = curl(url, "--cacert", other_cert)
t.ok(rc != 0 and code == 0, f"curl trusting another certificate is refused (curl exit {rc})")

rc, code, _ = curl(url, "--cacert", cert, "--tlsv1.0", "--tls-max", "1.1")
t.ok(rc != 0 and code == 0, f"TLS 1.0 and 1.1 are refused (curl exit {rc})")

host, port = daemon.addr.rsplit(":", 1)
with socket.create_connection((host, int(port)), timeout=30) as s:
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
t.ok(not got.startswith(b"HTTP/"), f"plain HTTP to the TLS port gets no HTTP answer ({got[:20]!r})")
t.ok(b"procmem_" not in got, "and no metrics")

rc, code, _ = curl(url, "--cacert", cert)
t.eq((rc, code), (0, 200), "after that, HTTPS still serves")
t.eq(daemon.stop(), 0, "the daemon stops cleanly")

# TLS and basic auth together: credentials travel inside TLS
users = os.path.join(d, "users")
with open(users, "w") as f:
    f.write(f"prom:{bcrypt('s3cret')}\n")
daemon = Daemon("--interval", "1h", "--smaps", "off", "--tls-cert", cert, "--tls-key", key,
                "--basic-auth-file", users)
url = f"https://{daemon.addr}/metrics"
t.eq(curl(url, "--cacert", cert)[1], 401, "TLS with basic auth: no credentials, 401")
t.eq(curl(url, "--cacert", cert, "-u", "prom:s3cret")[1], 200, "TLS with basic auth: right credentials, 200")
daemon.stop()

# bad certificates and keys: refused at start, exit 2, the file named
garbage = os.path.join(d, "garbage.pem")
with open(garbage, "w") as f:
    f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
cases = [
    ("a missing certificate", ["--tls-cert", os.path.join(d, "missing.pem"), "--tls-key", key],
     os.path.join(d, "missing.pem"), "No such file"),
    ("a missing key", ["--tls-cert", cert, "--tls-key", os.path.join(d, "nokey.pem")],
     os.path.join(d, "nokey.pem"), "No such file"),
    ("a certificate that is not PEM", ["--tls-cert", garbage, "--tls-key", key], garbage, "not a PEM certificate"),
    ("a key that is a certificate", ["--tls-cert", cert, "--tls-key", cert], cert, "private key"),
    ("a key that is not the certificate's", ["--tls-cert", cert, "--tls-key", other_key], other_key,
     "not the private key of the certificate"),
    ("a certificate without a key", ["--tls-cert", cert], "--tls-key", "--tls-key"),
]
for what, args, named, reason in cases:
    p = subprocess.run([BIN, "--web.listen-address", "127.0.0.1:0", "--interval", "1h", *args],
                       capture_output=True, text=True, timeout=60)
    t.eq(p.returncode, 2, f"{what}: exit code 2")
    t.ok(named in p.stderr and reason in p.stderr, f"{what}: the message names {named} and says {reason!r} "
         f"({p.stderr.strip()!r})")
    t.ok("listening" not in p.stderr, f"{what}: nothing was served")
t.done()
