#!/usr/bin/env bash
# Race recall and precision of lockwatch's hook mode beside ThreadSanitizer, on third-party
# programs: the pthread C test programs of Valgrind's two race detectors (helgrind/tests and
# drd/tests of Valgrind 3.19.0), many deliberately racy, many race-free.
#
# The programs are not in this repository (GPL, and the point is that nobody here wrote them):
# the script downloads Valgrind's source from Debian's mirror into a cache directory, checks
# its SHA-256 (pinned below, and the one Debian's .dsc lists), and extracts only the test
# directories' C sources, headers and .vgtest files and the three client-request headers
# (valgrind.h, helgrind.h, drd.h: no-ops when not under Valgrind).  Its own config.h replaces
# Valgrind's configure output.
#
# Each program of CASES (a .vgtest file: its prog: and args: lines give the program and its
# arguments) is built three times, with clang -g -O1:
#   tsan  clang -fsanitize=thread;
#   lw    `lockwatch cc` (hook mode);
#   plain clang alone, no rebuild for lockwatch: `lockwatch run` with no option at all
#         (issue 20: automatic watching of globals and the collider's heap samples);
# and run, one after the other, each under `timeout $TIMEOUT`:
#   tsan  the program itself; a race is "WARNING: ThreadSanitizer: data race" on stderr;
#   lw    `lockwatch run --format json -- prog args`; a race is a finding of kind data-race
#         (atomicity-violation findings are counted apart: TSan has no equivalent).  When the
#         run times out, `lockwatch report` on the traces it left gives what was seen.
# The verdicts are compared with bench/thirdparty-truth.tsv (per program: racy, race-free or
# excluded, with the reason), and the script prints the per-program table, each tool's recall
# and precision, and the programs on which lockwatch differs from the truth or from TSan, with
# the variables it named.  Everything a run printed stays in $CACHE/results/CASE/.
#
# Usage: bench/thirdparty.sh [CASE...]        (default: every case)
# Environment: LOCKWATCH_THIRDPARTY_CACHE (default build/thirdparty), TIMEOUT (seconds per
# run, default 30), LOCKWATCH_BUILD (the build directory whose bin/lockwatch and lib/ are
# measured, default build), KEEP_TRACES=1 (keep lockwatch's traces).
# Runs are sequential: the machine is shared.
# Exit status: 0 when every case was built, run and judged (whatever the verdicts); 1 when
# the download, the checksum, the extraction, a build or the truth table failed.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u -o pipefail
SELECTED=("$@")

TIMEOUT=${TIMEOUT:-30}

