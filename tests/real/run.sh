#!/usr/bin/env bash
# Real multi-threaded Debian programs under lockwatch: output byte-identical to a native run,
# no crash, no hang, the overhead, and what lockwatch reports on each.
#
# Run from anywhere after `make`, as root to install the packages (pigz, xz-utils, zstd,
# memcached; python3 drives memcached over loopback with tests/real/mc_load.py, as Debian has
# no memtier-benchmark).  Not part of `make test`: it installs packages and takes minutes.
#
#   pigz -p 2, xz -T2, zstd -T2   compress a generated ~50 MB file (half text, half random);
#                                 the compressed bytes must equal the native run's
#   memcached -t 4                4 client connections x OPS requests on 127.0.0.1; the
#                                 client's digest of the replies must equal the native one
#
# Every run has a timeout (TIMEOUT seconds, default 300).  The reports are kept in
# $OUT (default: a temporary directory, printed at the end) for review.
#
# Environment: SIZE_MB (default 50), OPS (default 20000), TIMEOUT, OUT, LEVEL (dependencies
# or full: the shim's recording level, default dependencies).
# Exit status: 0 when every program behaved the same under lockwatch, 1 otherwise.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u -o pipefail

SIZE_MB=${SIZE_MB:-50}
OPS=${OPS:-20000}
TIMEOUT=${TIMEOUT:-300}
LEVEL=${LEVEL:-dependencies}

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
LW=$ROOT/build/bin/lockwatch
[ -x "$LW" ] && [ -f "$ROOT/build/lib/liblockwatch.so" ] || { echo "real: run make first" >&2; exit 1; }
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION

need=""
for p in pigz xz-utils zstd memcached python3; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "real: missing packages:$need (run as root)" >&2
		exit 1
	fi
	echo "real: installing$need" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		{ echo "real: apt-get install failed" >&2; exit 1; }
fi

OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/lockwatch-real.XXXXXX")}
mkdir -p "$OUT"
failed=0
rows=()

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# The input: deterministic, half compressible text and half random bytes.
INPUT=$OUT/input.bin
if [ ! -s "$INPUT" ]; then
	python3 tests/real/make_input.py "$INPUT" "$SIZE_MB"
fi

# lw NAME CMD...: lockwatch run with its trace directory and text report under $OUT/NAME.
lw() {
	local name=$1
	shift
	rm -rf "$OUT/$name.traces"
	LOCKWATCH_OPTIONS="level=$LEVEL" timeout -k 5 "$TIMEOUT" "$LW" run --trace-dir "$OUT/$name.traces" \
		-o "$OUT/$name.report" -- "$@"
}

# A compressor: CMD reads $INPUT and writes to stdout.
compressor() {
	local name=$1 t0 t1 t2 rc
	shift
	echo "real: $name: $*" >&2
	t0=$(now)
	timeout -k 5 "$TIMEOUT" "$@" <"$INPUT" >"$OUT/$name.native" 2>"$OUT/$name.native.err"
	rc=$?
	t1=$(now)
	[ "$rc" = 0 ] || { echo "real: $name failed natively ($rc)" >&2; failed=1; return; }
	lw "$name" "$@" <"$INPUT" >"$OUT/$name.lw" 2>"$OUT/$name.lw.err"
	rc=$?
	t2=$(now)
	local verdict=same
	if [ "$rc" != 0 ] && [ "$rc" != 66 ]; then
		verdict="status $rc"
		failed=1
	elif ! cmp -s "$OUT/$name.native" "$OUT/$name.lw"; then
		verdict=DIFFERENT
		failed=1
	fi
	rows+=("$name $(elapsed "$t0" "$t1") $(elapsed "$t1" "$t2") $(awk -v a="$(elapsed "$t0" "$t1")" \
		-v b="$(elapsed "$t1" "$t2")" 'BEGIN { printf "%.2fx", b / a }') $verdict $rc")
}

compressor pigz pigz -p 2 -6 -c
compressor xz xz -T2 -3 -c
compressor zstd zstd -T2 -3 -c

# memcached: native, then under lockwatch; the client's output must be the same.
memcached_run() {
	local mode=$1 port=$2 pid t0 t1 rc
	local cmd=(memcached -l 127.0.0.1 -p "$port" -U 0 -t 4 -A -u nobody -m 256)
	if [ "$mode" = native ]; then
		timeout -k 5 "$TIMEOUT" "${cmd[@]}" 2>"$OUT/memcached.native.err" &
	else
		lw memcached "${cmd[@]}" 2>"$OUT/memcached.lw.err" &
	fi
	pid=$!
	for _ in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
		sleep 0.1
	done
	t0=$(now)
	timeout -k 5 "$TIMEOUT" python3 tests/real/mc_load.py "$port" 4 "$OPS" >"$OUT/memcached.$mode" \
		2>"$OUT/memcached.$mode.client.err"
	rc=$?
	t1=$(now)
	printf 'shutdown\r\n' | timeout 10 python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $port), 5); s.sendall(sys.stdin.buffer.read()); s.recv(100)" \
		2>/dev/null
	wait "$pid"
	MC_SERVER_RC=$?
	MC_CLIENT_RC=$rc
	MC_TIME=$(elapsed "$t0" "$t1")
}
echo "real: memcached with $OPS requests x 4 connections" >&2
memcached_run native 11411
n_time=$MC_TIME n_client=$MC_CLIENT_RC
memcached_run lockwatch 11412
verdict=same
if [ "$n_client" != 0 ] || [ "$MC_CLIENT_RC" != 0 ]; then
	verdict="client status $n_client/$MC_CLIENT_RC"
	failed=1
elif [ "$MC_SERVER_RC" != 0 ] && [ "$MC_SERVER_RC" != 66 ]; then
	verdict="lockwatch run status $MC_SERVER_RC"
	failed=1
elif ! cmp -s "$OUT/memcached.native" "$OUT/memcached.lockwatch"; then
	verdict=DIFFERENT
	failed=1
fi
rows+=("memcached $n_time $MC_TIME $(awk -v a="$n_time" -v b="$MC_TIME" 'BEGIN { printf "%.2fx", b / a }') $verdict $MC_SERVER_RC")

echo
echo "== real programs under lockwatch (level=$LEVEL) =="
{ echo "program native_s lockwatch_s ratio output lockwatch_status"; printf '%s\n' "${rows[@]}"; } | column -t
echo
for name in pigz xz zstd memcached; do
	echo "== what lockwatch reports on $name =="
	if [ -s "$OUT/$name.report" ]; then
		cat "$OUT/$name.report"
	else
		grep -h '^lockwatch' "$OUT/$name.lw.err" 2>/dev/null | tail -n 5
	fi
	echo
done
echo "real: outputs, traces and reports in $OUT"
exit $failed
