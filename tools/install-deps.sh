#!/bin/sh
# Installs the Debian packages lockwatch needs to build and test, if any is missing.
set -e
cd "$(dirname "$0")/.."

# The official SARIF validator (npm @microsoft/sarif-multitool, pinned in tools/sarif/), for
# tests/integration/test_sarif.c; installed under tools/sarif/node_modules (not committed).
sarif_validator() {
	[ -x tools/sarif/node_modules/.bin/sarif-multitool ] && return 0
	echo "lockwatch: installing the SARIF validator into tools/sarif" >&2
	(cd tools/sarif && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
		{ echo "lockwatch: warning: npm ci in tools/sarif failed; test_sarif will fail" >&2; return 0; }
	# Its postinstall script (chmod u+x) may not run under npm's script policy.
	chmod a+x tools/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool \
		2>/dev/null || true
}
pkgs="gcc g++ make libunwind-dev libdw-dev libelf-dev libcriterion-dev libjansson-dev jq mandoc clang libclang-rt-14-dev graphviz"
# C11 threads and GLib under the shim (tests/integration/test_thread_apis.c): GLib's headers.
pkgs="$pkgs pkg-config libglib2.0-dev"
# python3: tests/integration/test_sem_signals.c and bench/run.sh run a CPython queue.Queue hand-off.
# Real programs (tests/real/, tests/integration/test_real.c, test_pshared.c, test_path_calls.c):
# CPython's threading, sqlite3, LMDB (python3-lmdb), and GLib's installed tests.
pkgs="$pkgs python3 python3-lmdb sqlite3 libglib2.0-tests"
# Issue 20: Zydis, the x86 decoder of shim/access/decode.c.
pkgs="$pkgs libzydis-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm installs the SARIF validator below; a Node.js from elsewhere (nodesource, nvm) will do.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && { sarif_validator; exit 0; }
if [ "$(id -u)" != 0 ]; then
	echo "lockwatch: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "lockwatch: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
sarif_validator
