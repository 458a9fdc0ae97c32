#!/bin/sh
# Runs every Criterion test binary given on the command line, from the repository root, and
# ends with one "N passed, N failed" line.  Exits non-zero when any test failed.
passed=0
failed=0
status=0
for t in "$@"; do
	echo "== $t"
	out=$(mktemp)
	"$t" --jobs 2 >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep 'Synthesis:' "$out" | tail -n 1)
	rm -f "$out"
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	nf=$(( ${f:-0} + ${c:-0} ))
	if [ -z "$line" ] || [ "$rc" -ne 0 ]; then
		[ "$nf" -eq 0 ] && nf=1
		status=1
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + nf))
done
echo "$passed passed, $failed failed"
exit $status
