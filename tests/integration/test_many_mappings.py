#!/usr/bin/env python3
"""Huge processes: 60,000 mappings, near vm.max_map_count (65530 by default).

Three stopped memlayout helpers:
  - anon: one anonymous region of 60,000 pages, every other page PROT_NONE (60,000 mappings
    that cannot merge);
  - repeat: one 16 KiB file mapped 60,000 times (one path, 60,000 mappings: the top mapped
    files accumulator adds to one entry 60,000 times);
  - files: 20,000 different one-page files, one mapping each (20,000 entries).
The daemon reads them in full smaps mode. Every exported per-process figure must equal what
/proc of the same stopped process says (status, smaps_rollup, and the quadrants summed here from
smaps); the top mapped files must hold the repeated file with its 60,000 mappings' Pss and Rss
summed, and each of the 20,000 files once with its page. The daemon's peak resident memory
(VmHWM) must stay under half the size of one helper's smaps text: the file is streamed in
64 KiB chunks, never held whole.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livemem import (Helpers, compare_series, expected_series, exported_series,  # noqa: E402
                     kernel_view)
from procmem import Daemon, Test, parse, promtool_check, read_kb_fields, tempdir  # noqa: E402

t = Test("60,000 mappings: exact figures, bounded memory")

MAPPINGS, FILES = 60000, 20000
with open("/proc/sys/vm/max_map_count") as f:
    max_map_count = int(f.read())
if max_map_count < MAPPINGS + 100:
    t.fatal(f"vm.max_map_count is {max_map_count}: too low for {MAPPINGS} mappings")

d0 = tempdir()
repeat_file = os.path.join(d0, "repeated.bin")
with open(repeat_file, "wb") as f:
    f.write(b"\x5a" * 16384)
files_dir = os.path.join(d0, "files")
os.mkdir(files_dir)
for i in range(FILES):
    with open(os.path.join(files_dir, str(i)), "wb") as f:
        f.write(b"\x33" * 4096)

h = Helpers()
helpers = {
    "anon": h.start("anon", "--alternate-anon", str(MAPPINGS)),
    "repeat": h.start("repeat", "--file-repeat", f"{repeat_file}:{MAPPINGS}"),
    "files": h.start("files", "--many-files", f"{files_dir}:{FILES}"),
}
k = {n: kernel_view(p.pid) for n, p in helpers.items()}
for n, want in (("anon", MAPPINGS), ("repeat", MAPPINGS), ("files", FILES)):
    t.ok(len(k[n]["smaps"]) >= want, f"{n}: smaps lists {len(k[n]['smaps'])} mappings (>= {want})")
sizes = {}
for n, p in helpers.items():
    with open(f"/proc/{p.pid}/smaps", "rb") as f:
        sizes[n] = len(f.read())

with Daemon("--interval", "1h", "--smaps", "full", "--smaps-budget", "0", "--top", "0", "--detail-top", "0",
            "--include", h.include_regex(), "--mapping-top", str(FILES + 100)) as d:
    text = d.metrics_text()
    hwm = read_kb_fields(f"/proc/{d.pid}/status")["VmHWM"]
s = parse(text)
t.eq(promtool_check(text), (0, ""), "promtool check metrics: nothing to report")

for n, p in helpers.items():
    got, comms = exported_series(s, p.pid)
    compare_series(t, got, expected_series(k[n], "full"), f"{n} ({len(k[n]['smaps'])} mappings)")

mapped = {l["path"]: int(v) for n, l, v in s if n == "procmem_mapping_pss_bytes"}
mapped_rss = {l["path"]: int(v) for n, l, v in s if n == "procmem_mapping_resident_bytes"}
rep = [m for m in k["repeat"]["smaps"] if m["path"] == os.fsencode(repeat_file)]
t.eq(len(rep), MAPPINGS, "repeat: smaps shows the file in every one of its mappings")
t.eq(mapped.get(repeat_file), sum(m["fields"]["Pss"] for m in rep),
     "repeat: the file's PSS is its mappings' Pss summed")
t.eq(mapped_rss.get(repeat_file), MAPPINGS * 16384,
     "repeat: the file's resident is 16 KiB per mapping")
ours = {p: v for p, v in mapped_rss.items() if p.startswith(files_dir + "/")}
t.eq(len(ours), FILES, "files: each file is one entry of the top mapped files")
t.eq(set(ours.values()), {4096}, "files: each resident with its one page")
t.eq({v for p, v in mapped.items() if p.startswith(files_dir + "/")}, {4096},
     "files: each with its page as PSS (mapped by this process alone)")

print(f"daemon VmHWM {hwm // 1024} KiB; smaps text: "
      + ", ".join(f"{n} {v // 1024} KiB" for n, v in sizes.items()))
t.ok(hwm < sizes["anon"] // 2, f"daemon peak RSS {hwm // 1024} KiB < half of one helper's "
                               f"smaps ({sizes['anon'] // 2048} KiB): streamed, not buffered")
t.done()
