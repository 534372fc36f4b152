#!/usr/bin/env bash
# Audited single-record reads (issue #5): GET /api/v1/residents/{id} by a cdc_analyst API token,
# every answer preceded by one committed audit event, at 32 concurrent connections (wrk), on a
# city of ≈ 1 million residents, on SQLite and on PostgreSQL. Target: p99 < 10 ms.
#
# Per backend: load the city into a database of its own (a copy of bench/import.sh's database
# when that one is complete, else a fresh import of the same CSVs), create the token, serve,
# then RUNS × (5 s warm-up + DURATION measured). After every wrk run the audit_events table must
# have grown by the number of 200 answers the server counted (its /metrics), plus at most one
# per connection: reads audited whose answer was cancelled when wrk closed the connections at its
# stop (the event is committed before the answer, so an answer is never sent without its row). For comparison, the same
# load on an unaudited single-record read (GET /api/v1/orgunits/{code}), COMPARE_RUNS times.
#
#   bash bench/audit.sh                   # both backends
#   BACKENDS=sqlite bash bench/audit.sh   # one of sqlite, postgres
#   PERF=1 bash bench/audit.sh            # plus a perf profile of the server under load
#   KEEP=1 bash bench/audit.sh            # keep the bench databases
source "$(dirname "$0")/common.sh"
ensure_data
RUNS=${RUNS:-3}
COMPARE_RUNS=${COMPARE_RUNS:-1}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
CONNS=${CONNS:-32}
THREADS=${WRK_THREADS:-2}
BACKENDS=${BACKENDS:-sqlite postgres}
ADDR=127.0.0.1:${PORT:-18081}
SQLITE_DB="$OUT/audit.db"
PG_NAME=hc_bench_audit
PG_DB="$PG/$PG_NAME"
RESULTS="$OUT/audit-results.txt"
: > "$RESULTS"

# Count of rows; $1 = backend, $2 = SQL.
q() {
  case $1 in
    sqlite) sqlite3 "$SQLITE_DB" "$2" ;;
    postgres) psql -qAt "$PG_DB" -c "$2" ;;
  esac
}

# A loaded city in the bench database: a copy of bench/import.sh's when it holds every resident
# and nothing else is writing it (the copy is what gets audit rows, never the original), else a
# fresh import. The original is never modified.
load_sqlite() {
  rm -f "$SQLITE_DB" "$SQLITE_DB-wal" "$SQLITE_DB-shm"
  if [ -f "$OUT/import.db" ] && [ "$(sqlite3 "$OUT/import.db" 'SELECT count(*) FROM residents' 2>/dev/null)" = "$ROWS" ]; then
    echo "sqlite: copying $OUT/import.db ($ROWS residents)"
    sqlite3 "$OUT/import.db" ".backup '$SQLITE_DB'"
  else
    echo "sqlite: importing $ROWS residents"
    "$BIN" --database "sqlite://$SQLITE_DB" import orgunits "$OUT/orgunits.csv" >/dev/null
    "$BIN" --database "sqlite://$SQLITE_DB" import residents "$RESIDENTS" >/dev/null
  fi
}
load_postgres() {
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $PG_NAME" 2>/dev/null
  local src=hc_bench_import
  if [ "$(psql -qAt "$PG/$src" -c 'SELECT count(*) FROM residents' 2>/dev/null)" = "$ROWS" ] &&
     [ "$(psql -qAt "$PG/postgres" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$src'")" = 0 ] &&
     psql -q "$PG/postgres" -c "CREATE DATABASE $PG_NAME TEMPLATE $src" 2>/dev/null; then
    echo "postgres: copied $src ($ROWS residents)"
  else
    echo "postgres: importing $ROWS residents"
    psql -q "$PG/postgres" -c "CREATE DATABASE $PG_NAME"
    "$BIN" --database "$PG_DB" import orgunits "$OUT/orgunits.csv" >/dev/null
    "$BIN" --database "$PG_DB" import residents "$RESIDENTS" >/dev/null
  fi
  psql -q "$PG_DB" -c "VACUUM ANALYZE"
}
drop_db() {
  [ -n "${KEEP:-}" ] && return
  case $1 in
    sqlite) rm -f "$SQLITE_DB" "$SQLITE_DB-wal" "$SQLITE_DB-shm" ;;
    postgres) psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $PG_NAME" ;;
  esac
}

