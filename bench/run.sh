#!/usr/bin/env bash
# Measures lockwatch's slowdown, memory and trace size on the bench programs, beside
# ThreadSanitizer and Helgrind, and the analyzer's throughput.
#
# Run from anywhere after `make` (`make bench` builds what it needs and runs it).  For each
# program of BENCH_PROGRAMS it runs, interleaved (native, default, auto, full, tsan, native,
# ...), REPS times each:
#   native   the program as built by the Makefile (-O2 -g);
#   default  LD_PRELOAD=build/lib/liblockwatch.so, the dependencies level, watch=off;
#   auto     the same with automatic watching of the program's globals (watch=auto, the
#            shim's default: issue 20);
#   full     the same with LOCKWATCH_OPTIONS=level=full (watch=off);
#   tsan     the same source built with clang -fsanitize=thread -O2 -g (skipped without clang);
# and prints each mode's median wall time as a ratio to native's median, the median peak RSS
# (/usr/bin/time -f %M, when present) and the trace size (header end_offset).  Helgrind
# (valgrind --tool=helgrind, skipped without valgrind) runs at the program's reduced count,
# interleaved with native at that same count, and its ratio is to that native median.  The
# default level also runs once at the reduced count: the trace size at both counts shows
# whether it depends on run length.  Every run's checksum line must match native's.
#
# Last, the analyzer: a full-level trace of lockheavy at ANALYZER_ITERATIONS and at twice
# that, `lockwatch report` timed on each (median of REPS), records per second at each size
# and the ratio of the two times (2.00 is linear).
#
# A program bench/NAME.py (py_queue) runs under CPython (the interpreter itself, found through
# `python3`, not a wrapper script in PATH) instead of build/bench/NAME; tsan and helgrind
# skip it.
#
# Environment: REPS (default 5), SCALE (default 1: multiplies every iteration count),
# BENCH_PROGRAMS (default: all, see PROGRAMS below), ANALYZER_ITERATIONS (default 1000000),
# LOCKWATCH_SHIM (default build/lib/liblockwatch.so), SKIP (modes to leave out, e.g.
# "helgrind tsan").
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
SCALE=${SCALE:-1}
ANALYZER_ITERATIONS=${ANALYZER_ITERATIONS:-1000000}
SKIP=${SKIP:-}

# name, the iteration count, the reduced count (Helgrind and the second trace-size point),
# and optionally Helgrind's own arguments (commas for spaces) when the reduced count is still
# too much for it: Helgrind's cost grows faster than linearly with the number of mutexes
# (100k mutexes, one pass: over ten minutes), so manylocks runs under it with 5000.
PROGRAMS=(
	"uncontended 10000000 1000000"
	"lockheavy   1000000  100000"
	"threads     20000    2000"
	"manylocks   50       5       1,5000"
	"condvar     50000    5000"
	"sem         50000    5000"
	"compute     60000    6000"
	"handoff     20000    2000"
	"sem_completion 50000 5000"
	"py_queue    200000   20000"
	"unpadded    3000000  300000"
	"hashtable   2000000  200000"
)
BENCH_PROGRAMS=${BENCH_PROGRAMS:-uncontended lockheavy threads manylocks condvar sem compute handoff sem_completion py_queue unpadded hashtable}

die() {
	echo "bench: $*" >&2
	exit 1
}

for v in REPS SCALE ANALYZER_ITERATIONS; do
	case ${!v} in
	'' | *[!0-9]* | 0) echo "bench: $v must be a positive integer, not '${!v}'" >&2; exit 2 ;;
	esac
done

cd "$(dirname "$0")/.." || die "cannot cd to the repository root"
ROOT=$PWD
SHIM=${LOCKWATCH_SHIM:-$ROOT/build/lib/liblockwatch.so}
LOCKWATCH=$ROOT/build/bin/lockwatch
[ -f "$SHIM" ] || die "$SHIM is missing: run make first"
[ -x "$LOCKWATCH" ] || die "$LOCKWATCH is missing: run make first"