# The programs run, as the .vgtest file that runs them (one per program and distinct native
# behaviour; the name of the case is the file's).  Where Helgrind's and DRD's directories
# both have a .vgtest of one name for two different programs, the other directory's
# differently named .vgtest for the same program is used (annotate_rwlock_hg,
# read_and_free_race).  Arguments that only switch Valgrind annotations or output
# (annotate_ignore_rw2's -r, free_is_write2's second copy, ...) add no case: natively the run
# is the same.
CASES=(
	helgrind/tests/annotate_hbefore.vgtest
	helgrind/tests/bar_bad.vgtest
	helgrind/tests/bar_trivial.vgtest
	helgrind/tests/cond_init_destroy.vgtest
	helgrind/tests/cond_timedwait_invalid.vgtest
	helgrind/tests/cond_timedwait_test.vgtest
	helgrind/tests/hg01_all_ok.vgtest
	helgrind/tests/hg02_deadlock.vgtest
	helgrind/tests/hg03_inherit.vgtest
	helgrind/tests/hg04_race.vgtest
	helgrind/tests/hg05_race2.vgtest
	helgrind/tests/hg06_readshared.vgtest
	helgrind/tests/locked_vs_unlocked1_fwd.vgtest
	helgrind/tests/locked_vs_unlocked1_rev.vgtest
	helgrind/tests/locked_vs_unlocked2.vgtest
	helgrind/tests/locked_vs_unlocked3.vgtest
	helgrind/tests/pth_destroy_cond.vgtest
	helgrind/tests/pth_mempcpy_false_races.vgtest
	helgrind/tests/stackteardown.vgtest
	helgrind/tests/t2t_laog.vgtest
	helgrind/tests/tc01_simple_race.vgtest
	helgrind/tests/tc02_simple_tls.vgtest
	helgrind/tests/tc03_re_excl.vgtest
	helgrind/tests/tc04_free_lock.vgtest
	helgrind/tests/tc05_simple_race.vgtest
	helgrind/tests/tc06_two_races.vgtest
	helgrind/tests/tc07_hbl1.vgtest
	helgrind/tests/tc08_hbl2.vgtest
	helgrind/tests/tc09_bad_unlock.vgtest
	helgrind/tests/tc10_rec_lock.vgtest
	helgrind/tests/tc11_XCHG.vgtest
	helgrind/tests/tc12_rwl_trivial.vgtest
	helgrind/tests/tc13_laog1.vgtest
	helgrind/tests/tc14_laog_dinphils.vgtest
	helgrind/tests/tc15_laog_lockdel.vgtest
	helgrind/tests/tc16_byterace.vgtest
	helgrind/tests/tc17_sembar.vgtest
	helgrind/tests/tc18_semabuse.vgtest
	helgrind/tests/tc19_shadowmem.vgtest
	helgrind/tests/tc20_verifywrap.vgtest
	helgrind/tests/tc21_pthonce.vgtest
	helgrind/tests/tc22_exit_w_lock.vgtest
	helgrind/tests/tc23_bogus_condwait.vgtest
	helgrind/tests/tc24_nonzero_sem.vgtest
	helgrind/tests/tls_threads.vgtest
	drd/tests/annotate_barrier.vgtest
	drd/tests/annotate_hb_err.vgtest
	drd/tests/annotate_hb_race.vgtest
	drd/tests/annotate_ignore_rw.vgtest
	drd/tests/annotate_ignore_write.vgtest
	drd/tests/annotate_rwlock.vgtest
	drd/tests/annotate_rwlock_hg.vgtest
	drd/tests/annotate_sem.vgtest
	drd/tests/atomic_var.vgtest
	drd/tests/bug-235681.vgtest
	drd/tests/circular_buffer.vgtest
	drd/tests/dlopen.vgtest
	drd/tests/fork-serial.vgtest
	drd/tests/fork-parallel.vgtest
	drd/tests/fp_race.vgtest
	drd/tests/fp_race2.vgtest
	drd/tests/free_is_write.vgtest
	drd/tests/read_and_free_race.vgtest
	drd/tests/hold_lock_1.vgtest
	drd/tests/linuxthreads_det.vgtest
	drd/tests/matinv.vgtest
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
	drd/tests/pth_cond_race2.vgtest
	drd/tests/pth_create_chain.vgtest
	drd/tests/pth_detached.vgtest
	drd/tests/pth_detached2.vgtest
	drd/tests/pth_detached3.vgtest
	drd/tests/pth_detached_sem.vgtest
	drd/tests/pth_inconsistent_cond_wait.vgtest
	drd/tests/pth_mutex_reinit.vgtest
	drd/tests/pth_mutex_signal.vgtest
	drd/tests/pth_process_shared_mutex.vgtest
	drd/tests/pth_spinlock.vgtest
	drd/tests/pth_uninitialized_cond.vgtest
	drd/tests/recursive_mutex.vgtest
	drd/tests/rwlock_race.vgtest
	drd/tests/rwlock_test.vgtest
	drd/tests/rwlock_type_checking.vgtest
	drd/tests/sem_as_mutex.vgtest
	drd/tests/sem_as_mutex2.vgtest
	drd/tests/sem_open.vgtest
	drd/tests/sem_open2.vgtest
	drd/tests/sigalrm.vgtest
	drd/tests/swapcontext.vgtest
	drd/tests/thread_name.vgtest
	drd/tests/threaded-fork.vgtest
	drd/tests/trylock.vgtest
)

