#!/bin/sh
# The sqlite3 shell from three processes at once on one database, none of them ordered
# before the others: the file starts empty (an empty file is an empty SQLite database) and
# each writer creates the table if it is missing and inserts its rows, SQLite's file locks
# and busy timeout ordering them.  A read-only shell counts the rows afterwards.
set -e
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lw-sqlite-par.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/t.db
: >"$db"
writer() {
	i=0
	sql=".timeout 60000
create table if not exists t (who text, n integer);
"
	while [ $i -lt 50 ]; do
		sql="${sql}insert into t values ('$1', $i);
"
		i=$((i + 1))
	done
	printf '%s' "$sql" | sqlite3 "$db"
}
writer par1 & p1=$!
writer par2 & p2=$!
writer par3 & p3=$!
wait $p1 $p2 $p3
sqlite3 -readonly "$db" "select count(*), sum(n) from t;"
