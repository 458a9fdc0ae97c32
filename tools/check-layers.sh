#!/bin/sh
# Holds the layers' arrows down (README.md, "Layout"): each folder's .c and .h files include
# project headers only from their own folder and from the folders its row of RULES allows,
# and RULES itself has no circle, so no chain of includes goes round between folders.
# `make test` runs it; it prints every violation and exits 1 if there is one.
#
# With --objects OBJ... (the build's objects, after the build), it checks the calls too: no
# object calls a function, or uses a variable, that a folder it may not use defines (a local
# extern declaration would get past the include check).
cd "$(dirname "$0")/.." || exit 2
objects=false
if [ "${1:-}" = --objects ]; then
	objects=true
	shift
fi

# folder: the folders below it that it may use.  A new folder needs a row (the check says so);
# a new arrow must point down, or the check of the table fails.
RULES='
common:
include:
hooks:
shim/core: common
shim/locks: shim/core common
shim/access: shim/locks shim/core common include hooks
analyzer/base:
analyzer/trace: analyzer/base common
analyzer/detect: analyzer/trace analyzer/base common
analyzer/report: analyzer/detect analyzer/trace analyzer/base common
cc: analyzer/base
analyzer/cli: cc analyzer/report analyzer/detect analyzer/trace analyzer/base common
'

status=0
fail() {
	echo "check-layers: $*" >&2
	status=1
}

# The table has no circle: take away, again and again, the folders whose every allowed folder
# is already taken away; what is left over lies on a circle.
left=$(echo "$RULES" | awk -F: 'NF { print }')
while :; do
	ready=$(echo "$left" | awk -F: '
		NF { rows[$1] = $2; order[++n] = $1 }
		END {
			for (i = 1; i <= n; i++) {
				k = split(rows[order[i]], dep, " "); ok = 1
				for (j = 1; j <= k; j++) if (dep[j] in rows) ok = 0
				if (ok) print order[i]
			}
		}')
	[ -z "$ready" ] && break
	left=$(echo "$left" | awk -F: -v ready="$ready" '
		BEGIN { n = split(ready, r, "\n"); for (i = 1; i <= n; i++) gone[r[i]] = 1 }
		NF && !($1 in gone) { print }')
done
[ -n "$left" ] && fail "RULES has a circle among: $(echo "$left" | cut -d: -f1 | tr '\n' ' ')"

# Each include is resolved as the compiler does: the including file's own folder first, then
# the Makefile's -I roots (shim: -Ishim -Ihooks; analyzer and cc: -Ianalyzer -I.; both
# -Icommon -Iinclude).
headers=$(find shim analyzer cc common hooks include -name '*.h')
find shim analyzer cc common hooks include -name '*.[ch]' | sort | awk -v rules="$RULES" -v headers="$headers" '
	BEGIN {
		n = split(rules, row, "\n")
		for (i = 1; i <= n; i++) {
			if (split(row[i], kv, ":") < 2) continue
			has[kv[1]] = 1; allow[kv[1]] = " " kv[2] " "
		}
		n = split(headers, h, "\n")
		for (i = 1; i <= n; i++) exists[h[i]] = 1
	}
	function roots(file) {
		if (file ~ /^shim\//) return "shim hooks common include"
		if (file ~ /^(analyzer|cc)\//) return "analyzer . common include"
		return "common include"
	}
	{
		file = $0; dir = file; sub(/\/[^\/]*$/, "", dir)
		if (!(dir in has)) {
			printf "check-layers: %s: folder %s has no row in tools/check-layers.sh'"'"'s RULES (what may it use?)\n", file, dir > "/dev/stderr"
			bad = 1; next
		}
		nr = split(dir " " roots(file), root, " ")
		line = 0
		while ((getline l < file) > 0) {
			line++
			if (l !~ /^[ \t]*#[ \t]*include[ \t]*"/) continue
			inc = l; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
			target = ""
			for (i = 1; i <= nr && target == ""; i++) {
				t = root[i] == "." ? inc : root[i] "/" inc
				if (t in exists) target = t
			}
			if (target == "") {
				printf "check-layers: %s:%d: #include \"%s\" names no header of the tree\n", file, line, inc > "/dev/stderr"
				bad = 1; continue
			}
			tdir = target; sub(/\/[^\/]*$/, "", tdir)
			if (tdir == dir || index(allow[dir], " " tdir " ")) continue
			a = allow[dir]; gsub(/^ +| +$/, "", a)
			printf "check-layers: %s:%d: #include \"%s\": %s may not use %s (it may use: %s); the arrows point down, see README.md, \"Layout\"\n", file, line, inc, dir, tdir, a == "" ? "nothing" : a > "/dev/stderr"
			bad = 1
		}
		close(file)
	}
	END { exit bad }' || status=1

if $objects; then
	# One line a symbol: the object's component (shim or an), its folder, D(efined) or
	# U(sed), the name, the object (build/obj/shim/shim/core/init.o: shim, shim/core).  Only
	# the project's own names (lw_*): a call to open() or sigaction() reaches the shim's
	# wrapper of the C library's function, not a layer.
	nm -A "$@" | awk '
		NF == 3 && $3 ~ /^lw_/ && ($2 == "U" || $2 ~ /^[BDRTV]$/) {
			file = $1; sub(/:[^:]*$/, "", file)
			obj = file; sub(/^.*\/obj\//, "", obj)
			c = obj; sub(/\/.*/, "", c)
			d = obj; sub(/^[^\/]*\//, "", d); sub(/\/[^\/]*$/, "", d)
			print c, d, ($2 == "U" ? "U" : "D"), $3, file
		}' | awk -v rules="$RULES" '
		BEGIN {
			n = split(rules, row, "\n")
			for (i = 1; i <= n; i++)
				if (split(row[i], kv, ":") >= 2) allow[kv[1]] = " " kv[2] " "
		}
		$3 == "D" { def[$1 " " $4] = $2; next }
		{ use[++n_use] = $0 }
		END {
			for (i = 1; i <= n_use; i++) {
				split(use[i], f, " ")
				t = def[f[1] " " f[4]]
				if (t == "" || t == f[2] || index(allow[f[2]], " " t " ")) continue
				printf "check-layers: %s uses %s, which %s defines: %s may not use %s\n", f[5], f[4], t, f[2], t > "/dev/stderr"
				bad = 1
			}
			exit bad
		}' || status=1
	[ $status = 0 ] && echo "check-layers: every include and every call points down"
else
	[ $status = 0 ] && echo "check-layers: every include points down"
fi
exit $status
