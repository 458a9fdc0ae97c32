#!/usr/bin/env bash
# Issue 22: runs each misuse sample and its correct counterpart RUNS times (default 20) under
# `lockwatch run --format json`, each run under a timeout, and checks its verdict every time
# against the sample's row in samples/README.md (the rules of tests/integration/
# test_samples.c: at error level exactly the listed kinds, every listed warning present,
# exit status 66 when an error is listed, else 0).  Prints, per sample, how many runs got
# the verdict, and every run that did not (or hung).
#
# Usage: tools/misuse-runs.sh [RUNS [SAMPLE...]]   (default: 20 runs of every sample below;
# `make misuse-runs` runs it with 20, the test suite with 3: tests/integration/test_misuse_runs.c)
# Environment: LOCKWATCH_BUILD (default build), TIMEOUT (seconds per run, default 60).
# Exit status: 0 when every run of every sample got its verdict; 1 otherwise.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u -o pipefail
RUNS=${1:-20}
shift 2>/dev/null
TIMEOUT=${TIMEOUT:-60}
cd "$(dirname "$0")/.." || exit 1
BUILD=${LOCKWATCH_BUILD:-build}
LW=$BUILD/bin/lockwatch

# The misuse samples of issue 22, each beside its fix.
SAMPLES=(
	barrier_reinit barrier_reinit_fixed
	barrier_count_zero barrier_count_checked
	barrier_destroy_waited barrier_destroy_after_round
	sem_init_unchecked sem_init_checked
	free_locked_node free_unlocked_node
	mutex_reinit_locked mutex_reset_fixed
	cond_destroy_waited cond_destroy_signalled
	cond_two_mutexes cond_one_mutex
	exit_holding_lock exit_holding_lock_fixed
)
[ $# -gt 0 ] && SAMPLES=("$@")

for t in jq timeout; do
	command -v "$t" >/dev/null || { echo "misuse-runs.sh: $t is needed" >&2; exit 1; }
done
[ -x "$LW" ] || { echo "misuse-runs.sh: no $LW (run make first)" >&2; exit 1; }
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION
TMP=$(mktemp -d /tmp/lockwatch-misuse-runs-XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT

# verdict_of NAME: the Verdict column of NAME.c's row.
verdict_of() {
	awk -F'|' -v f="\`$1.c\`" '{ gsub(/^ +| +$/, "", $2) } $2 == f { v = $6; gsub(/^ +| +$/, "", v); print v; exit }' samples/README.md
}

fail=0
for s in "${SAMPLES[@]}"; do
	want=$(verdict_of "$s")
	[ -n "$want" ] || { echo "$s: no row in samples/README.md"; fail=1; continue; }
	[ -x "$BUILD/samples/$s" ] || { echo "$s: not built ($BUILD/samples/$s)"; fail=1; continue; }
	errors=() warnings=()
	if [ "$want" != clean ]; then
		IFS=',' read -ra items <<<"$want"
		for it in "${items[@]}"; do
			it=$(echo "$it" | sed 's/^ *//; s/ *$//')
			case $it in
			error:*) errors+=("$(echo "${it#error:}" | tr -d ' ')") ;;
			warning:*) warnings+=("$(echo "${it#warning:}" | tr -d ' ')") ;;
			esac
		done
	fi
	want_errors=$(printf '%s\n' "${errors[@]}" | sed '/^$/d' | sort -u | paste -sd, -)
	want_status=0
	[ -n "$want_errors" ] && want_status=66
	good=0
	for ((i = 1; i <= RUNS; i++)); do
		rm -rf "$TMP/traces" "$TMP/report.json"
		timeout -k 5 "$TIMEOUT" "$LW" run --format json -o "$TMP/report.json" \
			--trace-dir "$TMP/traces" -- "$BUILD/samples/$s" >/dev/null 2>"$TMP/err" </dev/null
		rc=$?
		why=
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			why="hung (killed after ${TIMEOUT}s)"
		elif ! jq -e .findings "$TMP/report.json" >/dev/null 2>&1; then
			why="no report (exit $rc)"
		else
			got_errors=$(jq -r '[.findings[] | select(.severity == "error") | .kind] | unique | join(",")' "$TMP/report.json")
			[ "$got_errors" = "$want_errors" ] || why="errors '$got_errors', not '$want_errors'"
			for w in "${warnings[@]}"; do
				jq -e --arg k "$w" '[.findings[] | select(.severity == "warning" and .kind == $k)] | length > 0' \
					"$TMP/report.json" >/dev/null || why="${why:+$why; }no warning: $w"
			done
			[ $rc -eq $want_status ] || why="${why:+$why; }exit $rc, not $want_status"
		fi
		if [ -z "$why" ]; then
			good=$((good + 1))
		else
			echo "  $s run $i: $why"
			fail=1
		fi
	done
	printf "%-26s %-36s %d/%d\n" "$s" "$want" "$good" "$RUNS"
done
exit $fail