# Server-side count of answers to route $1 with status $2 (a Prometheus counter).
served() {
  curl -sf "http://$ADDR/metrics" | awk -v r="route=\"$1\"" -v s="status=\"$2\"" \
    '/^http_requests_total/ && index($0, r) && index($0, s) {n += $NF} END {printf "%d\n", n}'
}
# Server-side share of requests to route $1 answered within $2 seconds (histogram bucket).
bucket() {
  curl -sf "http://$ADDR/metrics" | awk -v r="route=\"$1\"" -v le="le=\"$2\"" '
    /^http_request_duration_seconds_bucket/ && index($0, r) && index($0, le) {n += $NF}
    /^http_request_duration_seconds_count/ && index($0, r) {c += $NF}
    END {printf "%d %d\n", n, c}'
}
# wrk's latency percentile $2 (e.g. 99%) from report $1, in milliseconds.
pct_ms() {
  awk -v p="$2" '$1 == p {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1;
    printf "%.2f\n", v * f}' "$1"
}

# One wrk run; $1 backend, $2 label, $3 duration, $4 route (for /metrics), $5 mode. Prints and
# records a line with rps, p50, p99, and the audit check.
wrk_run() {
  local name=$1 label=$2 dur=$3 route=$4 mode=$5
  local report="$OUT/audit-$name-$label.txt"
  local a0 s0 b0 a1 s1 b1
  a0=$(q "$name" 'SELECT count(*) FROM audit_events'); s0=$(served "$route" 200); b0=$(bucket "$route" 0.01)
  MODE=$mode TOKEN="$TOKEN" MIN_ID=$MIN_ID MAX_ID=$MAX_ID CODES="$OUT/audit-codes.txt" \
    wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency -s bench/audit.lua "http://$ADDR" > "$report"
  sleep 0.5   # requests cut off by wrk's stop finish on the server
  a1=$(q "$name" 'SELECT count(*) FROM audit_events'); s1=$(served "$route" 200); b1=$(bucket "$route" 0.01)
  local total non2xx ok rps p50 p99 audit=$((a1 - a0)) served200=$((s1 - s0)) check
  total=$(awk '/requests in/ {print $1}' "$report")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$report"); non2xx=${non2xx:-0}
  ok=$((total - non2xx))
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$report")
  p50=$(pct_ms "$report" 50%); p99=$(pct_ms "$report" 99%)
  local fast=$(( ${b1% *} - ${b0% *} )) all=$(( ${b1#* } - ${b0#* } ))
  local srv10; srv10=$(awk -v f="$fast" -v a="$all" 'BEGIN {printf "%.2f", a ? 100 * f / a : 0}')
  if [ "$mode" = resident ]; then
    # Every 200 the server sent has its audit row; rows beyond them are reads whose event was
    # committed but whose answer was cancelled when wrk closed its connections (at most one per
    # connection), and wrk misses the answers still in flight at its stop (likewise).
    local extra=$((audit - served200)) late=$((served200 - ok))
    if [ "$extra" = 0 ] && [ "$late" -ge 0 ]; then check="ok (exact)"
    elif [ "$extra" -gt 0 ] && [ "$extra" -le "$CONNS" ] && [ "$late" -ge 0 ] && [ "$late" -le "$CONNS" ]; then check="ok (+$extra cut off)"
    else check=MISMATCH; fi
  else
    if [ "$audit" = 0 ]; then check="ok (none)"; else check=MISMATCH; fi
  fi
  local line
  line=$(printf '%-9s %-16s %8s req/s  p50 %7s ms  p99 %7s ms  200s wrk %8d server %8d  non-2xx %d  audit rows +%-8d %-18s server<=10ms %s%%' \
    "$name" "$label" "$rps" "$p50" "$p99" "$ok" "$served200" "$non2xx" "$audit" "$check" "$srv10")
  echo "$line"
  case $label in warmup*) ;; *) echo "$line" >> "$RESULTS" ;; esac
}

run() { # backend
  local name=$1 db
  case $name in
    sqlite) load_sqlite; db="sqlite://$SQLITE_DB" ;;
    postgres) load_postgres; db="$PG_DB" ;;
  esac
  "$BIN" --database "$db" migrate >/dev/null
  TOKEN=$("$BIN" --database "$db" token create --name bench --role cdc_analyst 2>/dev/null)
  MIN_ID=$(q "$name" 'SELECT min(id) FROM residents'); MAX_ID=$(q "$name" 'SELECT max(id) FROM residents')
  local n; n=$(q "$name" 'SELECT count(*) FROM residents')
  echo "$name: $n residents, ids $MIN_ID..$MAX_ID"
  [ "$((MAX_ID - MIN_ID + 1))" = "$n" ] || echo "$name: ids have holes: some reads will be 404 (counted as non-2xx)"
  tail -n +2 "$OUT/orgunits.csv" | cut -d, -f1 > "$OUT/audit-codes.txt"

  "$BIN" --database "$db" serve --listen "$ADDR" >"$OUT/serve-audit-$name.log" 2>&1 &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.1; done

  # The token reads a resident in clear, and that read adds one audit event.
  local before after body
  before=$(q "$name" 'SELECT count(*) FROM audit_events')
  body=$(curl -sf "http://$ADDR/api/v1/residents/$MIN_ID" -H "Authorization: Bearer $TOKEN") ||
    { echo "$name: GET /api/v1/residents/$MIN_ID failed"; exit 1; }
  after=$(q "$name" 'SELECT count(*) FROM audit_events')
  [ $((after - before)) = 1 ] || { echo "$name: one read added $((after - before)) audit events"; exit 1; }
  echo "$name: sample read: $(echo "$body" | jq -c '{id, id_number, name}')"
  curl -sf "http://$ADDR/api/v1/orgunits/$(head -n1 "$OUT/audit-codes.txt")" -H "Authorization: Bearer $TOKEN" >/dev/null ||
    { echo "$name: GET /api/v1/orgunits/… failed"; exit 1; }

  echo; echo "== $name: audited GET /api/v1/residents/{id}, cdc_analyst token, $CONNS connections, $THREADS threads"
  for i in $(seq 1 "$RUNS"); do
    wrk_run "$name" "warmup-$i" "$WARMUP" "/api/v1/residents/{id}" resident
    wrk_run "$name" "audited-$i" "$DURATION" "/api/v1/residents/{id}" resident
  done
  echo; echo "== $name: unaudited GET /api/v1/orgunits/{code} (comparison)"
  for i in $(seq 1 "$COMPARE_RUNS"); do
    wrk_run "$name" "warmup-u$i" "$WARMUP" "/api/v1/orgunits/{code}" orgunit
    wrk_run "$name" "unaudited-$i" "$DURATION" "/api/v1/orgunits/{code}" orgunit
  done
  if [ -n "${PERF:-}" ] && command -v perf >/dev/null; then
    echo; echo "== $name: perf profile of the server during audited reads (15 s)"
    MODE=resident TOKEN="$TOKEN" MIN_ID=$MIN_ID MAX_ID=$MAX_ID \
      wrk -t"$THREADS" -c"$CONNS" -d20s -s bench/audit.lua "http://$ADDR" >/dev/null &
    local w=$!
    sleep 2
    perf record -F 499 -g -p "$SERVER" -o "$OUT/perf-audit-$name.data" -- sleep 15 2>/dev/null >/dev/null || true
    wait $w
    perf report -i "$OUT/perf-audit-$name.data" --no-children --sort dso,sym --stdio 2>/dev/null |
      grep -v '^$' | grep -v '^#' | grep '%' | head -n 40 > "$OUT/perf-audit-$name.txt" || true
    echo "top of the profile: $OUT/perf-audit-$name.txt"
  fi
  echo "$name: audit_events now $(q "$name" 'SELECT count(*) FROM audit_events') rows"
  kill $SERVER; wait $SERVER 2>/dev/null || true
  trap - EXIT
  drop_db "$name"
}

for b in $BACKENDS; do run "$b"; done
echo; echo "== summary (target: p99 < 10 ms for audited reads; audit rows must equal the 200s the server counted)"
cat "$RESULTS"
awk '$2 ~ /^audited-/ {n[$1]++; r[$1] += $3; p50[$1] += $6; if ($9 > m[$1]) m[$1] = $9; p99[$1] += $9}
  END {for (b in n) printf "%-9s audited reads over %d runs: mean %.0f req/s, mean p50 %.2f ms, mean p99 %.2f ms, worst p99 %.2f ms -> %s\n",
    b, n[b], r[b] / n[b], p50[b] / n[b], p99[b] / n[b], m[b], (m[b] < 10 ? "meets < 10 ms" : "MISSES < 10 ms")}' "$RESULTS"