# Every other source in the two directories, with why it is not run.  (A source the script
# finds in neither list is reported as unclassified.)
SKIPPED=(
	"drd/tests/dlopen_lib.c|built as the library the dlopen case loads"
	"drd/tests/omp_matinv.c|OpenMP"
	"drd/tests/omp_prime.c|OpenMP"
	"drd/tests/omp_printf.c|OpenMP"
	"drd/tests/pth_create_glibc_2_0.c|calls pthread_create@GLIBC_2.0, which only 32-bit x86 glibc has"
	"drd/tests/thread_name_freebsd.c|FreeBSD only (pthread_set_name_np)"
	"drd/tests/pth_cond_destroy_busy.c|hangs on glibc >= 2.25 (pthread_cond_destroy waits for the waiter it is meant to fail on); its .vgtest's prereq excludes that glibc too"
	"drd/tests/unit_bitmap.c|DRD's own unit test: #includes DRD's and the core's sources, no threads"
	"drd/tests/unit_vc.c|DRD's own unit test: #includes DRD's sources, no threads"
	"drd/tests/memory_allocation.c|no threads and no pthread calls (malloc/realloc loop)"
	"drd/tests/custom_alloc.c|no threads (Valgrind custom-allocator client requests; needs tests/sys_mman.h)"
	"drd/tests/annotate_trace_memory.c|no threads (DRD_TRACE_VAR client requests only)"
	"drd/tests/annotate_publish_hg.c|no threads (one Helgrind client request)"
	"helgrind/tests/shmem_abits.c|no threads (VALGRIND_HG_GET_ABITS client requests only)"
)

# shellcheck source=bench/thirdparty-fetch.sh
ME=thirdparty.sh
. "$(dirname "$0")/thirdparty-fetch.sh"
TRUTH=$ROOT/bench/thirdparty-truth.tsv
RES=$CACHE/results

[ -x "$LOCKWATCH" ] && [ -f "$BUILD/lib/liblockwatch.so" ] && [ -f "$BUILD/lib/liblockwatch-hooks.so" ] ||
	die "no $LOCKWATCH and its lib/ (run make first)"
for t in clang jq timeout tar bzip2 sha256sum; do
	command -v "$t" >/dev/null || die "$t is needed"
done
[ -f "$TRUTH" ] || die "no $TRUTH"
CLANG_MAJOR=$(clang -dumpversion | cut -d. -f1)
unset LD_PRELOAD LOCKWATCH_OPTIONS LOCKWATCH_SESSION TSAN_OPTIONS
thirdparty_fetch

# ---- the cases: program and arguments from each .vgtest ----

thirdparty_cases

# ---- the ground truth ----

declare -A T_CLASS T_REASON
while IFS=$'\t' read -r n c r; do
	case $n in '' | '#'*) continue ;; esac
	case $c in racy | race-free | excluded) ;;
	*) die "$TRUTH: $n: class '$c' is not racy, race-free or excluded" ;; esac
	T_CLASS[$n]=$c
	T_REASON[$n]=$r
done <"$TRUTH"
fail=0
for n in "${SELECTED[@]}"; do
	[ -n "${T_CLASS[$n]:-}" ] || { echo "thirdparty.sh: $n is not in $TRUTH" >&2; fail=1; }
done

# ---- what is not run, and why ----

declare -A USED
for n in "${ALL[@]}"; do USED[${C_SRC[$n]}]=1; done
echo "== skipped sources of $TOP/{helgrind,drd}/tests =="
for e in "${SKIPPED[@]}"; do USED[${e%%|*}]=1; printf "  %-38s %s\n" "${e%%|*}" "${e#*|}"; done
grep -E "^$TOP/(helgrind|drd)/tests/[^/]*\.cpp\$" "$CACHE/members.txt" | sed "s|^$TOP/||" | sort | while read -r f; do
	printf "  %-38s %s\n" "$f" "C++"
