#!/usr/bin/env bash
# API misuse recall and false misuse of lockwatch (preloaded, no rebuild) beside Helgrind's
# and DRD's own verdicts, on the pthread C test programs of Valgrind 3.19.0's helgrind/tests
# and drd/tests that commit API misuse or could be mistaken for it (issue 22).
#
# The download, checksum and extraction are bench/thirdparty.sh's (bench/thirdparty-fetch.sh,
# shared).  Each program of CASES (a .vgtest: its prog: and args: lines) is built once, plainly
# (gcc -O1 -g -pthread, no lockwatch flag), and run one after the other, each under
# `timeout $TIMEOUT`, three ways:
#   lw        `lockwatch run --format json -- prog args` (the shim preloaded); a misuse is a
#             finding of kind misuse (error or warning).  When the run times out, `lockwatch
#             report` on the traces it left gives what was seen.
#   helgrind  `valgrind --tool=helgrind --xml=yes`; each <error> but races and lock orders;
#   drd       `valgrind --tool=drd --xml=yes`; each <error> but conflicting accesses.
# Every report is sorted into misuse kinds (bench/thirdparty_misuse_judge.py, one table of
# patterns per tool) and compared with bench/thirdparty-misuse-truth.tsv: per program, the
# kinds it really commits (required), the kinds a tool may report without being wrong
# (tolerated), or excluded, each with the reason, written from the programs' sources.  The
# script prints, per program, each tool's kinds, then per tool and per kind the recall
# (required kinds found) and the false misuse (kinds reported that the truth neither requires
# nor tolerates).  Everything a run printed stays in $CACHE/misuse-results/CASE/.
#
# Usage: bench/thirdparty-misuse.sh [CASE...]        (default: every case)
# Environment: as bench/thirdparty.sh (LOCKWATCH_THIRDPARTY_CACHE, TIMEOUT default 30,
# LOCKWATCH_BUILD, KEEP_TRACES=1); TOOLS (default "lw helgrind drd": the tools run; the
# others' earlier results are reused when present).
# Runs are sequential: the machine is shared.
# Exit status: 0 when every case was built, run and judged (whatever the verdicts); 1 when
# the download, a build or the truth table failed.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u -o pipefail
SELECTED=("$@")
TIMEOUT=${TIMEOUT:-30}
TOOLS=${TOOLS:-lw helgrind drd}

CASES=(
	helgrind/tests/bar_bad.vgtest
	helgrind/tests/bar_trivial.vgtest
	helgrind/tests/cond_init_destroy.vgtest
	helgrind/tests/cond_timedwait_invalid.vgtest
	helgrind/tests/cond_timedwait_test.vgtest
	helgrind/tests/free_is_write.vgtest
	helgrind/tests/hg01_all_ok.vgtest
	helgrind/tests/hg02_deadlock.vgtest
	helgrind/tests/hg03_inherit.vgtest
	helgrind/tests/hg06_readshared.vgtest
	helgrind/tests/pth_cond_destroy_busy.vgtest
	helgrind/tests/pth_destroy_cond.vgtest
	helgrind/tests/pth_spinlock.vgtest
	helgrind/tests/rwlock_race.vgtest
	helgrind/tests/rwlock_test.vgtest
	helgrind/tests/stackteardown.vgtest
	helgrind/tests/tc03_re_excl.vgtest
	helgrind/tests/tc04_free_lock.vgtest
	helgrind/tests/tc07_hbl1.vgtest
	helgrind/tests/tc08_hbl2.vgtest
	helgrind/tests/tc09_bad_unlock.vgtest
	helgrind/tests/tc10_rec_lock.vgtest
	helgrind/tests/tc12_rwl_trivial.vgtest
	helgrind/tests/tc13_laog1.vgtest
	helgrind/tests/tc14_laog_dinphils.vgtest
	helgrind/tests/tc15_laog_lockdel.vgtest
	helgrind/tests/tc17_sembar.vgtest
	helgrind/tests/tc18_semabuse.vgtest
	helgrind/tests/tc20_verifywrap.vgtest
	helgrind/tests/tc21_pthonce.vgtest
	helgrind/tests/tc22_exit_w_lock.vgtest
	helgrind/tests/tc23_bogus_condwait.vgtest
	helgrind/tests/tc24_nonzero_sem.vgtest
	drd/tests/hold_lock_1.vgtest
	drd/tests/pth_barrier.vgtest
	drd/tests/pth_barrier2.vgtest
	drd/tests/pth_barrier3.vgtest
	drd/tests/pth_barrier_race.vgtest
	drd/tests/pth_barrier_reinit.vgtest
	drd/tests/pth_barrier_thr_cr.vgtest
	drd/tests/pth_broadcast.vgtest
	drd/tests/pth_cancel_locked.vgtest
	drd/tests/pth_cleanup_handler.vgtest
	drd/tests/pth_cond_race.vgtest
	drd/tests/pth_detached3.vgtest
	drd/tests/pth_detached_sem.vgtest
	drd/tests/pth_inconsistent_cond_wait.vgtest
	drd/tests/pth_mutex_reinit.vgtest
	drd/tests/pth_mutex_signal.vgtest
	drd/tests/pth_process_shared_mutex.vgtest
	drd/tests/pth_uninitialized_cond.vgtest
	drd/tests/recursive_mutex.vgtest
	drd/tests/rwlock_type_checking.vgtest
	drd/tests/sem_as_mutex.vgtest
	drd/tests/sem_open.vgtest
	drd/tests/trylock.vgtest
)

