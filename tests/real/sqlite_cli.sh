#!/bin/sh
# The sqlite3 command-line shell on one database file from several processes: one after the
# other, then four at once (rollback journal, busy timeout), then a reader while writers
# write.  Prints the row counts, which do not depend on the schedule.
set -e
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lw-sqlite-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/t.db
sqlite3 "$db" "create table t (who text, n integer);"
writer() {
	i=0
	sql=".timeout 60000
"
	while [ $i -lt 50 ]; do
		sql="${sql}insert into t values ('$1', $i);
"
		i=$((i + 1))
	done
	printf '%s' "$sql" | sqlite3 "$db"
}
writer seq1
writer seq2
writer par1 & p1=$!
writer par2 & p2=$!
writer par3 & p3=$!
writer par4 & p4=$!
printf '.timeout 60000\nselect count(*) >= 0 from t;\n' | sqlite3 "$db" >/dev/null
wait $p1 $p2 $p3 $p4
sqlite3 "$db" "select substr(who, 1, 3), count(*), sum(n) from t group by 1 order by 1;"
sqlite3 "$db" "pragma integrity_check;"
