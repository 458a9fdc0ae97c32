#!/bin/sh
# Runs the trace reader's fuzz target for SECONDS (first argument) on the seed corpus
# (tests/fuzz/corpus: real traces) plus whatever earlier runs added in build/fuzz/corpus.
# A crash, a sanitizer report, a leak, an input slower than 10 s or one that makes the
# analyzer use more than 2 GB fails the run; libFuzzer leaves the input in build/fuzz/
# (crash-*, leak-*, timeout-*, oom-*): reproduce with build/fuzz/fuzz_trace_reader FILE.
# Exits with libFuzzer's status: 0 when the run was clean.
set -e
seconds=${1:-20}
bin=${FUZZER:-build/fuzz/fuzz_trace_reader}
mkdir -p build/fuzz/corpus
cp tests/fuzz/corpus/* build/fuzz/corpus/
cd build/fuzz
echo "fuzz: $bin for $seconds s on $(ls corpus | wc -l) inputs"
status=0
"./$(basename "$bin")" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -print_final_stats=1 corpus 2>fuzz.log || status=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' fuzz.log || true
if [ "$status" != 0 ]; then
	tail -n 40 fuzz.log >&2
	echo "fuzz: failed (status $status); inputs left in build/fuzz/" >&2
fi
exit $status
