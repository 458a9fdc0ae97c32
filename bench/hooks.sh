#!/usr/bin/env bash
# Hook mode against native and ThreadSanitizer: wall time and peak RSS of each bench program
# built three ways with clang -O2 -g:
#   native  plain;
#   hooks   `lockwatch cc` (load/store hooks), run under liblockwatch.so (`lockwatch run`'s
#           preload, full level, trace written to a temporary directory);
#   stub    the same binary without the shim (the no-op hooks of liblockwatch-hooks.so);
#   full    the native binary under the shim at the full level (what hook mode forces on:
#           every synchronisation in the trace), to tell the hooks' cost from the level's;
#   tsan    -fsanitize=thread;
#   base    with BASE set: the hooks binary under BASE/lib/liblockwatch.so, the shim of another
#           build of lockwatch (a git worktree of an earlier commit, say), to measure a change
#           in the same interleaved runs as everything else.
# Runs are interleaved, REPS of each (default 3); prints the median time and RSS, and each
# as a ratio to native's median.  Every run's checksum line must match native's.
#
# Environment: REPS, SCALE (divides the iteration counts of bench/run.sh's PROGRAMS; default
# 1), BENCH_PROGRAMS (default: all), SKIP (modes to leave out, e.g. "tsan"), BASE (a build
# directory, as above).
# Exit status: 0, or 1 when a build or a run failed.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u -o pipefail

REPS=${REPS:-3}
SCALE=${SCALE:-1}
SKIP=${SKIP:-}
BASE=${BASE:-}
PROGRAMS=(
	"uncontended 10000000"
	"lockheavy   1000000"
	"threads     20000"
	"manylocks   50"
	"condvar     50000"
	"sem         50000"
	"compute     60000"
	"handoff     20000"
)
BENCH_PROGRAMS=${BENCH_PROGRAMS:-uncontended lockheavy threads manylocks condvar sem compute handoff}

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
SHIM=$ROOT/build/lib/liblockwatch.so
LOCKWATCH=$ROOT/build/bin/lockwatch
[ -f "$SHIM" ] && [ -x "$LOCKWATCH" ] || { echo "hooks.sh: run make first" >&2; exit 1; }
command -v clang >/dev/null || { echo "hooks.sh: clang is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "hooks.sh: /usr/bin/time is needed" >&2; exit 1; }
[ -z "$BASE" ] || [ -f "$BASE/lib/liblockwatch.so" ] ||
	{ echo "hooks.sh: $BASE/lib/liblockwatch.so not found" >&2; exit 1; }
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION TSAN_OPTIONS

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lockwatch-hooks.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
skipped() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }

# run MODE BIN ARGS...: appends "seconds rss_kb" to $TMP/MODE and the checksum to $TMP/MODE.out
run() {
	local mode=$1 bin=$2
	shift 2
	local env=()
	case $mode in
	hooks) rm -rf "$TMP/traces"; mkdir -p "$TMP/traces"
	       env=(LD_PRELOAD="$SHIM" LOCKWATCH_OPTIONS="trace_dir=$TMP/traces") ;;
	full) rm -rf "$TMP/traces"; mkdir -p "$TMP/traces"
	      env=(LD_PRELOAD="$SHIM" LOCKWATCH_OPTIONS="trace_dir=$TMP/traces:level=full") ;;
	base) rm -rf "$TMP/traces"; mkdir -p "$TMP/traces"
	      env=(LD_PRELOAD="$BASE/lib/liblockwatch.so" LOCKWATCH_OPTIONS="trace_dir=$TMP/traces") ;;
	tsan) env=(TSAN_OPTIONS=report_signal_unsafe=0) ;;
	esac
	if ! env "${env[@]}" /usr/bin/time -f "%e %M" -o "$TMP/time" "$bin" "$@" >"$TMP/out" 2>"$TMP/err"; then
		echo "hooks.sh: $mode $bin failed:" >&2
		cat "$TMP/err" >&2
		return 1
	fi
	cat "$TMP/time" >>"$TMP/res.$mode"
	cat "$TMP/out" >"$TMP/res.$mode.out"
}

fail=0
printf "%-12s %-6s %9s %7s %9s %7s\n" program mode seconds x-native rss-KiB x-native
for entry in "${PROGRAMS[@]}"; do
	set -- $entry
	name=$1 n=$(($2 / SCALE))
	case " $BENCH_PROGRAMS " in *" $name "*) ;; *) continue ;; esac
	src=bench/$name.c
	clang -O2 -g -pthread -o "$TMP/bin.native" "$src" || { fail=1; continue; }
	"$LOCKWATCH" cc -O2 -pthread -o "$TMP/bin.hooked" "$src" || { fail=1; continue; }
	modes="native hooks stub full"
	[ -z "$BASE" ] || modes="$modes base"
	if ! skipped tsan && clang -O2 -g -fsanitize=thread -pthread -o "$TMP/bin.tsan" "$src"; then
		modes="$modes tsan"
	fi
	rm -f "$TMP"/res.*
	for ((r = 0; r < REPS; r++)); do
		for m in $modes; do
			case $m in native | full) b=$TMP/bin.native ;; hooks | stub | base) b=$TMP/bin.hooked ;;
			tsan) b=$TMP/bin.tsan ;; esac
			run "$m" "$b" "$n" || fail=1
		done
	done
	nt=$(awk '{print $1}' "$TMP/res.native" | median)
	nr=$(awk '{print $2}' "$TMP/res.native" | median)
	for m in $modes; do
		[ -s "$TMP/res.$m" ] || continue
		if [ "$m" != native ] && ! cmp -s "$TMP/res.$m.out" "$TMP/res.native.out"; then
			echo "hooks.sh: $name: $m printed a different checksum" >&2
			fail=1
		fi
		t=$(awk '{print $1}' "$TMP/res.$m" | median)
		k=$(awk '{print $2}' "$TMP/res.$m" | median)
		printf "%-12s %-6s %9.2f %7.2f %9d %7.2f\n" "$name" "$m" "$t" \
			"$(awk -v a="$t" -v b="$nt" 'BEGIN { print (b > 0) ? a / b : 0 }')" "$k" \
			"$(awk -v a="$k" -v b="$nr" 'BEGIN { print (b > 0) ? a / b : 0 }')"
	done
done
exit $fail
