#!/usr/bin/env bash
# Primary care at city scale: the demo city at $SCALE (≈ 1.05 million residents, ≈ 150,000
# hypertension and 60,000 diabetes patients with three years of follow-ups), on SQLite and
# PostgreSQL.
#  1. `healthcity indicators --year Y` (every indicator, whole city; and by street), timed by
#     hyperfine: the target is under 2 s on both backends.
#  2. A family doctor's worklist page (/care/teams/{id}, logged in), one doctor at a time and
#     8 at once (wrk): the target is under 50 ms.
source "$(dirname "$0")/common.sh"
TODAY=${TODAY:-2026-11-23}
YEAR=${YEAR:-2025}
DURATION=${DURATION:-15s}
ADDR=127.0.0.1:18081

build() { # name, database URL
  local name=$1 db=$2
  if [ "$name" = sqlite ]; then
    [ -s "$OUT/care.db" ] && return
  else
    psql "$PG/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname = 'hc_bench_care'" | grep -q 1 && return
    psql "$PG/postgres" -qc "CREATE DATABASE hc_bench_care"
  fi
  echo "== building the demo city at scale $SCALE on $name" >&2
  /usr/bin/time -f "$name demo: wall %e s, peak RSS %M KiB" "$BIN" --database "$db" demo --scale "$SCALE" --no-serve >"$OUT/care-demo-$name.log" 2>&1 \
    || { tail -n 20 "$OUT/care-demo-$name.log"; exit 1; }
  tail -n 1 "$OUT/care-demo-$name.log" >&2
}

SQLITE="sqlite://$OUT/care.db"
POSTGRES="$PG/hc_bench_care"
build sqlite "$SQLITE"
build postgres "$POSTGRES"

echo "== population (SQLite)"
sqlite3 "$OUT/care.db" "SELECT 'residents', COUNT(*) FROM residents UNION ALL
  SELECT 'enrolled ' || program, COUNT(*) FROM enrolments GROUP BY program UNION ALL
  SELECT 'follow-ups', COUNT(*) FROM followups UNION ALL SELECT 'contracts', COUNT(*) FROM contracts"

for pair in "sqlite $SQLITE" "postgres $POSTGRES"; do
  set -- $pair
  "$BIN" --database "$2" migrate >/dev/null
  echo; echo "== $1: indicators of $YEAR"
  "$BIN" --database "$2" indicators --year "$YEAR" --today "$TODAY" | tee "$OUT/care-indicators-$1.csv"
  hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-json "$OUT/care-hyperfine-$1.json" \
    -n "$1 city" "$BIN --database $2 indicators --year $YEAR --today $TODAY" \
    -n "$1 by street" "$BIN --database $2 indicators --year $YEAR --today $TODAY --level street"
done
cmp <(cut -d, -f1,2,4,5 "$OUT/care-indicators-sqlite.csv") <(cut -d, -f1,2,4,5 "$OUT/care-indicators-postgres.csv") \
  && echo "SQLite and PostgreSQL agree on every figure"

worklist() { # name, database URL
  local name=$1 db=$2
  "$BIN" --database "$db" serve --listen "$ADDR" >"$OUT/care-serve-$name.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 1 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.1; done
  # Log in as the demo family doctor (password from the README), as a browser does.
  local jar="$OUT/care-cookies-$name.txt"; rm -f "$jar"
  local csrf
  csrf=$(curl -sf -c "$jar" "http://$ADDR/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
  curl -sf -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "next=/" \
    --data-urlencode "username=doctor" --data-urlencode "password=Demo-2026!" --data-urlencode "totp=" "http://$ADDR/login"
  local cookie
  cookie=$(awk '$6 ~ /session/ {print $6 "=" $7}' "$jar" | head -n 1)
  [ -n "$cookie" ] || { echo "login failed"; exit 1; }
  # The doctor's busiest team.
  local team
  team=$(curl -sf -b "$jar" "http://$ADDR/api/v1/care/teams" | jq '.[0].id // .items[0].id')
  local items
  items=$(curl -sf -b "$jar" "http://$ADDR/api/v1/care/teams/$team/worklist?date=$TODAY" | jq '.items | length')
  echo; echo "== $name: team $team worklist: $items items; page /care/teams/$team (1 and 8 connections, $DURATION)"
  wrk -t2 -c8 -d5s -H "Cookie: $cookie" "http://$ADDR/care/teams/$team?date=$TODAY" >/dev/null
  wrk -t1 -c1 -d"$DURATION" --latency -H "Cookie: $cookie" "http://$ADDR/care/teams/$team?date=$TODAY" | tee "$OUT/care-worklist-1-$name.txt"
  wrk -t2 -c8 -d"$DURATION" --latency -H "Cookie: $cookie" "http://$ADDR/care/teams/$team?date=$TODAY" | tee "$OUT/care-worklist-8-$name.txt"
  kill $pid; wait $pid 2>/dev/null || true
}
need /usr/bin/time time
worklist sqlite "$SQLITE"
worklist postgres "$POSTGRES"

echo
for f in "$OUT"/care-hyperfine-*.json; do
  jq -r '.results[] | "\(.command): mean \(.mean * 1000 | floor) ms ± \(.stddev * 1000 | floor) ms"' "$f"
done
for f in "$OUT"/care-worklist-*.txt; do
  echo "$(basename "$f" .txt): p50 $(awk '$1=="50%"{print $2}' "$f"), p99 $(awk '$1=="99%"{print $2}' "$f"), $(awk '/Requests\/sec/{print $2}' "$f") req/s, non-2xx: $(awk '/Non-2xx/{print $NF}' "$f")"
done
