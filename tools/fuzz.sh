#!/bin/sh
# Runs a fuzz target (FUZZER, default build/fuzz/fuzz_trace_reader) for SECONDS (first
# argument) on its seed corpus plus whatever earlier runs added in build/fuzz/corpus*:
# tests/fuzz/corpus (real traces) for the trace reader, tests/fuzz/corpus-NAME for
# build/fuzz/fuzz_NAME (issue 24: suppressions, baseline, env_options).  Every seed is run
# first, so an input that once crashed (crash-*.trace and the like, kept there) is a
# regression test.  A crash, a sanitizer report, a leak, an input slower than 10 s or one
# that makes the analyzer use more than 2 GB fails the run; libFuzzer leaves the input in
# build/fuzz/ (crash-*, leak-*, timeout-*, oom-*): reproduce with FUZZER FILE.
# Exits with libFuzzer's status: 0 when the run was clean.
set -e
seconds=${1:-20}
bin=${FUZZER:-build/fuzz/fuzz_trace_reader}
name=$(basename "$bin")
name=${name#fuzz_}
if [ "$name" = trace_reader ]; then corpus=corpus; else corpus=corpus-$name; fi
mkdir -p "build/fuzz/$corpus"
cp "tests/fuzz/$corpus"/* "build/fuzz/$corpus/"
cd build/fuzz
echo "fuzz: $bin for $seconds s on $(ls "$corpus" | wc -l) inputs"
status=0
"./$(basename "$bin")" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -print_final_stats=1 "$corpus" 2>"fuzz-$name.log" || status=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' "fuzz-$name.log" || true
if [ "$status" != 0 ]; then
	tail -n 40 "fuzz-$name.log" >&2
	echo "fuzz: failed (status $status); inputs left in build/fuzz/" >&2
fi
exit $status
