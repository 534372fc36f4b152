#!/usr/bin/env bash
# A full daily detection run at Beijing's scale: 8,941 sentinel communities (the primary-care
# institutions of Beijing's symptom-registration system) in 16 districts and 336 streets,
# eight syndromes plus the all-visits denominator, three years of daily counts stored, and
# `healthcity surveillance run --date D` timed end to end (reads, every stream at community,
# street, district and city level, the space-time scan, writes) on SQLite and PostgreSQL.
# The target is under 60 s.
#
# The counts are generated in the database (seasonal, weekday-shaped, roughly Poisson), not
# ingested: ingest speed is bench/feeds.sh's business. Zero counts are not stored, as ingest
# does not store them.
source "$(dirname "$0")/common.sh"
need python3 python3
DAY=${DAY:-2026-12-06}
YEARS=${YEARS:-3}
SQLITE_DB="$OUT/surveillance.db"
PG_NAME=hc_bench_surveillance
PG_DB="$PG/$PG_NAME"

# The org tree: 16 districts, 21 streets each (336), 26–27 communities a street (8,941).
ORG="$OUT/beijing-orgunits.csv"
python3 - > "$ORG" <<'PY'
import csv, sys
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["code", "name", "parent_code", "level", "valid_from", "valid_to"])
out.writerow(["110100", "北京市", "", "city", "", ""])
communities = 8941
streets = [(d, s) for d in range(1, 17) for s in range(1, 22)]
for d in range(1, 17):
    out.writerow([f"1101{d:02d}", f"第{d}区", "110100", "district", "", ""])
for i, (d, s) in enumerate(streets):
    out.writerow([f"1101{d:02d}{s:03d}", f"第{d}区第{s}街道", f"1101{d:02d}", "street", "", ""])
for i, (d, s) in enumerate(streets):
    n = communities // len(streets) + (1 if i < communities % len(streets) else 0)
    for c in range(1, n + 1):
        out.writerow([f"1101{d:02d}{s:03d}{c:03d}", f"第{d}区第{s}街道第{c}社区",
                      f"1101{d:02d}{s:03d}", "community", "", ""])
PY

# Daily means per community and code, shaped by season (winter peak) and weekday.
COUNTS_SQL="
WITH codes(code, mean) AS (VALUES ('*', 40.0), ('fever', 4.0), ('ili', 1.5), ('gi', 1.2),
       ('rash', 0.3), ('conjunctivitis', 0.2), ('jaundice', 0.03), ('neuro', 0.02), ('fever_haem', 0.01)),
     shaped AS (
       SELECT c.code, o.code AS community_code, d.day,
              c.mean * (1.0 + 0.4 * cos(2 * pi() * (d.n % 365) / 365.0)) * (CASE WHEN d.n % 7 IN (5, 6) THEN 0.7 ELSE 1.08 END) AS lambda
       FROM codes c CROSS JOIN orgunits o CROSS JOIN days d
       WHERE o.level = 'community'),
     drawn AS (
       SELECT code, community_code, day,
              CASE WHEN lambda < 0.6 THEN (CASE WHEN UNIFORM < lambda THEN 1 ELSE 0 END)
                   ELSE CAST(round(max0(lambda + sqrt(lambda) * (UNIFORM2 + UNIFORM2 + UNIFORM2))) AS INTEGER) END AS value
       FROM shaped)
INSERT INTO surv_counts (feed, code, community_code, day, value)
SELECT 'visits', code, community_code, day, value FROM drawn WHERE value > 0
ORDER BY code, community_code, day"

# Label points for the scan: a grid over the city.
POINTS_SQL="INSERT INTO org_shapes (code, geometry, x, y, source)
SELECT code, '{\"type\":\"Point\",\"coordinates\":[0,0]}', 116.0 + (rn % 95) * 0.01, 39.6 + (rn / 95) * 0.01, 'bench'
FROM (SELECT code, row_number() OVER (ORDER BY code) AS rn FROM orgunits WHERE level = 'community') t"

build() { # backend
  local days_sql
  case "$1" in
    sqlite)
      rm -f "$SQLITE_DB"*
      "$BIN" --database "sqlite://$SQLITE_DB" import orgunits "$ORG" >/dev/null
      days_sql="WITH RECURSIVE days(n, day) AS (SELECT 0, date('$DAY', '-$((YEARS * 365 + 1)) days')
                UNION ALL SELECT n + 1, date(day, '+1 day') FROM days WHERE day < '$DAY')"
      local sql=${COUNTS_SQL//UNIFORM2/((abs(random()) % 2000000) \/ 1000000.0 - 1.0)}
      sql=${sql//UNIFORM/((abs(random()) % 1000000) \/ 1000000.0)}
      sql=${sql//max0(/max(0, }
      sql=${sql//pi()/3.141592653589793}
      sqlite3 -bail "$SQLITE_DB" "DELETE FROM surv_counts; DELETE FROM surv_dirty; DELETE FROM org_shapes;
        ${days_sql}, ${sql#*WITH} ; ${POINTS_SQL}; ANALYZE;" ;;
    postgres)
      psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $PG_NAME" -c "CREATE DATABASE $PG_NAME"
      "$BIN" --database "$PG_DB" import orgunits "$ORG" >/dev/null
      days_sql="WITH days(n, day) AS (SELECT n, DATE '$DAY' - ($((YEARS * 365 + 1)) - n)
                FROM generate_series(0, $((YEARS * 365 + 1))) AS n)"
      local sql=${COUNTS_SQL//UNIFORM2/(random() * 2.0 - 1.0)}
      sql=${sql//UNIFORM/random()}
      sql=${sql//max0(/greatest(0, }
      psql -q -v ON_ERROR_STOP=1 "$PG_DB" -c "DELETE FROM surv_counts" -c "DELETE FROM org_shapes" \
        -c "${days_sql}, ${sql#*WITH}" -c "${POINTS_SQL}" -c "ANALYZE" ;;
  esac
}

for backend in ${BACKENDS:-sqlite postgres}; do
  case "$backend" in sqlite) db="sqlite://$SQLITE_DB" ;; postgres) db="$PG_DB" ;; esac
  echo "== $backend: generating $YEARS years of counts for 8,941 communities"
  start=$(date +%s)
  build "$backend"
  case "$backend" in
    sqlite) rows=$(sqlite3 "$SQLITE_DB" "SELECT count(*) FROM surv_counts") ;;
    postgres) rows=$(psql -qAt "$PG_DB" -c "SELECT count(*) FROM surv_counts") ;;
  esac
  echo "   $rows count rows in $(( $(date +%s) - start ))s"
  prev=$(date -d "$DAY - 1 day" +%F)
  echo "== $backend: the run of $prev (first run, untimed), then the run of $DAY"
  "$BIN" --database "$db" surveillance run --date "$prev" > "$OUT/surveillance-$backend-prev.txt"
  /usr/bin/time -f "   %e s wall, %M KiB peak memory" \
    "$BIN" --database "$db" surveillance run --date "$DAY" 2>&1 | tee "$OUT/surveillance-$backend.txt"
  echo "== $backend: the same day again, re-evaluated (signals updated, none duplicated)"
  /usr/bin/time -f "   %e s wall, %M KiB peak memory" \
    "$BIN" --database "$db" surveillance run --from "$DAY" --date "$DAY" 2>&1 | tee -a "$OUT/surveillance-$backend.txt"
done
