#!/usr/bin/env python3
"""HTTP basic auth on the real daemon. The users file is written here with bcrypt hashes made
at test time by Python's crypt module (libxcrypt's crypt(3) with a fresh $2b$ salt; htpasswd
-nbB is used instead when Python has no crypt), never copied from the daemon's own output.

Right credentials open /metrics and / (a password may hold ':'); a wrong password, an unknown
user, no Authorization header, and malformed ones (another scheme, bad base64, no ':') all get
the same 401: same headers but Date, same WWW-Authenticate: Basic realm=..., same body. The
health endpoints want credentials too unless --web.health-open true, which opens them and
nothing else. Many wrong attempts at once get 401 or 429, and the daemon keeps serving."""
import base64
import http.client
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import ROOT, Daemon, Test, bcrypt, parse, sample_value, tempdir  # noqa: E402

t = Test("basic auth: right, wrong, unknown, missing and malformed credentials; health endpoints")
d = tempdir()
users = os.path.join(d, "users")
with open(users, "w") as f:
    f.write("# scrapers\n")
    f.write(f"prom:{bcrypt('right horse battery')}\n\n")
    f.write(f"ops:{bcrypt('pa:ss')}\r\n")  # a CRLF line and a ':' in the password

daemon = Daemon("--interval", "1h", "--smaps", "off", "--basic-auth-file", users)
HOST, PORT = daemon.addr.rsplit(":", 1)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def get(path, authorization=None, conn=None):
    """(status, headers without Date as a sorted list, body)"""
    c = conn or http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    try:
        c.request("GET", path, headers={"Authorization": authorization} if authorization else {})
        r = c.getresponse()
        body = r.read()
        return r.status, sorted((k.lower(), v) for k, v in r.getheaders() if k.lower() != "date"), body
    finally:
        if not conn:
            c.close()


status, _, body = get("/metrics", basic("prom", "right horse battery"))
t.eq(status, 200, "right credentials: /metrics answers 200")
t.eq(sample_value(parse(body.decode()), "procmem_collect_cycles_total"), 1, "with the exposition")
t.eq(get("/", basic("prom", "right horse battery"))[0], 200, "right credentials: / answers 200")
t.eq(get("/metrics", basic("ops", "pa:ss"))[0], 200, "a password with ':' (the first ':' splits) verifies")
# a second time comes from the verification cache, and a keep-alive connection keeps working
c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
t.eq([get("/metrics", basic("prom", "right horse battery"), c)[0] for _ in range(3)], [200] * 3,
     "three scrapes on one keep-alive connection answer 200")
c.close()

failures = {
    "no Authorization header": None,
    "a wrong password": basic("prom", "wrong horse battery"),
    "the right password with a prefix": basic("prom", "right horse batteryX"),
    "an empty password": basic("prom", ""),
    "an unknown user": basic("nobody", "right horse battery"),
    "another user's password": basic("ops", "right horse battery"),
    "a user name differing in case": basic("Prom", "right horse battery"),
    "another scheme": "Bearer " + base64.b64encode(b"prom:right horse battery").decode(),
    "bad base64": "Basic !!!notbase64!!!",
    "base64 without ':'": "Basic " + base64.b64encode(b"promright").decode(),
    "a scheme without credentials": "Basic",
    "truncated base64": "Basic " + base64.b64encode(b"prom:right horse battery").decode()[:-2],
}
answers = {}
for what, authz in failures.items():
    for path in ("/metrics", "/"):
        answers[(what, path)] = a = get(path, authz)
        t.eq(a[0], 401, f"{what}: {path} answers 401")
        t.ok(("www-authenticate", 'Basic realm="procmem_exporter", charset="UTF-8"') in a[1],
             f"{what}: {path} carries WWW-Authenticate: Basic realm=...")
        t.ok(b"procmem_" not in a[2], f"{what}: {path} shows no metrics")
reference = answers[("a wrong password", "/metrics")]
for k, a in answers.items():
    if a[1:] != reference[1:]:
        print(f"{k} differs from a wrong password: {a} vs {reference}")
t.ok(all(a[1:] == reference[1:] for a in answers.values()),
     "every failure gets the same headers (but Date) and the same body: nothing says which part was wrong")

for path in ("/-/healthy", "/-/ready"):
    t.eq(get(path)[0], 401, f"with web.health-open at its default, {path} wants credentials")
    t.eq(get(path, basic("prom", "right horse battery"))[0], 200, f"and answers 200 with them")

# many wrong attempts at once: each waits for a bcrypt on one thread; past 16 waiting, 429
results = []
lock = threading.Lock()


def attempt():
    try:
        s = get("/metrics", basic("prom", "guess"))[0]
    except OSError as e:
        s = str(e)
    with lock:
        results.append(s)


threads = [threading.Thread(target=attempt) for _ in range(40)]
for th in threads:
    th.start()
for th in threads:
    th.join(60)
t.ok(all(s in (401, 429) for s in results) and len(results) == 40,
     f"40 wrong attempts at once each get 401 or 429 ({sorted(set(map(str, results)))})")
t.eq(get("/metrics", basic("prom", "right horse battery"))[0], 200, "after them, right credentials still open /metrics")
t.eq(daemon.stop(), 0, "the daemon stops cleanly")

daemon = Daemon("--interval", "1h", "--smaps", "off", "--basic-auth-file", users, "--web.health-open", "true")
HOST, PORT = daemon.addr.rsplit(":", 1)
t.ok("health endpoints open" in daemon.log(), "the start-up line says the health endpoints are open")
for path in ("/-/healthy", "/-/ready"):
    t.eq(get(path)[0], 200, f"with --web.health-open true, {path} answers 200 without credentials")
t.eq(get("/metrics")[0], 401, "with --web.health-open true, /metrics still wants credentials")
t.eq(get("/")[0], 401, "with --web.health-open true, / still wants credentials")
t.eq(get("/metrics", basic("prom", "right horse battery"))[0], 200, "and right credentials open it")
daemon.stop()

# without auth, health-open changes nothing and everything is open
daemon = Daemon("--interval", "1h", "--smaps", "off")
HOST, PORT = daemon.addr.rsplit(":", 1)
t.eq(get("/metrics")[0], 200, "without --basic-auth-file, /metrics needs no credentials")
daemon.stop()
# what the documents quote is what the daemon sends (README, DESIGN.md, the man page)
sent = 'WWW-Authenticate: Basic realm="procmem_exporter", charset="UTF-8"'
for doc in ("README.md", "DESIGN.md", "man/procmem_exporter.8"):
    with open(os.path.join(ROOT, doc)) as f:
        text = " ".join(f.read().replace("\\(dq", '"').split())
    t.ok(sent in text, f"{doc} quotes the header as sent: {sent}")
t.done()
