#!/usr/bin/env bash
# Measures lockwatch's slowdown and trace size on the bench programs, beside TSan and Helgrind.
#
# Run from anywhere after `make` (it works from the repository root).  For each program in
# BENCH_PROGRAMS it runs the program natively and under lockwatch's default recording level
# (LD_PRELOAD=build/lib/liblockwatch.so, LOCKWATCH_OPTIONS=trace_dir=<temp dir>), interleaved
# (native, lockwatch, native, lockwatch, ...) REPS times each, and prints the median wall
# times, their ratio and the trace size.  Then it runs lockwatch at two iteration counts to
# show that the trace does not grow with run length.  When clang is installed it adds a
# ThreadSanitizer build of the same program (clang -fsanitize=thread -O2); when valgrind is
# installed it adds Helgrind at a reduced iteration count, normalised against native at that
# same count.  Every run's checksum line must match the native one.
#
# Environment: REPS (default 5), ITERATIONS (default 1000000), SMALL_ITERATIONS (default
# 100000: Helgrind and the second trace-size point), THREADS (default 2), MUTEXES (default
# 16), BENCH_PROGRAMS (default "lockheavy"; each takes [iterations] [threads] [mutexes]),
# LOCKWATCH_SHIM (default build/lib/liblockwatch.so).
#
# Exit status: 0 when every run succeeded, 1 on any failure (missing build, a run that
# failed or printed a different checksum, no trace written), 2 on a bad setting.
#
# The Makefile runs this as `sh bench/run.sh`; it needs bash, so it re-executes itself.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u -o pipefail

REPS=${REPS:-5}
ITERATIONS=${ITERATIONS:-1000000}
SMALL_ITERATIONS=${SMALL_ITERATIONS:-100000}
THREADS=${THREADS:-2}
MUTEXES=${MUTEXES:-16}
BENCH_PROGRAMS=${BENCH_PROGRAMS:-lockheavy}

die() {
	echo "bench: $*" >&2
	exit 1
}

for v in REPS ITERATIONS SMALL_ITERATIONS THREADS MUTEXES; do
	case ${!v} in
	'' | *[!0-9]* | 0) echo "bench: $v must be a positive integer, not '${!v}'" >&2; exit 2 ;;
	esac
done

cd "$(dirname "$0")/.." || die "cannot cd to the repository root"
ROOT=$PWD
SHIM=${LOCKWATCH_SHIM:-$ROOT/build/lib/liblockwatch.so}
LOCKWATCH=$ROOT/build/bin/lockwatch
[ -f "$SHIM" ] || die "$SHIM is missing: run make first"

# Whatever the caller had must not leak into the native runs.
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lockwatch-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HAVE_TIME=0
[ -x /usr/bin/time ] && HAVE_TIME=1
HAVE_TSAN=0
command -v clang >/dev/null 2>&1 && HAVE_TSAN=1
HAVE_HELGRIND=0
command -v valgrind >/dev/null 2>&1 && HAVE_HELGRIND=1

# Current time in nanoseconds: bash's EPOCHREALTIME needs no fork; date +%s%N otherwise.
now_ns() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		local t=${EPOCHREALTIME/[.,]/}
		echo $((10#$t * 1000))
	else
		date +%s%N
	fi
}

# run_timed TAG CMD...: runs CMD once with its output in $TMP/TAG.out and .err; sets
# LAST_S (wall seconds), LAST_KB (peak RSS in KiB, or "-") and LAST_SUM (checksum line).
# Fails the script when CMD fails.  /usr/bin/time, when present, wraps `env CMD` so that an
# LD_PRELOAD given through env reaches CMD and not /usr/bin/time itself.
run_timed() {
	local tag=$1 t0 t1 rc
	shift
	t0=$(now_ns)
	if [ "$HAVE_TIME" = 1 ]; then
		/usr/bin/time -f '%M' -o "$TMP/$tag.rss" env "$@" >"$TMP/$tag.out" 2>"$TMP/$tag.err"
	else
		env "$@" >"$TMP/$tag.out" 2>"$TMP/$tag.err"
	fi
	rc=$?
	t1=$(now_ns)
	if [ "$rc" != 0 ]; then
		echo "bench: '$*' exited with status $rc; its stderr:" >&2
		sed 's/^/  /' "$TMP/$tag.err" >&2
		exit 1
	fi
	LAST_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
	LAST_KB=-
	[ "$HAVE_TIME" = 1 ] && LAST_KB=$(tail -n 1 "$TMP/$tag.rss")
	LAST_SUM=$(grep -m1 'checksum=' "$TMP/$tag.out") || die "'$*' printed no checksum line"
}

# median N...: the median of its arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) printf "%.4f", v[(NR + 1) / 2];
		      else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
}

