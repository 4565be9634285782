#!/bin/sh
# run-unit.sh TEST... — runs cmocka test binaries; fails if any fails.
set -u
failed=0
for t in "$@"; do
	if "$t" >"$t.log" 2>&1; then
		# cmocka's summary line "[  SKIPPED ] N test(s), listed below:"; a skip is not a pass
		skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$t.log")
		printf 'PASS  %s (%s%s)\n' "$t" "$(grep -c '^\[       OK \]' "$t.log") tests" \
			"${skipped:+, $skipped SKIPPED: see $t.log}"
	else
		printf 'FAIL  %s\n' "$t"
		cat "$t.log"
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ] || { echo "$failed unit test program(s) failed"; exit 1; }
