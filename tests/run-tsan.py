#!/usr/bin/env python3
"""run-tsan.py — the daemon under ThreadSanitizer, with concurrent scrapes and reloads.

build/tsan/procmem_exporter (make check-tsan builds it with gcc -fsanitize=thread) runs with
basic auth and a short interval, so that three threads share state at once: the collection
loop publishing a cycle every 200 ms and reloading the configuration on SIGHUP, libmicrohttpd's
serving thread reading publications and rendering their variants on demand, and the auth
verifier's worker checking passwords it has not seen verify. For SECONDS, scraper threads ask
for every variant and page with the right password, with wrong ones (each goes to the worker)
and with none, while SIGHUP arrives every quarter of a second
(each with --top changed); then SIGTERM, which must end the
daemon with status 0. Any ThreadSanitizer report in its output fails the run (TSAN_OPTIONS
exitcode=66 makes it fail the exit status too). libmicrohttpd, GnuTLS and glibc are not
instrumented: TSan sees their locks and thread starts, not their memory accesses.

Run from the repository root by `make check-tsan` (part of `make check`); a daemon on a free
127.0.0.1 port; leaves nothing behind.
"""
import base64
import os
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from procmem import bcrypt, http_get, parse, sample_value, tempdir, wait_listening  # noqa: E402

BIN = os.path.join(ROOT, "build", "tsan", "procmem_exporter")
SECONDS = float(os.environ.get("TSAN_SECONDS", "8"))
PASSWORD = "tsan right horse"


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def main():
    d = tempdir()
    users = os.path.join(d, "users")
    with open(users, "w") as f:
        f.write(f"prom:{bcrypt(PASSWORD)}\n")
    conf = os.path.join(d, "procmem.conf")

    def write_conf(top):
        with open(conf + ".new", "w") as f:
            f.write(f"interval = 200ms\nsmaps = rollup\ntop = {top}\nbasic_auth_file = {users}\n")
        os.rename(conf + ".new", conf)

    write_conf(20)
    logpath = os.path.join(d, "daemon.log")
    log = open(logpath, "w")
    env = dict(os.environ, TSAN_OPTIONS="exitcode=66:second_deadlock_stack=1")
    p = subprocess.Popen([BIN, "--config", conf, "--web.listen-address", "127.0.0.1:0"],
                         stdout=log, stderr=subprocess.STDOUT, env=env)
    failures = []
    try:
        addr = wait_listening(logpath, p, 60, step=0.1)
        if not addr:
            raise RuntimeError("the daemon under TSan did not get ready")
        right = basic("prom", PASSWORD)
        cycles_before = sample_value(parse(http_get(f"http://{addr}/metrics", right).text()),
                                     "procmem_collect_cycles_total")
        stop = threading.Event()
        answers = {}
        lock = threading.Lock()

        def scrape(requests):
            i = 0
            while not stop.is_set():
                path, headers, want = requests[i % len(requests)]
                i += 1
                try:
                    status = http_get(f"http://{addr}{path}", headers, timeout=30).status
                except OSError as e:
                    status = f"error {e}"
                with lock:
                    answers.setdefault((path, want), []).append(status)

        plain = [("/metrics", right, 200),
                 ("/metrics", dict(right, **{"Accept-Encoding": "gzip"}), 200),
                 ("/metrics", dict(right, Accept="application/openmetrics-text"), 200),
                 ("/metrics", dict(right, Accept="application/openmetrics-text", **{"Accept-Encoding": "gzip"}), 200),
                 ("/", right, 200), ("/top", right, 200), ("/-/healthy", right, 200)]
        wrong = [("/metrics", basic("prom", f"wrong {n}"), 401) for n in range(4)] + [("/metrics", None, 401)]
        threads = [threading.Thread(target=scrape, args=(r,)) for r in (plain, plain, plain[::-1], wrong)]
        for t in threads:
            t.start()
        reloads = 0
        end = time.monotonic() + SECONDS
        while time.monotonic() < end and p.poll() is None:
            write_conf(10 if reloads % 2 == 0 else 20)  # a reload that changes something
            os.kill(p.pid, signal.SIGHUP)
            reloads += 1
            time.sleep(0.25)
        stop.set()
        for t in threads:
            t.join()
        cycles_after = sample_value(parse(http_get(f"http://{addr}/metrics", right).text()),
                                    "procmem_collect_cycles_total")
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()
    with open(logpath, errors="replace") as f:
        text = f.read()

    total = sum(len(v) for v in answers.values())
    for (path, want), got in sorted(answers.items(), key=str):
        bad = [s for s in got if s != want and not (want == 401 and s == 429)]
        if bad:
            failures.append(f"{path} (want {want}) answered {sorted(set(map(str, bad)))}")
    if rc != 0:
        failures.append(f"the daemon exited {rc}")
    if "WARNING: ThreadSanitizer" in text or "ERROR: ThreadSanitizer" in text:
        failures.append("ThreadSanitizer reported (its report below)")
    if text.count("configuration reloaded") < 2:
        failures.append("fewer than two reloads logged")
    if cycles_after - cycles_before < 5:
        failures.append(f"only {cycles_after - cycles_before} cycles during the run")
    print(f"{'PASS' if not failures else 'FAIL'}  TSan daemon: {total} requests, {reloads} SIGHUPs "
          f"({text.count('configuration reloaded')} reloads logged), "
          f"{cycles_after - cycles_before} cycles in {SECONDS:g} s, exit {rc}")
    if failures:
        print("tsan: failed: " + "; ".join(failures))
        print("\n".join("    " + line for line in text.splitlines()[-150:]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