# trace_bytes DIR: prints "<used> <file>" summed over DIR/*.trace.  "used" is the header's
# end_offset (bytes 48..55) when the trace was closed (flag LW_HDR_CLOSED, bytes 44..47),
# else the file size; "file" is the size on disk, which may include space the shim mapped
# ahead.  Fails when DIR holds no trace.
trace_bytes() {
	local dir=$1 f used=0 file=0 n=0 size flags end
	for f in "$dir"/*.trace; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		size=$(stat -c %s "$f")
		flags=$(od -An -t u4 -j 44 -N 4 "$f" | tr -d ' ')
		end=$(od -An -t u8 -j 48 -N 8 "$f" | tr -d ' ')
		file=$((file + size))
		if [ $((${flags:-0} & 1)) = 1 ] && [ "${end:-0}" -gt 0 ]; then
			used=$((used + end))
		else
			used=$((used + size))
		fi
	done
	[ "$n" -gt 0 ] || die "no trace written in $dir (is the shim working?)"
	echo "$used $file"
}

# lockwatch_run TAG DIR CMD...: run_timed under the shim, traces in a fresh DIR.
lockwatch_run() {
	local tag=$1 dir=$2
	shift 2
	rm -rf "$dir" && mkdir -p "$dir"
	run_timed "$tag" LD_PRELOAD="$SHIM" LOCKWATCH_OPTIONS="trace_dir=$dir" "$@"
}

echo "lockwatch benchmark: $REPS interleaved runs each, median wall time," \
	"$THREADS threads, $MUTEXES mutexes"
echo "lockwatch level: dependencies (default); shim: ${SHIM#"$ROOT"/}"
[ "$HAVE_TSAN" = 1 ] && echo "tsan: clang -fsanitize=thread -O2, same source, same iterations"
[ "$HAVE_TSAN" = 0 ] && echo "tsan: skipped (no clang)"
[ "$HAVE_HELGRIND" = 1 ] && echo "helgrind: valgrind --tool=helgrind at $SMALL_ITERATIONS" \
	"iterations, ratio against native at $SMALL_ITERATIONS"
[ "$HAVE_HELGRIND" = 0 ] && echo "helgrind: skipped (no valgrind)"
[ "$HAVE_TIME" = 0 ] && echo "peak RSS: not measured (no /usr/bin/time)"
echo

main_rows=()
small_rows=()
size_rows=()
report_rows=()

for prog in $BENCH_PROGRAMS; do
	bin=$ROOT/build/bench/$prog
	[ -x "$bin" ] || die "$bin is missing: run make first"
	args=("$ITERATIONS" "$THREADS" "$MUTEXES")
	small=("$SMALL_ITERATIONS" "$THREADS" "$MUTEXES")

	if [ "$HAVE_TSAN" = 1 ]; then
		tsan_bin=$TMP/$prog.tsan
		clang -fsanitize=thread -O2 -g -pthread -o "$tsan_bin" "bench/$prog.c" \
			2>"$TMP/clang.err" || { cat "$TMP/clang.err" >&2; die "clang -fsanitize=thread failed"; }
	fi

	# Large count: native, lockwatch (and tsan), interleaved.
	nat=() lw=() ts=() nat_kb=() lw_kb=()
	for ((r = 1; r <= REPS; r++)); do
		run_timed native "$bin" "${args[@]}"
		nat+=("$LAST_S") nat_kb+=("$LAST_KB")
		want=$LAST_SUM
		lockwatch_run lockwatch "$TMP/traces-$prog" "$bin" "${args[@]}"
		lw+=("$LAST_S") lw_kb+=("$LAST_KB")
		[ "$LAST_SUM" = "$want" ] || die "$prog under lockwatch printed '$LAST_SUM', native '$want'"
		if [ "$HAVE_TSAN" = 1 ]; then
			run_timed tsan "$tsan_bin" "${args[@]}"
			ts+=("$LAST_S")
			[ "$LAST_SUM" = "$want" ] || die "$prog under tsan printed '$LAST_SUM', native '$want'"
		fi
	done
	read -r big_used big_file < <(trace_bytes "$TMP/traces-$prog") || exit 1
	[ -n "${big_used:-}" ] || exit 1
	n_med=$(median "${nat[@]}")
	l_med=$(median "${lw[@]}")
	row="$prog $ITERATIONS $n_med $l_med $(ratio "$l_med" "$n_med") $big_used"
	if [ "$HAVE_TIME" = 1 ]; then
		row+=" $(median "${nat_kb[@]}" | cut -d. -f1) $(median "${lw_kb[@]}" | cut -d. -f1)"
	fi
	if [ "$HAVE_TSAN" = 1 ]; then
		t_med=$(median "${ts[@]}")
		row+=" $t_med $(ratio "$t_med" "$n_med")"
	fi
	main_rows+=("$row")

	# What the analyzer makes of it: a consistent lock order must give no error.
	if [ -x "$LOCKWATCH" ]; then
		"$LOCKWATCH" report "$TMP/traces-$prog" >"$TMP/report.out" 2>"$TMP/report.err"
		report_rows+=("$prog: lockwatch report exit status $? (0: no error-level finding)")
	fi

	# Small count: native, lockwatch (trace size) and helgrind, interleaved.
	sn=() hg=()
	for ((r = 1; r <= REPS; r++)); do
		run_timed native-small "$bin" "${small[@]}"
		sn+=("$LAST_S")
		want=$LAST_SUM
		if [ "$r" = 1 ]; then
			lockwatch_run lockwatch-small "$TMP/traces-$prog-small" "$bin" "${small[@]}"
			[ "$LAST_SUM" = "$want" ] || die "$prog under lockwatch printed '$LAST_SUM', native '$want'"
		fi
		[ "$HAVE_HELGRIND" = 1 ] || continue
		run_timed helgrind valgrind --tool=helgrind -q "$bin" "${small[@]}"
		hg+=("$LAST_S")
		[ "$LAST_SUM" = "$want" ] || die "$prog under helgrind printed '$LAST_SUM', native '$want'"
	done
	read -r small_used small_file < <(trace_bytes "$TMP/traces-$prog-small") || exit 1
	[ -n "${small_used:-}" ] || exit 1
	size_rows+=("$prog $SMALL_ITERATIONS $small_used $small_file")
	size_rows+=("$prog $ITERATIONS $big_used $big_file")
	if [ "$HAVE_HELGRIND" = 1 ]; then
		sn_med=$(median "${sn[@]}")
		h_med=$(median "${hg[@]}")
		small_rows+=("$prog $SMALL_ITERATIONS $sn_med $h_med $(ratio "$h_med" "$sn_med")")
	fi
done

head="program iterations native_s lockwatch_s ratio trace_bytes"
[ "$HAVE_TIME" = 1 ] && head+=" native_rss_kb lockwatch_rss_kb"
[ "$HAVE_TSAN" = 1 ] && head+=" tsan_s tsan_ratio"
echo "== slowdown at $ITERATIONS iterations (median of $REPS) =="
{ echo "$head"; printf '%s\n' "${main_rows[@]}"; } | column -t
echo
if [ "$HAVE_HELGRIND" = 1 ]; then
	echo "== helgrind at $SMALL_ITERATIONS iterations (median of $REPS; ratio against native at the same count) =="
	{ echo "program iterations native_s helgrind_s ratio"; printf '%s\n' "${small_rows[@]}"; } | column -t
	echo
fi
echo "== lockwatch trace size against run length (level=dependencies) =="
echo "used_bytes: records written (header end_offset); file_bytes: size of the file on disk"
{ echo "program iterations used_bytes file_bytes"; printf '%s\n' "${size_rows[@]}"; } | column -t
for line in ${report_rows[@]+"${report_rows[@]}"}; do
	echo
	echo "$line"
done
exit 0
