#!/bin/sh
# coreutils sort with four threads (its merge tree of mutexes and condition variables) on
# 300,000 pseudo-random lines from a fixed seed, with a small buffer so that it merges
# temporary files too.  Prints the checksum of the sorted output.
set -e
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lw-sort.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
awk 'BEGIN { x = 12345; for (i = 0; i < 300000; i++) { x = (x * 1103515245 + 12345) % 2147483648; print x } }' >"$tmp/in"
sort --parallel=4 -S 2M -T "$tmp" "$tmp/in" | cksum
sort --parallel=4 -n -u -S 2M -T "$tmp" "$tmp/in" | cksum
