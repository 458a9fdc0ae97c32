# Shared by bench/thirdparty.sh (races) and bench/thirdparty-misuse.sh (API misuse): the
# pinned Valgrind source, its download, checksum and extraction into $CACHE/src, the config.h
# that replaces Valgrind's configure, and the cases named by .vgtest files.  Sourced, not run.
# The sourcing script sets ME (its name, for messages) and, before thirdparty_cases, CASES
# and SELECTED; this file sets ROOT, BUILD, LOCKWATCH, CACHE, SRC, die, fetch.

VERSION=3.19.0
TARBALL=valgrind_$VERSION.orig.tar.bz2
TARBALL_SHA256=dd5e34486f1a483ff7be7300cc16b4d6b24690987877c3278d797534d6738f02
MIRROR=http://deb.debian.org/debian/pool/main/v/valgrind
DSC=valgrind_$VERSION-1.dsc
TOP=valgrind-$VERSION

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$PWD
BUILD=${LOCKWATCH_BUILD:-$ROOT/build}
LOCKWATCH=$BUILD/bin/lockwatch
CACHE=${LOCKWATCH_THIRDPARTY_CACHE:-$ROOT/build/thirdparty}
SRC=$CACHE/src/$TOP

die() {
	echo "$ME: $*" >&2
	exit 1
}

# thirdparty_fetch: downloads (once), verifies and extracts the sources; exits on failure.
thirdparty_fetch() {
mkdir -p "$CACHE" || die "cannot create $CACHE"
# ---- download, verify, extract ----

fetch() { # URL FILE
	if command -v curl >/dev/null; then
		curl -fsSL --retry 2 -o "$2.part" "$1"
	else
		wget -q -O "$2.part" "$1"
	fi && mv "$2.part" "$2"
}

if [ ! -f "$CACHE/$TARBALL" ] || ! echo "$TARBALL_SHA256  $CACHE/$TARBALL" | sha256sum -c --status; then
	echo "$ME: downloading $MIRROR/$TARBALL" >&2
	fetch "$MIRROR/$TARBALL" "$CACHE/$TARBALL" || die "cannot download $MIRROR/$TARBALL"
fi
if ! echo "$TARBALL_SHA256  $CACHE/$TARBALL" | sha256sum -c --status; then
	rm -f "$CACHE/$TARBALL"
	die "$TARBALL: SHA-256 is not $TARBALL_SHA256; removed"
fi
# The pinned sum is the one Debian's source package lists (the .dsc's PGP signature is not
# checked: no keyring here); a .dsc that disagrees is worth a loud warning.
if [ -f "$CACHE/$DSC" ] || fetch "$MIRROR/$DSC" "$CACHE/$DSC"; then
	grep -q "^ $TARBALL_SHA256 [0-9]* $TARBALL\$" "$CACHE/$DSC" ||
		echo "$ME: WARNING: $DSC does not list SHA-256 $TARBALL_SHA256" >&2
else
	echo "$ME: $DSC not reachable; using the pinned SHA-256" >&2
fi

if [ ! -f "$SRC/.extracted" ]; then
	rm -rf "$CACHE/src"
	mkdir -p "$CACHE/src" || die "cannot create $CACHE/src"
	tar -tjf "$CACHE/$TARBALL" >"$CACHE/members.txt" || die "cannot list $TARBALL"
	tar -xjf "$CACHE/$TARBALL" -C "$CACHE/src" --wildcards \
		"$TOP/helgrind/tests/*.c" "$TOP/helgrind/tests/*.h" "$TOP/helgrind/tests/*.vgtest" \
		"$TOP/drd/tests/*.c" "$TOP/drd/tests/*.h" "$TOP/drd/tests/*.vgtest" \
		"$TOP/include/valgrind.h" "$TOP/helgrind/helgrind.h" "$TOP/drd/drd.h" ||
		die "cannot extract $TARBALL"
	touch "$SRC/.extracted"
fi

# Valgrind's configure would write config.h; these are its answers for glibc 2.36 on Linux
# x86-64 (pthread_yield is deprecated there, but still declared: it is sched_yield).
cat >"$SRC/config.h.new" <<-'EOF'
	/* Written by lockwatch's bench/thirdparty.sh for glibc on Linux x86-64. */
	#define HAVE_ASM_UNISTD_H 1
	#define HAVE_BUILTIN_ATOMIC 1
	#define HAVE_PTHREAD_MUTEX_ERRORCHECK_NP 1
	#define HAVE_PTHREAD_MUTEX_RECURSIVE_NP 1
	#define HAVE_PTHREAD_MUTEX_TIMEDLOCK 1
	#define HAVE_PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP 1
	#define HAVE_PTHREAD_RWLOCK_TIMEDRDLOCK 1
	#define HAVE_PTHREAD_RWLOCK_TIMEDWRLOCK 1
	#define HAVE_PTHREAD_YIELD 1
	#define HAVE_TLS 1
EOF
mv "$SRC/config.h.new" "$SRC/config.h" || die "cannot write $SRC/config.h"
}

# thirdparty_cases: fills C_SRC[case], C_ARGS[case] and ALL from CASES, and SELECTED (when
# empty) with every case; exits on a case that does not exist.
thirdparty_cases() {
declare -gA C_SRC C_ARGS
ALL=()
for vgt in "${CASES[@]}"; do
	b=${vgt##*/}
	name=${b%.vgtest}
	[ -f "$SRC/$vgt" ] || die "no $vgt in $TARBALL"
	prog=$(sed -n 's/^prog: *//p' "$SRC/$vgt" | head -1)
	args=$(sed -n 's/^args: *//p' "$SRC/$vgt" | head -1)
	read -r p pargs <<<"$prog"
	dir=$(cd "$SRC/$(dirname "$vgt")/$(dirname "$p")" && pwd) || die "$vgt: bad prog: $prog"
	src=${dir#"$SRC"/}/$(basename "$p").c
	[ -f "$SRC/$src" ] || die "$vgt: no source $src"
	C_SRC[$name]=$src
	C_ARGS[$name]=$(echo "${pargs:-} $args" | sed 's/^ *//; s/ *$//')
	ALL+=("$name")
done
if [ ${#SELECTED[@]} -gt 0 ]; then
	for n in "${SELECTED[@]}"; do
		[ -n "${C_SRC[$n]:-}" ] || die "no case $n (the cases are: ${ALL[*]})"
	done
else
	SELECTED=("${ALL[@]}")
fi
}
