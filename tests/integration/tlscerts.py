"""Throwaway keys and certificates for the TLS tests, made at test time with certtool (Debian
package gnutls-bin): a CA, certificates it signs for the server (127.0.0.1) or for clients, and
self-signed ones. ECDSA P-256 keys; valid for two days unless asked to have expired.

    from tlscerts import Certs
    c = Certs(tempdir())
    ca = c.ca("ca")
    server = c.signed("server", ca, "server")
    client = c.signed("client", ca, "client")
    print(server.cert, server.key)
"""
import os
import subprocess
from collections import namedtuple

Pair = namedtuple("Pair", "cert key")

_PURPOSES = {
    "server": "cn = 127.0.0.1\nip_address = 127.0.0.1\ntls_www_server\nsigning_key\nencryption_key\n",
    "client": "cn = scraper\ntls_www_client\nsigning_key\n",
    "ca": "cn = procmem test CA\nca\ncert_signing_key\n",
}


class Certs:
    def __init__(self, directory):
        self.dir = directory

    def _paths(self, name):
        return tuple(os.path.join(self.dir, f"{name}.{ext}") for ext in ("crt", "key", "tmpl"))

    def _template(self, path, purpose, expired):
        with open(path, "w") as f:
            f.write(_PURPOSES[purpose])
            if expired:  # valid for a day, two years ago
                f.write('activation_date = "2020-01-01 00:00:00"\nexpiration_date = "2020-01-02 00:00:00"\n')
            else:
                f.write("expiration_days = 2\n")

    def _key(self, key):
        subprocess.run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key],
                       check=True, capture_output=True)

    def self_signed(self, name, purpose):
        cert, key, tmpl = self._paths(name)
        self._template(tmpl, purpose, False)
        self._key(key)
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key, "--template", tmpl,
                        "--outfile", cert], check=True, capture_output=True)
        return Pair(cert, key)

    def ca(self, name):
        return self.self_signed(name, "ca")

    def signed(self, name, ca, purpose, expired=False):
        """A certificate for `purpose` ("server" or "client") signed by the CA pair `ca`."""
        cert, key, tmpl = self._paths(name)
        self._template(tmpl, purpose, expired)
        self._key(key)
        subprocess.run(["certtool", "--generate-certificate", "--load-privkey", key, "--load-ca-certificate", ca.cert,
                        "--load-ca-privkey", ca.key, "--template", tmpl, "--outfile", cert],
                       check=True, capture_output=True)
        return Pair(cert, key)
