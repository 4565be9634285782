#!/usr/bin/env python3
"""Bad configuration, one fault at a time. At start: an unknown key, a bad number, a bad
duration, a bad size suffix, a bad regex, a bad boolean, an unreadable certificate, an
unreadable users file, users files that are malformed (no ':', a non-bcrypt hash, a user
twice, no users), and web configuration files that are (an unknown key, a certificate that is
not there, a header value exporter-toolkit refuses, YAML that does not parse, an unclosed quote,
a ${CREDENTIALS_DIRECTORY} in a path, which only the configuration file expands)
each make the daemon exit with code 2 before it serves, with a message that names the file, the
line and the reason. At SIGHUP: the same faults are logged as a failed reload and the daemon
keeps serving with the configuration it had; a good reload names what changed, and a changed
users file, gzip level or web configuration (another file, or new contents under the same name)
is logged as taking effect at the next restart. --web.config.file and a shorthand together are
refused. --check-config also resolves the listen address (exit 2 for a name that does not
resolve, where a start fails with 1); bcrypt hashes under cost 10, in a users file or a web
configuration file, are accepted with a warning naming the users."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import BIN, Daemon, Test, bcrypt, tempdir  # noqa: E402

t = Test("bad configuration: exit 2 with file:line and reason at start; kept config at SIGHUP")
d = tempdir()
conf = os.path.join(d, "procmem.conf")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


users = os.path.join(d, "users")
write(users, f"prom:{bcrypt('pw')}\n")
bad_users = {
    "no ':'": ("# users\nprom\n", 2, "expected user:bcrypt-hash"),
    "a hash that is not bcrypt": ("prom:$6$salt$abcdefghijklmnopqrstuvwxyz\n", 1, "is not bcrypt"),
    "a clear-text password": ("ops:secret\n", 1, "is not bcrypt"),
    "a user twice": (f"prom:{bcrypt('a')}\nops:{bcrypt('b')}\nprom:{bcrypt('c')}\n", 3, "appears twice"),
    "an empty user name": (f":{bcrypt('a')}\n", 1, "empty user name"),
}
GOOD = "interval = 1h\nsmaps = off\n"

# (what, config text, file named, line, reason)
cases = [
    ("an unknown key", GOOD + "no_such_key = 1\n", conf, 3, 'unknown key "no_such_key"'),
    ("a bad number", GOOD + "top = many\n", conf, 3, "is not a whole number"),
    ("a negative number", GOOD + "mapping_top = -5\n", conf, 3, "is not a whole number"),
    ("a bad duration", "interval = 5 parsecs\n", conf, 1, "is not a duration"),
    ("a bad size suffix", GOOD + "min_rss = 12Q\n", conf, 3, "is not a size"),
    ("a bad regex", GOOD + "include = (unclosed\n", conf, 3, "is not a regular expression (PCRE2 syntax"),
    ("a bad boolean", GOOD + "web_health_open = yes\n", conf, 3, "is not a boolean"),
    ("a bad gzip level", GOOD + "gzip_level = 11\n", conf, 3, "1 to 9"),
    ("an unreadable certificate", GOOD + f"tls_cert = {d}/missing.pem\ntls_key = {d}/missing.key\n", conf, 3,
     "cannot read"),
    ("an unreadable users file", GOOD + f"basic_auth_file = {d}/missing-users\n", conf, 3, "cannot read"),
]
for what, (text, line, reason) in bad_users.items():
    path = os.path.join(d, "users-" + what.replace(" ", "-").replace("'", ""))
    write(path, text)
    cases.append((f"a users file with {what}", GOOD + f"basic_auth_file = {path}\n", path, line, reason))
bad_web = {
    "an unknown key": ("tls_server_config:\n  cert_file: x.crt\n  keyfile: x.key\n", 3, 'unknown key "keyfile"'),
    "a certificate that is not there": ("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n", 2,
                                        f"{d}/missing.crt: No such file"),
    "a header value it refuses": ("http_server_config:\n  headers:\n    X-Frame-Options: allow\n", 3,
                                  'X-Frame-Options: invalid value "allow"'),
    "a list for a mapping": ("basic_auth_users: [\n", 1, "expected a mapping, found a list"),
    "an unclosed quote": ('\n\nbasic_auth_users:\n  prom: "$2y\n', 5, "which started on line 4"),
    "a variable in a path": ("tls_server_config:\n  cert_file: ${CREDENTIALS_DIRECTORY}/x.crt\n  key_file: x.key\n",
                             2, "nothing is expanded in a web configuration file: name a file beside it"),
}
for what, (text, line, reason) in bad_web.items():
    path = os.path.join(d, "web-" + what.replace(" ", "-") + ".yml")
    write(path, text)
    cases.append((f"a web configuration with {what}", GOOD + f"web_config_file = {path}\n", path, line, reason))
empty = os.path.join(d, "users-empty")
write(empty, "# nobody yet\n\n")
cases.append(("a users file with no users", GOOD + f"basic_auth_file = {empty}\n", empty, None, "no users"))

for what, text, named, line, reason in cases:
    write(conf, text)
    p = subprocess.run([BIN, "--config", conf, "--web.listen-address", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=60)
    where = f"{named}:{line}:" if line else f"{named}:"
    t.eq(p.returncode, 2, f"{what}: exit code 2")
    t.ok(where in p.stderr and reason in p.stderr,
         f"{what}: the message names {where} and says {reason!r} ({p.stderr.strip()!r})")
    t.ok("listening" not in p.stderr, f"{what}: nothing was served")
    c = subprocess.run([BIN, "--config", conf, "--check-config"], capture_output=True, text=True, timeout=60)
    t.eq(c.returncode, 2, f"{what}: --check-config exits 2 too")

# --check-config resolves the listen address; a start with it fails at runtime (exit 1, which
# systemd's Restart= retries: a name server may come up later), --check-config says 2
write(conf, GOOD + "web_listen_address = nowhere.invalid:9470\n")
c = subprocess.run([BIN, "--config", conf, "--check-config"], capture_output=True, text=True, timeout=60)
t.eq(c.returncode, 2, "--check-config with a listen address that does not resolve: exit 2")
t.ok('cannot resolve "nowhere.invalid"' in c.stderr and "configuration OK" not in c.stdout,
     f"and says which name ({c.stderr.strip()!r})")
p = subprocess.run([BIN, "--config", conf], capture_output=True, text=True, timeout=60)
t.eq(p.returncode, 1, "a start with it fails with exit 1, a runtime failure")
write(conf, GOOD + "web_listen_address = localhost:0\n")
c = subprocess.run([BIN, "--config", conf, "--check-config"], capture_output=True, text=True, timeout=60)
t.eq((c.returncode, c.stdout.strip()), (0, "procmem_exporter: configuration OK"), "localhost:0 resolves: OK")

# bcrypt under cost 10: accepted, with a warning naming the file, the weak users and their lines,
# from a users file and from a web configuration file alike
strong_hash = bcrypt("pw", cost=10)
weak_hash = bcrypt("pw")
weak = os.path.join(d, "users-weak")
for key, path, text, line in (
        ("basic_auth_file", weak, f"strong:{strong_hash}\nweak:{weak_hash}\n", 2),
        ("web_config_file", os.path.join(d, "web-weak.yml"),
         f"# users\nbasic_auth_users:\n  strong: {strong_hash}\n  weak: {weak_hash}\n", 4)):
    write(path, text)
    write(conf, GOOD + f"{key} = {path}\n")
    c = subprocess.run([BIN, "--config", conf, "--check-config"], capture_output=True, text=True, timeout=60)
    t.eq(c.returncode, 0, f"{key}: a cost-4 hash passes --check-config")
    t.ok(f'{path}: bcrypt cost under 10' in c.stderr and f'"weak" (cost 4, line {line})' in c.stderr
         and '"strong"' not in c.stderr, f"{key}: with a warning naming the weak user only ({c.stderr.strip()!r})")
write(weak, f"strong:{strong_hash}\n")
write(conf, GOOD + f"basic_auth_file = {weak}\n")
c = subprocess.run([BIN, "--config", conf, "--check-config"], capture_output=True, text=True, timeout=60)
t.eq((c.returncode, c.stderr), (0, ""), "cost 10: no warning")

# SIGHUP with each fault: logged, the running configuration kept, still serving
write(conf, GOOD + f"basic_auth_file = {users}\nweb_health_open = true\n")
daemon = Daemon("--config", conf)
reloads = 0


def reload_and_wait(expect):
    """Sends SIGHUP and waits for the log to grow a line with `expect`; returns the new log."""
    before = daemon.log()
    os.kill(daemon.pid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        new = daemon.log()[len(before):]
        if expect in new:
            return new
        time.sleep(0.05)
    return daemon.log()[len(before):]


for what, text, named, line, reason in cases:
    write(conf, text)
    new = reload_and_wait("reload failed")
    t.ok("reload failed, keeping the running configuration" in new and reason in new,
         f"at SIGHUP, {what}: logged as a failed reload with the reason ({new.strip()!r})")
    t.eq(daemon.get("/-/healthy").status, 200, f"after SIGHUP with {what}: still serving, health still open")
    t.eq(daemon.get("/metrics").status, 401, f"after SIGHUP with {what}: /metrics still wants credentials")
t.ok(daemon.proc.poll() is None, "the daemon survived every bad reload")

# a good reload names what changed; what waits for a restart is said apart
write(conf, GOOD.replace("interval = 1h", "interval = 2h") + f"basic_auth_file = {users}\nweb_health_open = true\n"
      "top = 7\n")
new = reload_and_wait("configuration reloaded")
t.ok("configuration reloaded: changed interval, smaps-budget, top" in new and "next restart" not in new,
     f"a reload names the options it changed ({new.strip()!r})")
new = reload_and_wait("configuration reloaded")
t.ok("configuration reloaded: nothing changed" in new, f"and says when nothing did ({new.strip()!r})")

# a good reload with another users file: the running server keeps its users, and says so
other = os.path.join(d, "users-other")
write(other, f"someone:{bcrypt('else')}\n")
write(conf, GOOD + f"basic_auth_file = {other}\nweb_health_open = true\ngzip_level = 5\n")
new = reload_and_wait("next restart")
t.ok("reload failed" not in new and "changes to basic-auth-file, gzip-level take effect at the next restart" in new
     and "changed interval, smaps-budget, top" in new,
     f"a reload with a new users file and gzip level says they take effect at the next restart ({new.strip()!r})")
t.ok('bcrypt cost under 10, cheap to guess: "someone" (cost 4, line 1)' in new, "and warns of the new file's weak hash")
new = reload_and_wait("next restart")
t.ok("changes to basic-auth-file, gzip-level take effect at the next restart" in new,
     f"said again at the next reload: the running daemon still has the old ones ({new.strip()!r})")
# the running users file itself rewritten: the contents are compared too
write(users, f"anyone:{bcrypt('else')}\n")
write(conf, GOOD + f"basic_auth_file = {users}\nweb_health_open = true\n")
new = reload_and_wait("next restart")
t.ok("configuration reloaded: nothing changed that applies now" in new
     and "changes to the users in basic-auth-file take effect at the next restart" in new,
     f"new users under the same file name are said too ({new.strip()!r})")
t.eq(daemon.stop(), 0, "the daemon stops cleanly")

# the same with a web configuration file: a change is checked, and applies at the next restart
web = os.path.join(d, "web.yml")
write(web, f"basic_auth_users:\n  prom: {bcrypt('pw')}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n")
write(conf, GOOD + f"web_config_file = {web}\nweb_health_open = true\n")
daemon = Daemon("--config", conf)
t.eq((daemon.get("/metrics").status, daemon.get("/metrics").headers.get("X-Frame-Options")), (401, "deny"),
     "a web configuration with users and a header: 401 without credentials, with the header")
t.ok(f'{web}: bcrypt cost under 10, cheap to guess: "prom" (cost 4, line 2)' in daemon.log(),
     f"a start warns of the web configuration's weak hash ({daemon.log().strip()!r})")
write(web, "basic_auth_users:\n  prom: hunter2\n")
new = reload_and_wait("reload failed")
t.ok(f"{web}:2: basic_auth_users: the hash of user \"prom\" is not bcrypt" in new and "hunter2" not in new,
     f"at SIGHUP, a web configuration with a clear-text password: refused with its line, the password not echoed "
     f"({new.strip()!r})")
write(web, f"http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\nbasic_auth_users:\n  other: {bcrypt('x')}\n")
new = reload_and_wait("next restart")
t.ok("reload failed" not in new and "configuration reloaded: nothing changed that applies now" in new
     and "changes to the contents of web.config.file or of the files it names take effect at the next restart" in new,
     f"a reload with new contents in the same web configuration file says they wait for a restart ({new.strip()!r})")
t.ok(f'{web}: bcrypt cost under 10, cheap to guess: "other" (cost 4, line 5)' in new,
     f"and warns of its weak hash, as for a users file ({new.strip()!r})")
r = daemon.get("/metrics")
t.eq((r.status, r.headers.get("X-Frame-Options")), (401, "deny"), "and the running server keeps what it started with")
# another web configuration file, then the shorthands: the option names are said
web2 = os.path.join(d, "web2.yml")
write(web2, "")
write(conf, GOOD + f"web_config_file = {web2}\nweb_health_open = true\n")
new = reload_and_wait("next restart")
t.ok("changes to web.config.file take effect at the next restart" in new,
     f"another web configuration file is named as waiting for a restart ({new.strip()!r})")
write(conf, GOOD + f"basic_auth_file = {users}\nweb_health_open = true\n")
new = reload_and_wait("next restart")
t.ok("changes to web.config.file, basic-auth-file take effect at the next restart" in new,
     f"and so is a switch from the file to a shorthand ({new.strip()!r})")
t.eq(daemon.stop(), 0, "the daemon stops cleanly")

# the file and a shorthand: one source for each setting
for flag in (["--basic-auth-file", users], ["--tls-cert", web, "--tls-key", web]):
    p = subprocess.run([BIN, "--web.config.file", web, *flag, "--check-config"], capture_output=True, text=True,
                       timeout=60)
    t.ok(p.returncode == 2 and f"--web.config.file and {flag[0]} do not go together" in p.stderr,
         f"--web.config.file with {flag[0]}: refused, exit 2 ({p.stderr.strip()!r})")
t.done()
