#!/bin/sh
# `make demo`: lockwatch on the lesson's bank and transfer samples, with the reports.
# Run from the repository root after `make`.
lw=build/bin/lockwatch
dir=$(mktemp -d /tmp/lockwatch-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM

# "$1" names a trace directory; the rest is the command line.
show_named() {
	name=$1
	shift
	echo
	echo "================================================================================"
	echo "\$ lockwatch run $*"
	echo "================================================================================"
	"$lw" run --trace-dir "$dir/$name" "$@" 2>&1
	echo "(lockwatch exit status: $?)"
}

show_named transfer -- build/samples/transfer_a_to_b
show_named ordered -- build/samples/transfer_ordered
show_named bank -- build/samples/bank_withdraw
show_named split -- build/samples/bank_withdraw_split
show_named fixed -- build/samples/bank_withdraw_fixed
show_named deadlock -- build/samples/deadlock_lock_order
exit 0
