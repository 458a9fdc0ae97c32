#!/bin/sh
# The sqlite3 command-line shell on one database file from processes one after the other (the
# shell waits for each): one creates the table, three insert rows, and a reader checks them
# (rollback journal).  Prints the row counts.  tests/real/sqlite_cli_concurrent.sh runs
# shells at once.
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
writer seq3
sqlite3 "$db" "select substr(who, 1, 3), count(*), sum(n) from t group by 1 order by 1;"
sqlite3 "$db" "pragma integrity_check;"
