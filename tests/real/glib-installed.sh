#!/usr/bin/env bash
# GLib's own installed tests (Debian's libglib2.0-tests, gnome-desktop-testing's format: one
# /usr/share/installed-tests/glib/NAME.test per test with its Exec= line), each run natively
# and under `lockwatch run`, and compared: the same exit status, the same TAP verdicts (the
# "ok"/"not ok" lines), no error-level finding.  Prints one row a test and a tally.
#
# By default the thread-related tests (THREAD_TESTS below, with their slow contended cases);
# GLIB_TESTS="all" runs every one except those that need a D-Bus session bus or set
# LD_PRELOAD themselves; GLIB_TESTS="mutex cond" runs those named.
#
# A GLib test that deadlocks or misuses a lock on purpose may be reported rightly: a finding
# is printed with its first lines for review, never hidden; the exit status counts it.
#
# Environment: TIMEOUT (seconds per run, default 300), OUT (directory for the reports and
# traces, default a temporary one, printed at the end), LEVEL (the shim's recording level).
# Exit status: 0 when every test behaved the same and was not reported; 1 otherwise.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u -o pipefail

TIMEOUT=${TIMEOUT:-300}
LEVEL=${LEVEL:-dependencies}
THREAD_TESTS="thread mutex rec-mutex rwlock cond once onceinit private asyncqueue thread-pool
	spawn-singlethread spawn-multithreaded 1bit-mutex bitlock atomic slice-concurrent
	mainloop performance-threaded"
GLIB_TESTS=${GLIB_TESTS:-$THREAD_TESTS}
DIR=/usr/share/installed-tests/glib

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
LW=$ROOT/build/bin/lockwatch
[ -x "$LW" ] && [ -f "$ROOT/build/lib/liblockwatch.so" ] || { echo "glib: run make first" >&2; exit 1; }
[ -d "$DIR" ] || { echo "glib: $DIR missing: install libglib2.0-tests (tools/install-deps.sh)" >&2; exit 1; }
command -v jq >/dev/null || { echo "glib: jq missing (tools/install-deps.sh)" >&2; exit 1; }
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION

OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/lockwatch-glib.XXXXXX")}
mkdir -p "$OUT"

if [ "$GLIB_TESTS" = all ]; then
	GLIB_TESTS=$(cd "$DIR" && ls -- *.test | sed 's/\.test$//')
fi

now() { date +%s.%N; }
# The TAP verdicts without what varies from run to run: "# " comments (timings) and the random
# seeds that some tests (queue, sequence) put in their names.
verdicts() { grep -E '^(not )?ok ' "$1" | sed -e 's/ # .*//' -e 's/seed:[0-9]*/seed:N/g'; }

rows=()
same=0 differ=0 reported=0 skipped=0
for t in $GLIB_TESTS; do
	f=$DIR/$t.test
	if [ ! -f "$f" ]; then
		echo "glib: no $f" >&2
		differ=$((differ + 1))
		rows+=("$(printf '%-24s %-6s %-8s %-40s %10s %7s' "$t" "-" "missing" "-" "-" "-")")
		continue
	fi
	exec_line=$(sed -n 's/^Exec=//p' "$f" | head -n 1)
	read -r -a cmd <<<"$exec_line"
	why=""
	case "$t" in
	gdbus-* | dbus-* | *-dbus | gapplication | gnotification | appmonitor | actions | \
	notify-init* | network-monitor* | memory-monitor* | power-profile-monitor* | debugcontroller)
		why="needs a session bus" ;;
	esac
	case "${cmd[0]}" in
	/usr/bin/env) why="sets LD_PRELOAD itself" ;;
	*.py) why="a Python script" ;;
	esac
	if [ -n "$why" ]; then
		skipped=$((skipped + 1))
		echo "glib: $t not run: $why" >&2
		continue
	fi
	w=$OUT/$t
	rm -rf "$w"
	mkdir -p "$w/native.cwd" "$w/lw.cwd"
	s=$(now)
	(cd "$w/native.cwd" && timeout -k 5 "$TIMEOUT" "${cmd[@]}" >"$w/native.out" 2>"$w/native.err")
	nrc=$?
	m=$(now)
	(cd "$w/lw.cwd" && LOCKWATCH_OPTIONS="level=$LEVEL" timeout -k 5 "$TIMEOUT" "$LW" run \
		--format json -o "$w/report.json" --trace-dir "$w/traces" -- "${cmd[@]}" \
		>"$w/lw.out" 2>"$w/lw.err")
	lrc=$?
	e=$(now)
	errors=$(jq '[.findings[] | select(.severity == "error")] | length' "$w/report.json" 2>/dev/null || echo "?")
	kinds=$(jq -r '[.findings[] | select(.severity == "error") | .kind] | group_by(.) |
		map("\(.[0]) x\(length)") | join(",")' "$w/report.json" 2>/dev/null)
	[ -n "$kinds" ] || kinds="-"
	warnings=$(jq '[.findings[] | select(.severity == "warning")] | length' "$w/report.json" 2>/dev/null || echo "?")
	kb=$(du -sk "$w/traces" 2>/dev/null | cut -f1)
	ratio=$(awk -v s="$s" -v m="$m" -v e="$e" 'BEGIN { n = m - s; printf "%.1f", (n > 0.001 ? (e - m) / n : 0) }')
	# lockwatch run returns 66 for error-level findings, else the program's status.
	if [ "$lrc" = "$nrc" ] || { [ "$lrc" = 66 ] && [ "$errors" != 0 ]; }; then
		st=y
	else
		st=n
	fi
	if [ "$st" = y ] && ! cmp -s <(verdicts "$w/native.out") <(verdicts "$w/lw.out"); then
		st=n
	fi
	if [ "$st" = y ]; then
		same=$((same + 1))
	else
		differ=$((differ + 1))
		echo "glib: $t: native status $nrc, under lockwatch $lrc; verdicts differ:" >&2
		diff <(verdicts "$w/native.out") <(verdicts "$w/lw.out") | head -n 10 >&2
		tail -n 5 "$w/lw.err" >&2
	fi
	if [ "$errors" != 0 ]; then
		reported=$((reported + 1))
		echo "glib: $t: $errors error-level finding(s):" >&2
		jq -r '.findings[] | select(.severity == "error") | "    \(.kind): \(.message)"' \
			"$w/report.json" 2>/dev/null | head -n 5 >&2
	fi
	rows+=("$(printf '%-24s %-6s %-8s %-40s %10s %7s' "$t" "$st" "$errors/$warnings" "$kinds" "${kb:-0}" "$ratio")")
done

printf '\n%-24s %-6s %-8s %-40s %10s %7s\n' "GLib test" "same" "err/warn" "error kinds" "trace KiB" "ratio"
for r in "${rows[@]}"; do
	echo "$r"
done
echo
echo "glib: $same same, $differ different, $reported with error-level findings, $skipped not run; reports in $OUT"
[ "$differ" = 0 ] && [ "$reported" = 0 ]
