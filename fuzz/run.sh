#!/bin/sh
# run.sh [--smoke] SECONDS [NAME...] — runs the libFuzzer harnesses build/fuzz/fuzz_NAME, each
# for SECONDS, one after the other, niced (the machine is shared). Every run first replays the
# seed corpus fuzz/corpus/NAME and the regression inputs fuzz/regress/NAME (inputs that once
# crashed a harness), so a fixed bug that comes back fails at once.
#
# Without --smoke (make fuzz): the corpus grows in build/fuzz/corpus/NAME from run to run;
# crashes land in build/fuzz/artifacts/. With --smoke (make check): a fresh scratch corpus
# each time, so the run checks the harness and the regressions, not what earlier runs found.
# Prints executions per harness; exits 1 if any harness found something.
set -u
cd "$(dirname "$0")/.." || exit 1
smoke=
[ "${1:-}" = --smoke ] && { smoke=1; shift; }
secs=${1:?usage: fuzz/run.sh [--smoke] SECONDS [NAME...]}
shift
[ $# -gt 0 ] || set -- $(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_||; s|\.c$||')
mkdir -p build/fuzz/artifacts build/fuzz/logs
failed=
for name in "$@"; do
	bin=build/fuzz/fuzz_$name
	[ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz-build)"; failed="$failed $name"; continue; }
	if [ -n "$smoke" ]; then
		work=build/fuzz/smoke/$name
		rm -rf "$work"
	else
		work=build/fuzz/corpus/$name
	fi
	mkdir -p "$work"
	dirs="$work"
	for d in fuzz/corpus/$name fuzz/regress/$name; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	dict=
	[ -f fuzz/$name.dict ] && dict=-dict=fuzz/$name.dict
	log=build/fuzz/logs/$name.log
	# -rss_limit_mb: the parsers hold at most a path per mapping; 2 GiB means a leak or a bomb
	# shellcheck disable=SC2086
	nice -n 10 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/$name- $dict $dirs >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -n 1)
	if [ $rc = 0 ]; then
		printf 'PASS  fuzz_%s: %s executions in %ss, %s\n' "$name" "${execs:-?}" "$secs" "${cov:-cov: ?}"
	else
		printf 'FAIL  fuzz_%s (exit %s); its log:\n' "$name" "$rc"
		grep -av '^#\|^INFO\|^\s*$' "$log" | tail -n 40 | sed 's/^/    /'
		failed="$failed $name"
	fi
	[ -n "$smoke" ] && rm -rf "$work"
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed (inputs in build/fuzz/artifacts/)"; exit 1; }
exit 0
