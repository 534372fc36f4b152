#!/usr/bin/env bash
# Resident import throughput into SQLite and PostgreSQL, against each database's own bulk
# loader on the same file and the same indexed table (sqlite3 .import, psql \copy), which
# validate nothing: the ratio is what validation, upsert and reject handling cost.
#   bash bench/import.sh            # SCALE=0.06 (≈ 1 million rows) by default
source "$(dirname "$0")/common.sh"
ensure_data
echo "input: $RESIDENTS ($ROWS rows)"

SQLITE_DB="$OUT/import.db"
prep_sqlite="rm -f $SQLITE_DB*; $BIN --database sqlite://$SQLITE_DB import orgunits $OUT/orgunits.csv >/dev/null"
copy_sqlite="sqlite3 $SQLITE_DB '.mode csv' '.import --skip 1 $RESIDENTS staging' \
  'INSERT INTO residents (id_type,id_number,name,sex,birth_date,phone,community_code,residence) SELECT * FROM staging' 'DROP TABLE staging'"
# The staging table for the reference loader must exist with the CSV's columns.
copy_sqlite_full="$prep_sqlite; sqlite3 $SQLITE_DB 'CREATE TABLE staging (id_type,id_number,name,sex,birth_date,phone,community_code,residence)'"

hyperfine --runs 3 --export-json "$OUT/import-sqlite.json" \
  --prepare "$prep_sqlite" -n "healthcity import (SQLite)" "$BIN --database sqlite://$SQLITE_DB import residents $RESIDENTS" \
  --prepare "$copy_sqlite_full" -n "sqlite3 .import (reference)" "$copy_sqlite"

PG_DB="$PG/hc_bench_import"
prep_pg="psql -q $PG/postgres -c 'DROP DATABASE IF EXISTS hc_bench_import' -c 'CREATE DATABASE hc_bench_import' && $BIN --database $PG_DB import orgunits $OUT/orgunits.csv >/dev/null"
copy_pg="psql -q $PG_DB -c \"\\copy residents(id_type,id_number,name,sex,birth_date,phone,community_code,residence) FROM '$RESIDENTS' CSV HEADER\""
hyperfine --runs 3 --export-json "$OUT/import-postgres.json" \
  --prepare "$prep_pg" -n "healthcity import (PostgreSQL)" "$BIN --database $PG_DB import residents $RESIDENTS" \
  --prepare "$prep_pg" -n "psql \\copy (reference)" "$copy_pg"

report() {
  jq -r --argjson rows "$ROWS" '.results as $r | ($r[0].mean) as $ours | ($r[1].mean) as $ref |
    "\($r[0].command): \($ours*100|round/100) s = \($rows/$ours|round) rows/s; \($r[1].command): \($ref*100|round/100) s = \($rows/$ref|round) rows/s; time ratio ours/reference = \($ours/$ref*100|round/100)"' "$1"
}
echo; echo "== resident import, $ROWS rows"
report "$OUT/import-sqlite.json"
report "$OUT/import-postgres.json"
