#!/usr/bin/env python3
"""run-valgrind.py — memcheck over the unit tests, two --once runs and the daemon itself.

Every run is under `valgrind --error-exitcode=1 --leak-check=full
--errors-for-leak-kinds=definite,indirect`: any invalid read or write, use of an uninitialised
value, bad free, or block leaked (definitely, or indirectly through a leaked block) fails it.
"Still reachable" and "possibly lost" blocks are reported but do not fail a run. Still
reachable is memory a library keeps on purpose until exit: the ones seen are glibc's NSS modules
(libnss_systemd, dlopened by getpwuid_r for a uid that /etc/passwd does not know, as the fixture
tree's are) and their thread-local buffers; the daemon itself, libmicrohttpd included, frees
every block. "Possibly lost" is what valgrind says of interior pointers it cannot follow, not
evidence of a leak; none are seen today. No suppressions are used.

  1. every unit test program build/tests/test_* (cmocka);
  2. --once --smaps full --top 0 on the real /proc, and on the fixture trees tests/fixtures/proc,
     proc-containers and proc-forged;
  3. the daemon on 127.0.0.1: a few cycles, scrapes of every endpoint and variant (text,
     OpenMetrics, gzip, HEAD, 404, 405), a SIGHUP reload, more cycles, then SIGTERM, which
     must end it with status 0 and with every heap block freed.
Run from the repository root by `make check-valgrind` (part of `make check`).
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from procmem import BIN, FIXTURES, http_get, parse, sample_value, tempdir, wait_listening  # noqa: E402

VALGRIND = ["valgrind", "--error-exitcode=1", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"]
failures = []


def summary(log):
    """The interesting lines of a valgrind log."""
    keep = re.compile(r"(ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|"
                      r"still reachable|in use at exit|All heap blocks)")
    return [line.split("== ", 1)[-1] for line in log.splitlines() if keep.search(line)]


def check(name, rc, log):
    errs = re.search(r"ERROR SUMMARY: (\d+) errors", log)
    ok = rc == 0 and errs is not None and errs.group(1) == "0"
    print(f"{'PASS' if ok else 'FAIL'}  valgrind {name}" + ("" if ok else f" (exit {rc})"))
    for line in summary(log):
        print(f"      {line}")
    if not ok:
        failures.append(name)
        print("\n".join("    " + l for l in log.splitlines()[-80:]))


def run(name, args, cwd=ROOT):
    d = tempdir()
    logpath = os.path.join(d, "valgrind.log")
    p = subprocess.run(VALGRIND + [f"--log-file={logpath}"] + args, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    with open(logpath) as f:
        log = f.read()
    if p.returncode != 0:
        log += "\n--- stderr:\n" + p.stderr.decode(errors="replace")[-4000:]
    check(name, p.returncode, log)
    return p


def unit_tests():
    tests = sorted(t for t in glob.glob(os.path.join(ROOT, "build", "tests", "test_*"))
                   if os.access(t, os.X_OK) and not t.endswith(".log") and os.path.isfile(t))
    if not tests:
        failures.append("no unit test programs in build/tests (run make check-unit first)")
    for t in tests:
        run(os.path.relpath(t, ROOT), [t])


def once_runs():
    p = run("--once (real /proc, --smaps full, --top 0 --detail-top 0)", [BIN, "--once", "--smaps", "full", "--top", "0", "--detail-top", "0"])
    if p.returncode == 0 and not parse(p.stdout.decode()):
        failures.append("--once on /proc wrote no samples")
    p = run("--once (tests/fixtures/proc, --smaps full, --top 0 --detail-top 0)",
            [BIN, "--once", "--smaps", "full", "--top", "0", "--detail-top", "0", "--procfs", os.path.join(FIXTURES, "proc")])
    if p.returncode == 0 and sample_value(parse(p.stdout.decode()), "procmem_processes") is None:
        failures.append("--once on the fixtures wrote no procmem_processes")
    # every cgroup format, hostile names, the "other" rows, and a reference that refuses
    for tree, top in (("proc-containers", "3"), ("proc-forged", "0")):
        p = run(f"--once (tests/fixtures/{tree}, --cgroup-top {top})",
                [BIN, "--once", "--smaps", "full", "--top", "0", "--detail-top", "0", "--cgroup-top", top,
                 "--procfs", os.path.join(FIXTURES, tree)])
        if p.returncode == 0 and sample_value(parse(p.stdout.decode()), "procmem_cgroups") is None:
            failures.append(f"--once on {tree} wrote no procmem_cgroups")


def daemon():
    d = tempdir()
    logpath = os.path.join(d, "valgrind.log")
    errpath = os.path.join(d, "daemon.log")
    conf = os.path.join(d, "procmem.conf")
    with open(conf, "w") as f:
        f.write("interval = 1s\nsmaps = full\ntop = 0\n")
    err = open(errpath, "w")
    wrapper = subprocess.Popen(VALGRIND + [f"--log-file={logpath}", BIN, "--config", conf,
                                           "--web.listen-address", "127.0.0.1:0"],
                               cwd=ROOT, stdout=err, stderr=subprocess.STDOUT)
    pid = None
    try:
        addr = wait_listening(errpath, wrapper, 120, step=0.2)
        # Debian's valgrind is a shell script that runs valgrind.bin as its child: signals go to
        # the process valgrind names in its log
        with open(logpath) as f:
            m = re.search(r"^==(\d+)== Command:", f.read(), re.M)
        pid = int(m.group(1)) if m else wrapper.pid
        if not addr:
            raise RuntimeError("the daemon under valgrind did not get ready")

        def get(path, headers=None, method="GET"):
            return http_get(f"http://{addr}{path}", headers, method, timeout=60)

        def cycles():
            return sample_value(parse(get("/metrics").text()), "procmem_collect_cycles_total")

        statuses = []
        for path, headers, method in [
                ("/metrics", None, "GET"),
                ("/metrics", {"Accept-Encoding": "gzip"}, "GET"),
                ("/metrics", {"Accept": "application/openmetrics-text"}, "GET"),
                ("/metrics", {"Accept": "application/openmetrics-text", "Accept-Encoding": "gzip"}, "GET"),
                ("/metrics", None, "HEAD"),
                ("/", None, "GET"), ("/top", None, "GET"), ("/-/healthy", None, "GET"),
                ("/-/ready", None, "GET"), ("/nothing", None, "GET"), ("/metrics", None, "POST")]:
            statuses.append(get(path, headers, method).status)
        want = [200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 405]
        if statuses != want:
            failures.append(f"daemon under valgrind answered {statuses}, want {want}")
        n = cycles()
        deadline = time.monotonic() + 120
        while cycles() < n + 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        os.kill(pid, signal.SIGHUP)  # reload: config_load again, the old configuration freed
        n = cycles()
        while cycles() < n + 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        if cycles() < n + 2:
            failures.append("the daemon under valgrind stopped completing cycles")
        for _ in range(3):
            get("/metrics", {"Accept-Encoding": "gzip"})
        os.kill(pid, signal.SIGTERM)
        rc = wrapper.wait(timeout=120)
    finally:
        if wrapper.poll() is None:
            for p in (pid, wrapper.pid):
                if p:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            wrapper.wait()
        err.close()
    with open(logpath) as f:
        log = f.read()
    with open(errpath, errors="replace") as f:
        dlog = f.read()
    if "configuration reloaded" not in dlog:
        failures.append("the daemon under valgrind did not log the reload")
    check("daemon (cycles, scrapes, SIGHUP, SIGTERM)", rc, log + "\n--- daemon log:\n" + dlog[-3000:])
    if "All heap blocks were freed" not in log:
        print("      (not every block freed at exit: see the still reachable line above)")


def main():
    if not shutil.which("valgrind"):
        print("valgrind is not installed (tools/deps.sh test installs it)")
        return 1
    unit_tests()
    once_runs()
    daemon()
    if failures:
        print("valgrind: failed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
