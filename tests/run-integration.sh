#!/bin/sh
# run-integration.sh [TEST...] — runs the integration tests (tests/integration/test_*), each
# with a time limit. A test exits 0 to pass, 77 to skip (saying why on its last line), anything
# else to fail. Skips are reported as skips, never as passes.
set -u
cd "$(dirname "$0")/.." || exit 1
limit=${TEST_TIMEOUT:-600}
[ $# -gt 0 ] || set -- tests/integration/test_*
pass=0 fail=0 skip=0 failed= skipped=
mkdir -p build/test-logs
for t in "$@"; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log=build/test-logs/$name.log
	start=$(date +%s)
	timeout -k 10 "$limit" "$t" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS  %s (%ss)\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); skipped="$skipped $name"
	    printf 'SKIP  %s: %s\n' "$name" "$(tail -n 1 "$log")" ;;
	*) fail=$((fail + 1)); failed="$failed $name"
	   [ $rc = 124 ] && echo "(timed out after ${limit}s)" >>"$log"
	   printf 'FAIL  %s (exit %s, %ss); its log:\n' "$name" "$rc" "$secs"
	   sed 's/^/    /' "$log" | tail -n 60 ;;
	esac
done
printf 'integration: %d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ -z "$skipped" ] || printf 'skipped:%s\n' "$skipped"
[ "$fail" = 0 ] || { printf 'failed:%s\n' "$failed"; exit 1; }
