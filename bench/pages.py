#!/usr/bin/env python3
"""bench/pages.py [N] [--no-render] — what the pages for people (/ and /top) cost.

1. Rendering: procmem_bench --render at 100, 1,000 and 5,000 loadgen processes (40 mappings
   each): CPU of page_render() for both pages beside expo_render() and gzip level 2, best of 7.
2. Serving (with N, after `make bench-build`): the real daemon on a free 127.0.0.1 port at N
   loadgen processes; `wrk -c1` on /metrics alone, while four connections each hammer / and
   /top, while the same hammer /-/healthy and /-/ready (the control: the cheapest endpoints),
   and alone again; medians of three 10 s runs. Needs wrk. Prints the load average, which
   matters: the serving thread is one, and the machine is shared."""
import json
import os
import re
import socket
import subprocess
import tempfile
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = ROOT + "/build"


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


def render_point(n, m=40):
    lg = subprocess.Popen([B + "/bench/loadgen", "-n", str(n), "-m", str(m)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    line = lg.stdout.readline()
    assert line.startswith("ready"), line
    lg.stdout.readline()
    try:
        out = subprocess.run([B + "/bench/procmem_bench", "--modes", "off", "--reps", "1", "--render",
                              "--render-reps", "7", "--tops", "100,0", "--no-floor"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        lg.stdin.close()
        lg.wait()
    d = json.loads(out)
    for r in d["render"]:
        print(f"N={n}x{m} top={r['top']:>3} procs={r['processes']:>5} "
              f"text {r['text']['bytes']:>9} B {r['text']['cpu_ns'] / 1e6:7.3f} ms | "
              f"openmetrics {r['openmetrics']['cpu_ns'] / 1e6:7.3f} ms | "
              f"gzip-2 {r['gzip'][1]['cpu_ns'] / 1e6:7.3f} ms | "
              f"page_html {r['page_html']['bytes']:>6} B {r['page_html']['cpu_ns'] / 1e6:6.3f} ms | "
              f"page_text {r['page_text']['bytes']:>5} B {r['page_text']['cpu_ns'] / 1e6:6.3f} ms")


def wrk(url, secs=10, conns=1, script=None):
    args = ["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency", url]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    conv = {"us": 1e-3, "ms": 1, "s": 1e3}
    return rps, float(p50.group(1)) * conv[p50.group(2)], float(p99.group(1)) * conv[p99.group(2)]


def daemon_point(n, m=40):
    lg = subprocess.Popen([B + "/bench/loadgen", "-n", str(n), "-m", str(m)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    assert lg.stdout.readline().startswith("ready")
    lg.stdout.readline()
    port = free_port()
    log = tempfile.TemporaryFile("w+")
    d = subprocess.Popen([B + "/procmem_exporter", "--web.listen-address", f"127.0.0.1:{port}", "--interval", "2",
                          "--top", "100"], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            log.seek(0)
            if "ready" in log.read():
                break
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        subprocess.run(["curl", "-s", "-o", "/dev/null", base + "/metrics"])
        alone = [wrk(base + "/metrics") for _ in range(3)]
        # now someone keeps the landing page and /top busy (4 connections each, as fast as they go)
        subprocess.run(["curl", "-s", "-o", "/dev/null", base + "/"])
        subprocess.run(["curl", "-s", "-o", "/dev/null", base + "/top"])
        def busy(paths):
            bg = [subprocess.Popen(["wrk", "-t1", "-c4", "-d40s", base + p], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True) for p in paths]
            time.sleep(1)
            r = [wrk(base + "/metrics") for _ in range(3)]
            outs = [b.communicate()[0] for b in bg]
            return r, [float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1)) for o in outs]
        together, page_rps = busy(("/", "/top"))
        control, health_rps = busy(("/-/healthy", "/-/ready"))
        alone2 = [wrk(base + "/metrics") for _ in range(3)]
    finally:
        d.terminate()
        d.wait()
        log.close()
        lg.stdin.close()
        lg.wait()

    def med(xs, i):
        return sorted(x[i] for x in xs)[1]
    for what, xs in (("/metrics alone", alone), ("/metrics with / and /top busy", together),
                     ("/metrics with /-/healthy, /-/ready busy", control), ("/metrics alone again", alone2)):
        print(f"N={n}x{m} {what:32s} req/s {med(xs, 0):8.0f}  p50 {med(xs, 1):6.3f} ms  p99 {med(xs, 2):6.3f} ms")
    print(f"N={n}x{m} meanwhile / and /top served {page_rps[0]:.0f} and {page_rps[1]:.0f} req/s; "
          f"/-/healthy and /-/ready {health_rps[0]:.0f} and {health_rps[1]:.0f} req/s")


print("load average at start", loadavg())
for n in ([] if "--no-render" in sys.argv else (100, 1000, 5000)):
    render_point(n)
args = [a for a in sys.argv[1:] if a != "--no-render"]
if args:
    daemon_point(int(args[0]))
print("load average at end", loadavg())
