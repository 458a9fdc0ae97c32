#!/usr/bin/env bash
# What the shim's defaults cost real programs (issue 20's budget): Debian's pigz, xz and zstd
# compressing a generated file (half text, half random, as tests/real/run.sh makes it), each
# run REPS times, interleaved, in three modes:
#   native   the program alone;
#   off      under the shim (LD_PRELOAD), LOCKWATCH_OPTIONS=watch=off: the lock recording only;
#   default  under the shim with no option: automatic watching and the collider too;
# and prints each mode's median wall time and median CPU time (user + sys) as ratios to
# native's, and default's to off's.  Every run's output must have native's checksum.  The
# analyzer does not run (it runs after the program, in `lockwatch run`).
#
# Environment: REPS (default 5), SIZE_MB (default 50), PROGRAMS (default "pigz xz zstd"),
# LOCKWATCH_SHIM (default build/lib/liblockwatch.so), EXTRA (more LOCKWATCH_OPTIONS for
# default, e.g. collider_budget=0).
# Missing packages (pigz, xz-utils, zstd, time) are installed when run as root.
# Exit status: 0, 1 when a run failed or its output differed, 2 when a tool is missing.
set -u
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
SIZE_MB=${SIZE_MB:-50}
PROGRAMS=${PROGRAMS:-"pigz xz zstd"}
SHIM=$(realpath "${LOCKWATCH_SHIM:-build/lib/liblockwatch.so}")
EXTRA=${EXTRA:-}
[ -f "$SHIM" ] || { echo "real.sh: no $SHIM (run make)" >&2; exit 2; }
need=""
for p in pigz xz-utils zstd time python3; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "real.sh: missing packages:$need (run as root)" >&2
		exit 2
	fi
	echo "real.sh: installing$need" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null || exit 2
fi
WORK=$(mktemp -d /tmp/lw-bench-real.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

INPUT=$WORK/input.bin
python3 tests/real/make_input.py "$INPUT" "$SIZE_MB" || exit 2

command_of() {
	case $1 in
	pigz) echo "pigz -p 2 -6 -c $INPUT" ;;
	xz) echo "xz -T2 -3 -c $INPUT" ;;
	zstd) echo "zstd -T2 -3 -c $INPUT" ;;
	*) return 1 ;;
	esac
}

# one MODE CMD...: runs it, appends "wall cpu" to $WORK/MODE.times, checks the checksum.
one() {
	local mode=$1 sum
	shift
	local env=()
	case $mode in
	off) env=(LD_PRELOAD="$SHIM" LOCKWATCH_OPTIONS="trace_dir=$WORK/traces:watch=off") ;;
	default) env=(LD_PRELOAD="$SHIM" LOCKWATCH_OPTIONS="trace_dir=$WORK/traces${EXTRA:+:$EXTRA}") ;;
	esac
	rm -rf "$WORK/traces" && mkdir -p "$WORK/traces"
	sum=$(env "${env[@]}" /usr/bin/time -f "%e %U %S" -o "$WORK/t" "$@" | md5sum)
	if [ "$sum" != "$REF" ]; then
		echo "real.sh: $mode run of $* gave another output" >&2
		FAILED=1
	fi
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$WORK/t" >> "$WORK/$mode.times"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }

FAILED=0
echo "lockwatch real-program cost: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$REPS interleaved runs per mode, medians; wall and CPU (user+sys) in seconds${EXTRA:+; default with $EXTRA}"
printf '%-6s %9s %9s %9s %8s %8s %8s %8s %8s %9s\n' program native_s off_s default_s \
	off default def/off cpu_off cpu_def cpudef/off
for prog in $PROGRAMS; do
	command -v "$prog" >/dev/null || { echo "real.sh: $prog not installed" >&2; exit 2; }
	read -r -a cmd <<< "$(command_of "$prog")"
	REF=$("${cmd[@]}" | md5sum)
	rm -f "$WORK"/*.times
	for _ in $(seq "$REPS"); do
		for mode in native off default; do
			one "$mode" "${cmd[@]}"
		done
	done
	declare -A wall cpu
	for mode in native off default; do
		wall[$mode]=$(cut -d' ' -f1 "$WORK/$mode.times" | median)
		cpu[$mode]=$(cut -d' ' -f2 "$WORK/$mode.times" | median)
	done
	printf '%-6s %9s %9s %9s %8s %8s %8s %8s %8s %9s\n' "$prog" "${wall[native]}" "${wall[off]}" \
		"${wall[default]}" "$(ratio "${wall[off]}" "${wall[native]}")" \
		"$(ratio "${wall[default]}" "${wall[native]}")" \
		"$(ratio "${wall[default]}" "${wall[off]}")" \
		"$(ratio "${cpu[off]}" "${cpu[native]}")" "$(ratio "${cpu[default]}" "${cpu[native]}")" \
		"$(ratio "${cpu[default]}" "${cpu[off]}")"
done
exit "$FAILED"
