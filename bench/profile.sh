#!/bin/sh
# profile.sh N M MODE — where a collection cycle's time goes, on a load of N processes with M
# mappings each (bench/loadgen), in smaps mode MODE (off, rollup, full).
#
#   callgrind: user-space instructions of collector_cycle() only (valgrind counts are
#              repeatable: this is the figure to compare before and after a change);
#   perf:      where the CPU time goes, kernel included (cpu-clock sampling; hardware counters
#              are not available in every VM), if perf works here.
#
# Outputs go to build/bench/profile/. The load is stopped (by pid) at exit, also on failure.
# Run `make bench-build` first.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 N M off|rollup|full" >&2; exit 2; }
n=$1 m=$2 mode=$3
cd "$(dirname "$0")/.."
out=build/bench/profile
mkdir -p "$out"
tag=$mode-${n}x$m

fifo=$(mktemp -u)
mkfifo "$fifo"
build/bench/loadgen -n "$n" -m "$m" <"$fifo" >"$out/loadgen.out" &
lg=$!
exec 3>"$fifo" # loadgen runs until this end is closed
rm -f "$fifo"
cleanup() {
	exec 3>&-
	kill "$lg" 2>/dev/null || true
	wait "$lg" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
while ! grep -q '^ready' "$out/loadgen.out"; do
	kill -0 "$lg" 2>/dev/null || { echo "loadgen failed" >&2; exit 1; }
	sleep 0.2
done

# one warm-up cycle and one measured cycle, both inside the toggle: figures are per 2 cycles
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$tag" --toggle-collect=collector_cycle \
	build/bench/procmem_bench --modes "$mode" --reps 1 --no-floor >/dev/null 2>"$out/callgrind.$tag.log"
total=$(sed -n 's/^summary: //p' "$out/callgrind.$tag")
echo "callgrind, $tag: $((total / 2)) instructions per cycle in user space"
callgrind_annotate "$out/callgrind.$tag" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,22p'

if perf stat -e cpu-clock true >/dev/null 2>&1; then
	perf record -q -e cpu-clock -o "$out/perf.$tag.data" \
		build/bench/procmem_bench --modes "$mode" --reps 5 --no-floor >/dev/null 2>&1
	echo "perf, $tag: share of CPU time by object"
	perf report -q -i "$out/perf.$tag.data" --sort dso 2>/dev/null | head -6
	echo "perf, $tag: top symbols"
	perf report -q -i "$out/perf.$tag.data" --sort dso,symbol 2>/dev/null | head -25
fi