# shellcheck source=bench/thirdparty-fetch.sh
ME=thirdparty-misuse.sh
. "$(dirname "$0")/thirdparty-fetch.sh"
TRUTH=$ROOT/bench/thirdparty-misuse-truth.tsv
JUDGE=$ROOT/bench/thirdparty_misuse_judge.py
RES=$CACHE/misuse-results

[ -x "$LOCKWATCH" ] && [ -f "$BUILD/lib/liblockwatch.so" ] || die "no $LOCKWATCH and its lib/ (run make first)"
for t in gcc jq timeout tar bzip2 sha256sum python3 valgrind; do
	command -v "$t" >/dev/null || die "$t is needed"
done
[ -f "$TRUTH" ] || die "no $TRUTH"
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION TSAN_OPTIONS
thirdparty_fetch
thirdparty_cases
fail=0

# ---- build: plainly, as a user would ----

CFLAGS=(-I"$SRC" -I"$SRC/include" -DVGA_amd64=1 -DVGO_linux=1 -DVGP_amd64_linux=1
	-DVGPV_amd64_linux_vanilla=1 -g -O1 -pthread -w)
BIN=$CACHE/bin/plain
mkdir -p "$BIN" "$CACHE/buildlog" "$RES" || die "cannot create $BIN"
bin_of() { local s=${C_SRC[$1]%.c}; echo "$BIN/${s//\//_}"; }
declare -A BUILT
echo "$ME: building ${#SELECTED[@]} programs with gcc -O1 -g ..." >&2
for n in "${SELECTED[@]}"; do
	out=$(bin_of "$n")
	[ -n "${BUILT[$out]:-}" ] && continue
	log=$CACHE/buildlog/plain.$(basename "$out").log
	if gcc "${CFLAGS[@]}" -o "$out" "$SRC/${C_SRC[$n]}" -lm -ldl >"$log" 2>&1; then
		BUILT[$out]=ok
	else
		BUILT[$out]=fail
		fail=1
		echo "$ME: build of ${C_SRC[$n]} failed (see $log)" >&2
	fi
done

# ---- run: one at a time ----

# run_case TOOL CASE: runs it in a scratch directory, leaves TOOL.{out,err,rc} (lw.json,
# helgrind.xml, drd.xml) in $RES/CASE.
run_case() {
	local tool=$1 n=$2 d=$RES/$2 rc
	local w=$d/run.$tool
	rm -rf "$w"
	mkdir -p "$w"
	cp "$(bin_of "$n")" "$w/prog"
	# The arguments are split on blanks on purpose (the .vgtest's words).
	# shellcheck disable=SC2086
	case $tool in
	lw)
		(cd "$w" && timeout -k 5 "$TIMEOUT" "$LOCKWATCH" run --format json -o "$d/lw.json" \
			-d "$w/traces" -- ./prog ${C_ARGS[$n]} </dev/null >"$d/lw.out" 2>"$d/lw.err") \
			2>/dev/null
		rc=$?
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			timeout -k 5 "$TIMEOUT" "$LOCKWATCH" report --format json -o "$d/lw.json" \
				"$w/traces" >/dev/null 2>"$d/lw.report.err"
		fi
		[ "${KEEP_TRACES:-0}" = 1 ] && mv "$w/traces" "$d/traces.lw"
		;;
	helgrind | drd)
		(cd "$w" && timeout -k 5 "$TIMEOUT" valgrind --tool="$tool" --xml=yes \
			--xml-file="$d/$tool.xml" ./prog ${C_ARGS[$n]} </dev/null \
			>"$d/$tool.out" 2>"$d/$tool.err") 2>/dev/null
		rc=$?
		;;
	esac
	echo $rc >"$d/$tool.rc"
	rm -rf "$w"
}

echo "$ME: running ${#SELECTED[@]} programs under $TOOLS, one at a time, timeout ${TIMEOUT}s each ..." >&2
for n in "${SELECTED[@]}"; do
	mkdir -p "$RES/$n"
	echo "${C_SRC[$n]} ${C_ARGS[$n]}" >"$RES/$n/cmd"
	for t in $TOOLS; do
		if [ "${BUILT[$(bin_of "$n")]}" = ok ]; then
			run_case "$t" "$n"
		else
			echo build >"$RES/$n/$t.rc"
		fi
	done
done

# ---- judge ----

python3 "$JUDGE" "$TRUTH" "$RES" "${SELECTED[@]}" || fail=1
echo
echo "Per-run output: $RES/CASE/{lw,helgrind,drd}.{out,err,rc}, lw.json, helgrind.xml, drd.xml"
exit $fail
