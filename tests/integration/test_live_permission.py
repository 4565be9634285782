#!/usr/bin/env python3
"""Live: the daemon run as an unprivileged user reads processes it may not ptrace. Their
smaps_rollup and smaps answer EACCES and their exe link cannot be read: each such process is
counted as a permission error, keeps every figure status gave (equal to the kernel's), and has
no pss, uss or quadrants and an empty exe label; an aggregate whose processes all refused
smaps has no pss. The daemon says so once, at warning, with what it cannot read and what would fix
it: in --once and in the daemon over many cycles.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import Helpers, expected_series, exported_series, kernel_view  # noqa: E402
from procmem import BIN, Test, parse, require_root, sample_value, spawn, tempdir  # noqa: E402

require_root("to run the daemon as another user than the processes it reads")
t = Test("live permission: EACCES on smaps keeps the status figures and is counted")

h = Helpers()
helpers = {
    "perm1": h.start("perm1", "--shared-anon", "4"),
    "perm2": h.start("perm2", "--private-anon", "8:8"),
}
k = {n: kernel_view(p.pid) for n, p in helpers.items()}

NOBODY = 65534
p = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                    BIN, "--once", "--smaps", "full", "--top", "0", "--detail-top", "0", "--smaps-budget", "0",
                    "--include", h.include_regex()], capture_output=True, timeout=300)
t.eq(p.returncode, 0, f"--once as uid {NOBODY} succeeds ({p.stderr.decode(errors='replace').strip()})")
s = parse(p.stdout.decode("utf-8"))

for n, proc in helpers.items():
    got, _ = exported_series(s, proc.pid)
    want = expected_series(k[n], "off")  # what status, stat and cgroup give; no smaps
    info = [key for key in want if key[0] == "procmem_process_info"][0]
    labels = dict(info[1])
    labels["exe"] = ""  # readlink of /proc/PID/exe needs ptrace access too
    want[(info[0], tuple(sorted(labels.items())))] = want.pop(info)
    for key in sorted(want):
        t.eq(got.get(key), want[key], f"{n}: {key[0]} as status gives it")
    t.eq(sorted(set(got) - set(want)), [], f"{n}: no pss, uss, pss by kind or quadrants")

t.ok(sample_value(s, "procmem_collect_errors_total", reason="permission") >= len(helpers),
     "the refused smaps reads are counted as permission errors")
t.eq(sample_value(s, "procmem_collect_errors_total", reason="parse"), 0, "and nothing as a parse error")
# every root process refuses an unprivileged reader: root's aggregate has no pss, but has the rest
t.ok(sample_value(s, "procmem_user_resident_bytes", user="root") is not None,
     "procmem_user_resident_bytes{user=root} is there")
t.eq(sample_value(s, "procmem_user_pss_bytes", user="root"), None,
     "procmem_user_pss_bytes{user=root} is absent: no root process's smaps was readable")

# the warning: what it cannot read, why, and what would fix it; once
WARNING = "permission denied reading the smaps, smaps_rollup and exe link of "
err = p.stderr.decode(errors="replace")
t.eq(err.count(WARNING), 1, f"--once as uid {NOBODY}: one warning ({err.strip()!r})")
t.ok(f"as uid {NOBODY} without CAP_SYS_PTRACE" in err and "Run it as root or with CAP_SYS_PTRACE" in err,
     "it names the uid, the missing capability and the fix")
logdir = tempdir()
os.chmod(logdir, 0o755)
log = os.path.join(logdir, "daemon.log")
with open(log, "w") as f:
    d = spawn(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", BIN,
               "--web.listen-address", "127.0.0.1:0", "--interval", "0.2"], stdout=f, stderr=subprocess.STDOUT)
deadline = time.monotonic() + 60
text = ""
while time.monotonic() < deadline and text.count("ready") == 0:
    time.sleep(0.1)
    text = open(log, errors="replace").read()
time.sleep(2)  # ten more cycles, each refused the same
d.terminate()
d.wait(timeout=30)
text = open(log, errors="replace").read()
t.ok("ready" in text, "the daemon as nobody ran")
t.eq(text.count(WARNING), 1, f"the daemon warns once over many cycles ({text.strip()[-600:]!r})")
t.ok("warning: " + WARNING in text, "at priority warning")
t.done()
