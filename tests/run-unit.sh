#!/bin/sh
# run-unit.sh TEST... — runs cmocka test binaries; fails if any fails.
set -u
failed=0
for t in "$@"; do
	if "$t" >"$t.log" 2>&1; then
		printf 'PASS  %s (%s)\n' "$t" "$(grep -c '^\[       OK \]' "$t.log") tests"
	else
		printf 'FAIL  %s\n' "$t"
		cat "$t.log"
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ] || { echo "$failed unit test program(s) failed"; exit 1; }