# Whatever the caller had must not leak into the native runs.
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION TSAN_OPTIONS

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lockwatch-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

skipped() {
	case " $SKIP " in *" $1 "*) return 0 ;; esac
	return 1
}

HAVE_TIME=0
[ -x /usr/bin/time ] && HAVE_TIME=1
HAVE_TSAN=0
command -v clang >/dev/null 2>&1 && ! skipped tsan && HAVE_TSAN=1
HAVE_HELGRIND=0
command -v valgrind >/dev/null 2>&1 && ! skipped helgrind && HAVE_HELGRIND=1

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

# median N...: the median of its arguments ("-" when there are none).
median() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) printf "%.4f", v[(NR + 1) / 2];
		      else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2fx", a / b; else print "-" }'
}

# trace_bytes DIR: prints the bytes of records written, summed over DIR/*.trace: the
# header's end_offset (bytes 48..55) when the trace was closed (flag LW_HDR_CLOSED, bytes
# 44..47), else the file size.  Fails when DIR holds no trace.
trace_bytes() {
	local dir=$1 f used=0 n=0 size flags end
	for f in "$dir"/*.trace; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		size=$(stat -c %s "$f")
		flags=$(od -An -t u4 -j 44 -N 4 "$f" | tr -d ' ')
		end=$(od -An -t u8 -j 48 -N 8 "$f" | tr -d ' ')
		if [ $((${flags:-0} & 1)) = 1 ] && [ "${end:-0}" -gt 0 ]; then
			used=$((used + end))
		else
			used=$((used + size))
		fi
	done
	[ "$n" -gt 0 ] || die "no trace written in $dir (is the shim working?)"
	echo "$used"
}

# human BYTES: 1.2M style.
human() {
	awk -v b="$1" 'BEGIN { split("B K M G", u); i = 1;
		while (b >= 1024 && i < 4) { b /= 1024; i++ }
		printf (i == 1 ? "%d%s" : "%.1f%s"), b, u[i] }'
}

# shim_run TAG DIR LEVEL CMD...: run_timed under the shim, traces in a fresh DIR.  LEVEL is
# the recording level, or "auto" for the dependencies level with automatic watching; every
# other mode runs with watch=off.
shim_run() {
	local tag=$1 dir=$2 level=$3 watch=off
	shift 3
	if [ "$level" = auto ]; then
		level=dependencies watch=auto
	fi
	rm -rf "$dir" && mkdir -p "$dir"
	run_timed "$tag" LD_PRELOAD="$SHIM" LOCKWATCH_OPTIONS="trace_dir=$dir:level=$level:watch=$watch" "$@"
}

# scaled ARGS...: the arguments with the first (the iteration count) multiplied by SCALE.
scaled() {
	local first=$1
	shift
	echo "$((first * SCALE))" "$@"
}

echo "lockwatch benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "$REPS interleaved runs per mode, medians; ratios are to native's median at the same count"
[ "$HAVE_TSAN" = 0 ] && echo "tsan: skipped"
[ "$HAVE_HELGRIND" = 0 ] && echo "helgrind: skipped"
[ "$HAVE_TIME" = 0 ] && echo "peak RSS: not measured (no /usr/bin/time)"
echo

rows=()
size_rows=()
report_rows=()

for prog in $BENCH_PROGRAMS; do
	spec=
	for p in "${PROGRAMS[@]}"; do
		read -r name big small <<<"$p"
		[ "$name" = "$prog" ] && spec=$p
	done
	[ -n "$spec" ] || die "unknown bench program '$prog'"
	read -r _ big small hg_args <<<"$spec"
	big=$((big * SCALE))
	small=$((small * SCALE))
	hg_args=${hg_args:-$small}
	hg_args=${hg_args//,/ }
	bin=$ROOT/build/bench/$prog
	cmd=("$bin")
	prog_tsan=$HAVE_TSAN prog_helgrind=$HAVE_HELGRIND
	if [ -f "bench/$prog.py" ]; then
		py=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is missing"
		cmd=("$py" "$ROOT/bench/$prog.py")
		prog_tsan=0 prog_helgrind=0
	else
		[ -x "$bin" ] || die "$bin is missing: run make first"
	fi
	echo "bench: $prog ($big iterations; helgrind with arguments $hg_args)" >&2

	if [ "$prog_tsan" = 1 ]; then
		tsan_bin=$TMP/$prog.tsan
		clang -fsanitize=thread -O2 -g -pthread -o "$tsan_bin" "bench/$prog.c" \
			2>"$TMP/clang.err" || { cat "$TMP/clang.err" >&2; die "clang -fsanitize=thread failed"; }
	fi

	nat=() dfl=() aut=() ful=() ts=() nat_kb=() dfl_kb=() aut_kb=() ful_kb=() ts_kb=()
	for ((r = 1; r <= REPS; r++)); do
		run_timed native "${cmd[@]}" "$big"
		nat+=("$LAST_S") nat_kb+=("$LAST_KB")
		want=$LAST_SUM
		shim_run default "$TMP/default-$prog" dependencies "${cmd[@]}" "$big"
		dfl+=("$LAST_S") dfl_kb+=("$LAST_KB")
		[ "$LAST_SUM" = "$want" ] || die "$prog under lockwatch printed '$LAST_SUM', native '$want'"
		shim_run auto "$TMP/auto-$prog" auto "${cmd[@]}" "$big"
		aut+=("$LAST_S") aut_kb+=("$LAST_KB")
		[ "$LAST_SUM" = "$want" ] || die "$prog under watch=auto printed '$LAST_SUM', native '$want'"
		auto_bytes=$(trace_bytes "$TMP/auto-$prog") || exit 1
		rm -rf "$TMP/auto-$prog"
		shim_run full "$TMP/full-$prog" full "${cmd[@]}" "$big"
		ful+=("$LAST_S") ful_kb+=("$LAST_KB")
		[ "$LAST_SUM" = "$want" ] || die "$prog under level=full printed '$LAST_SUM', native '$want'"
		full_bytes=$(trace_bytes "$TMP/full-$prog") || exit 1
		rm -rf "$TMP/full-$prog"        # full traces are large: keep one at a time
		if [ "$prog_tsan" = 1 ]; then
			run_timed tsan "$tsan_bin" "$big"
			ts+=("$LAST_S") ts_kb+=("$LAST_KB")
			[ "$LAST_SUM" = "$want" ] || die "$prog under tsan printed '$LAST_SUM', native '$want'"
		fi
	done
	default_bytes=$(trace_bytes "$TMP/default-$prog") || exit 1

	# What the analyzer makes of it: none of these programs can deadlock.
	"$LOCKWATCH" report "$TMP/default-$prog" >"$TMP/report.out" 2>"$TMP/report.err"
	rc=$?
	report_rows+=("$prog: lockwatch report exit status $rc; $(tail -n 1 "$TMP/report.err")")

	# Reduced count: native and helgrind interleaved; one default-level run for the size.
	sn=() hg=() hg_kb=()
	shim_run default-small "$TMP/small-$prog" dependencies "${cmd[@]}" "$small"
	small_bytes=$(trace_bytes "$TMP/small-$prog") || exit 1
	if [ "$prog_helgrind" = 1 ]; then
		for ((r = 1; r <= REPS; r++)); do
			# shellcheck disable=SC2086 # hg_args is a list of arguments
			run_timed native-small "$bin" $hg_args
			sn+=("$LAST_S")
			want=$LAST_SUM
			# shellcheck disable=SC2086
			run_timed helgrind valgrind --tool=helgrind -q "$bin" $hg_args
			hg+=("$LAST_S") hg_kb+=("$LAST_KB")
			[ "$LAST_SUM" = "$want" ] || die "$prog under helgrind printed '$LAST_SUM', native '$want'"
		done
	fi

	n_med=$(median "${nat[@]}")
	row="$prog $big $n_med"
	row+=" $(ratio "$(median "${dfl[@]}")" "$n_med") $(ratio "$(median "${aut[@]}")" "$n_med")"
	row+=" $(ratio "$(median "${ful[@]}")" "$n_med")"
	row+=" $(ratio "$(median "${ts[@]+"${ts[@]}"}")" "$n_med")"
	row+=" $(ratio "$(median "${hg[@]+"${hg[@]}"}")" "$(median "${sn[@]+"${sn[@]}"}")")"
	if [ "$HAVE_TIME" = 1 ]; then
		row+=" $(median "${nat_kb[@]}" | cut -d. -f1) $(median "${dfl_kb[@]}" | cut -d. -f1)"
		row+=" $(median "${aut_kb[@]}" | cut -d. -f1)"
		row+=" $(median "${ful_kb[@]}" | cut -d. -f1)"
		row+=" $(median "${ts_kb[@]+"${ts_kb[@]}"}" | cut -d. -f1)"
		row+=" $(median "${hg_kb[@]+"${hg_kb[@]}"}" | cut -d. -f1)"
	fi
	rows+=("$row")
	srow="$prog $small $(human "$small_bytes") $big $(human "$default_bytes")"
	srow+=" $(ratio "$default_bytes" "$small_bytes") $(human "$auto_bytes") $(human "$full_bytes")"
	size_rows+=("$srow")
done

# The analyzer's throughput on full-level traces of two sizes.
an_rows=()
prev_s=
for n in "$ANALYZER_ITERATIONS" $((ANALYZER_ITERATIONS * 2)); do
	echo "bench: analyzer on a full-level lockheavy trace of $n iterations" >&2
	dir=$TMP/analyzer-$n
	shim_run analyzer-gen "$dir" full "$ROOT/build/bench/lockheavy" "$n"
	bytes=$(trace_bytes "$dir") || exit 1
	recs=0
	for f in "$dir"/*.trace; do
		c=$("$LOCKWATCH" dump "$f" | tail -n 1 | sed -n 's/.*: \([0-9]*\) records$/\1/p')
		recs=$((recs + ${c:-0}))
	done
	times=()
	for ((r = 1; r <= REPS; r++)); do
		t0=$(now_ns)
		"$LOCKWATCH" report "$dir" >/dev/null 2>"$TMP/an.err"
		rc=$?
		t1=$(now_ns)
		[ "$rc" = 0 ] || { cat "$TMP/an.err" >&2; die "lockwatch report exited $rc on $dir"; }
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')")
	done
	s=$(median "${times[@]}")
	rate=$(awk -v r="$recs" -v s="$s" 'BEGIN { printf "%.1fM", r / s / 1e6 }')
	lin=-
	[ -n "$prev_s" ] && lin=$(awk -v a="$s" -v b="$prev_s" 'BEGIN { printf "%.2f", a / b }')
	an_rows+=("$n $recs $(human "$bytes") $s $rate $lin")
	prev_s=$s
	rm -rf "$dir"
done

echo "== wall time, ratio to native (median of $REPS); helgrind at the reduced count, against native there =="
head="program iterations native_s default auto full tsan helgrind"
[ "$HAVE_TIME" = 1 ] && head+=" rss_native_kb rss_default_kb rss_auto_kb rss_full_kb rss_tsan_kb rss_helgrind_kb"
{ echo "$head"; printf '%s\n' "${rows[@]}"; } | column -t
echo
echo "== trace size (bytes of records) against run length =="
{ echo "program small_iterations default_small big_iterations default_big growth auto_big full_big"
  printf '%s\n' "${size_rows[@]}"; } | column -t
echo
echo "== analyzer: lockwatch report on full-level lockheavy traces (median of $REPS) =="
{ echo "iterations records trace_bytes report_s records_per_s time_ratio_to_previous"
  printf '%s\n' "${an_rows[@]}"; } | column -t
echo
printf '%s\n' "${report_rows[@]}"
exit 0
