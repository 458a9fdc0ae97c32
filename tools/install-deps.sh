#!/bin/sh
# Installs the Debian packages lockwatch needs to build and test, if any is missing.
set -e
pkgs="gcc make libunwind-dev libdw-dev libelf-dev libcriterion-dev libjansson-dev jq mandoc"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "lockwatch: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "lockwatch: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