done
for f in $(cd "$SRC" && ls helgrind/tests/*.c drd/tests/*.c); do
	[ -n "${USED[$f]:-}" ] || { echo "  $f: UNCLASSIFIED (neither run nor skipped)"; fail=1; }
done
echo

# ---- build ----

CFLAGS=(-I"$SRC" -I"$SRC/include" -DVGA_amd64=1 -DVGO_linux=1 -DVGP_amd64_linux=1
	-DVGPV_amd64_linux_vanilla=1 -g -O1 -pthread -w)
LIBS=(-lm -ldl)
BIN=$CACHE/bin
mkdir -p "$BIN/tsan" "$BIN/lw" "$BIN/plain" "$CACHE/buildlog" || die "cannot create $BIN"

# compile MODE SOURCE OUT [EXTRA...]
compile() {
	local mode=$1 src=$2 out=$3
	shift 3
	local log
	log=$CACHE/buildlog/$mode.$(basename "$out").log
	case $mode in
	tsan) clang -fsanitize=thread "${CFLAGS[@]}" "$@" -o "$out" "$SRC/$src" "${LIBS[@]}" >"$log" 2>&1 ;;
	lw) "$LOCKWATCH" cc "${CFLAGS[@]}" "$@" -o "$out" "$SRC/$src" "${LIBS[@]}" >"$log" 2>&1 ;;
	plain) clang "${CFLAGS[@]}" "$@" -o "$out" "$SRC/$src" "${LIBS[@]}" -lpthread >"$log" 2>&1 ;;
	esac || { echo "thirdparty.sh: $mode build of $src failed (see $log):" >&2; head -5 "$log" >&2; return 1; }
}

bin_of() { # MODE CASE
	local s=${C_SRC[$2]}
	s=${s%.c}
	echo "$BIN/$1/${s//\//_}"
}

declare -A BUILT
echo "thirdparty.sh: building ${#SELECTED[@]} programs with clang -fsanitize=thread and lockwatch cc ..." >&2
for n in "${SELECTED[@]}"; do
	for m in tsan lw plain; do
		out=$(bin_of $m "$n")
		[ -n "${BUILT[$out]:-}" ] && continue
		BUILT[$out]=fail
		compile $m "${C_SRC[$n]}" "$out" && BUILT[$out]=ok || fail=1
		# A ./NAME.so argument is a library the program loads: built the same way.
		for a in ${C_ARGS[$n]}; do
			case $a in ./*.so)
				l=${a#./}
				compile $m "$(dirname "${C_SRC[$n]}")/${l%.so}.c" "$out.$l" -shared -fPIC ||
					{ BUILT[$out]=fail; fail=1; } ;;
			esac
		done
	done
done

# ---- run ----

# run_case MODE CASE DIR: runs it in DIR (its working directory), leaves MODE.{out,err,rc}
# (and lw.json) in DIR/..
run_case() {
	local mode=$1 n=$2 dir=$3 out
	out=$(bin_of "$mode" "$n")
	rm -rf "$dir"
	mkdir -p "$dir"
	for a in ${C_ARGS[$n]}; do
		case $a in ./*.so) cp "$out.${a#./}" "$dir/${a#./}" ;; esac
	done
	cp "$out" "$dir/prog"
	local rc
	# The arguments are split on blanks on purpose (the .vgtest's words).
	# shellcheck disable=SC2086
	case $mode in
	tsan)
		(cd "$dir" && timeout -k 5 "$TIMEOUT" ./prog ${C_ARGS[$n]} </dev/null \
			>"$dir/../tsan.out" 2>"$dir/../tsan.err") 2>/dev/null # (bash's "Killed" notices)
		rc=$?
		;;
	lw | plain)
		(cd "$dir" && timeout -k 5 "$TIMEOUT" "$LOCKWATCH" run --format json -o "$dir/../$mode.json" \
			-d "$dir/traces" -- ./prog ${C_ARGS[$n]} </dev/null >"$dir/../$mode.out" \
			2>"$dir/../$mode.err") 2>/dev/null
		rc=$?
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			# Timed out: the traces survive, the analysis says what was seen until then.
			timeout -k 5 "$TIMEOUT" "$LOCKWATCH" report --format json -o "$dir/../$mode.json" \
				"$dir/traces" >/dev/null 2>"$dir/../$mode.report.err"
			echo "report after timeout: exit $?" >>"$dir/../$mode.report.err"
		fi
		[ "${KEEP_TRACES:-0}" = 1 ] || rm -rf "$dir/traces"
		;;
	esac
	echo $rc >"$dir/../$mode.rc"
	rm -f "$dir/prog"
}

status_of() { # RC -> ok | exit N | timeout | signal NAME
	local rc=$1
	case $rc in
	0 | 66) echo ok ;;
	124 | 137) echo timeout ;;
	*) if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then echo "signal $(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
	   else echo "exit $rc"; fi ;;
	esac
}

mkdir -p "$RES" || die "cannot create $RES"
echo "thirdparty.sh: running ${#SELECTED[@]} programs, one at a time, timeout ${TIMEOUT}s each ..." >&2
for n in "${SELECTED[@]}"; do
	d=$RES/$n
	rm -rf "$d"
	mkdir -p "$d"
	echo "${C_SRC[$n]} ${C_ARGS[$n]}" >"$d/cmd"
	for m in tsan lw plain; do
		if [ "${BUILT[$(bin_of $m "$n")]}" = ok ]; then
			run_case $m "$n" "$d/run.$m"
		else
			echo build >"$d/$m.rc"
		fi
	done
	rm -rf "$d/run.tsan" "$d/run.lw" "$d/run.plain"
done

# ---- judge ----

declare -A CNT
for k in T L A P; do for v in TP FN FP TN; do CNT[$k:$v]=0; done; done
NR=0 NF=0 NX=0
score() { # PREFIX TRUTH FOUND
	local v
	case $2:$3 in
	racy:1) v=TP ;; racy:0) v=FN ;; race-free:1) v=FP ;; race-free:0) v=TN ;; *) return ;;
	esac
	CNT[$1:$v]=$((${CNT[$1:$v]} + 1))
}
yn() { [ "$1" -gt 0 ] 2>/dev/null && echo 1 || echo 0; }

SUMMARY=$RES/summary.tsv
printf "case\tsource\targs\ttruth\ttsan_races\ttsan_status\tlw_races\tlw_atomicity\tlw_status\tlw_variables\n" >"$SUMMARY"
DIFFS=()
echo
echo "== per program (race: at least one data race reported; atom: lockwatch's atomicity-violation findings; plain: lockwatch run with no option on the plain build) =="
printf "%-28s %-10s %-6s %-9s %-5s %-6s %-6s %-6s %s\n" program truth tsan lockwatch atom plain tsan-st lw-st "args"
for n in "${SELECTED[@]}"; do
	d=$RES/$n
	truth=${T_CLASS[$n]:-?}
	trc=$(cat "$d/tsan.rc")
	lrc=$(cat "$d/lw.rc")
	tr=$(grep -c 'WARNING: ThreadSanitizer: data race' "$d/tsan.err" 2>/dev/null)
	tr=${tr:-0}
	if [ -s "$d/lw.json" ] && jq -e .findings "$d/lw.json" >/dev/null 2>&1; then
		lr=$(jq '[.findings[] | select(.kind == "data-race")] | length' "$d/lw.json")
		la=$(jq '[.findings[] | select(.kind == "atomicity-violation")] | length' "$d/lw.json")
		vars=$(jq -r '[.findings[] | select(.kind == "data-race" or .kind == "atomicity-violation")
			| (if .kind == "data-race" then "race:" else "atom:" end) + (.variable.name // "?")]
			| unique | join(" ")' "$d/lw.json")
	else
		lr=0 la=0 vars="(no report)"
	fi
	# Issue 20: the plain build under `lockwatch run` with no option, data races only.
	pr=0
	if [ -s "$d/plain.json" ] && jq -e .findings "$d/plain.json" >/dev/null 2>&1; then
		pr=$(jq '[.findings[] | select(.kind == "data-race")] | length' "$d/plain.json")
	fi
	[ "$trc" = build ] && ts="build" || ts=$(status_of "$trc")
	[ "$lrc" = build ] && ls_="build" || ls_=$(status_of "$lrc")
	grep -q 'ThreadSanitizer: CHECK failed\|FATAL: ThreadSanitizer' "$d/tsan.err" 2>/dev/null && ts="tsan-fatal"
	case $truth in racy) NR=$((NR + 1)) ;; race-free) NF=$((NF + 1)) ;; *) NX=$((NX + 1)) ;; esac
	score T "$truth" "$(yn "$tr")"
	score L "$truth" "$(yn "$lr")"
	score A "$truth" "$(yn $((lr + la)))"
	score P "$truth" "$(yn "$pr")"
	tv=$([ "$(yn "$tr")" = 1 ] && echo race || echo -)
	lv=$([ "$(yn "$lr")" = 1 ] && echo race || echo -)
	want=$([ "$truth" = racy ] && echo race || echo -)
	if [ "$truth" != excluded ] && { [ "$lv" != "$want" ] || [ "$lv" != "$tv" ]; }; then
		DIFFS+=("$n|truth $truth, tsan $tv, lockwatch $lv|$vars")
	fi
	pv=$([ "$(yn "$pr")" = 1 ] && echo race || echo -)
	printf "%-28s %-10s %-6s %-9s %-5s %-6s %-6s %-6s %s\n" "$n" "$truth" "$tv" "$lv" "$la" "$pv" \
		"${ts// /:}" "${ls_// /:}" "${C_ARGS[$n]}"
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$n" "${C_SRC[$n]}" "${C_ARGS[$n]}" "$truth" \
		"$tr" "$ts" "$lr" "$la" "$ls_" "$vars" >>"$SUMMARY"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
echo
echo "== recall and precision over $((NR + NF)) programs ($NR racy, $NF race-free; $NX excluded) =="
printf "%-36s %4s %4s %4s %4s %8s %10s\n" tool TP FN FP TN recall precision
for t in "T|ThreadSanitizer (clang $CLANG_MAJOR)" "L|lockwatch hook mode, data-race" "A|lockwatch, data-race or atomicity" "P|lockwatch, no rebuild, no option"; do
	k=${t%%|*}
	tp=${CNT[$k:TP]} fn=${CNT[$k:FN]} fp=${CNT[$k:FP]} tn=${CNT[$k:TN]}
	printf "%-36s %4d %4d %4d %4d %8s %10s\n" "${t#*|}" "$tp" "$fn" "$fp" "$tn" \
		"$(ratio "$tp" $((tp + fn)))" "$(ratio "$tp" $((tp + fp)))"
done
echo
echo "== where lockwatch differs from the truth or from ThreadSanitizer (what it named) =="
for e in "${DIFFS[@]}"; do
	IFS='|' read -r n why vars <<<"$e"
	printf "  %-28s %-40s %s\n" "$n" "$why" "${vars:--}"
	printf "  %-28s truth: %s\n" "" "${T_REASON[$n]}"
done
echo
echo "Per-run output: $RES/CASE/{tsan,lw,plain}.{out,err,rc}, lw.json, plain.json; the table as TSV: $SUMMARY"
exit $fail
