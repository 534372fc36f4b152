#!/usr/bin/env bash
# Resident lookup by identity number over HTTP at 32 concurrent connections (wrk), on the
# databases that bench/import.sh filled (≈ 1 million residents). Prints wrk's latency
# distribution; the target is p99 < 5 ms.
source "$(dirname "$0")/common.sh"
ensure_data
DURATION=${DURATION:-20s}
ADDR=127.0.0.1:18080
[ -f "$OUT/import.db" ] || bash bench/import.sh

run() { # name, database URL
  local name=$1 db=$2
  "$BIN" --database "$db" migrate >/dev/null
  # A system token of a role that searches residents city-wide (every search is audited).
  local token
  token=$("$BIN" --database "$db" token create --name "lookup-$$-$RANDOM" --role cdc_analyst --expires-days 1)
  "$BIN" --database "$db" serve --listen "$ADDR" >"$OUT/serve-$name.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 1 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.1; done
  shuf -n 20000 --random-source=<(yes) <(tail -n +2 "$RESIDENTS" | cut -d, -f2) > "$OUT/ids.txt"
  # The lookups must find people: check a few before measuring.
  for id in $(head -n 5 "$OUT/ids.txt"); do
    n=$(curl -sf "http://$ADDR/api/v1/residents?id_number=$id" -H "Authorization: Bearer $token" | jq '.items | length')
    [ "$n" = 1 ] || { echo "lookup of $id returned $n residents"; exit 1; }
  done
  # Warm up first (pool connections opened, pages mapped), then measure.
  IDS="$OUT/ids.txt" TOKEN="$token" wrk -t"${WRK_THREADS:-2}" -c32 -d5s -s bench/lookup.lua "http://$ADDR" >/dev/null
  echo; echo "== $name: GET /api/v1/residents?id_number=… ($(wc -l < "$OUT/ids.txt") distinct ids, 32 connections, $DURATION)"
  IDS="$OUT/ids.txt" TOKEN="$token" wrk -t"${WRK_THREADS:-2}" -c32 -d"$DURATION" --latency -s bench/lookup.lua "http://$ADDR" | tee "$OUT/lookup-$name.txt"
  kill $pid; wait $pid 2>/dev/null || true
}
run sqlite "sqlite://$OUT/import.db"
run postgres "$PG/hc_bench_import"
# The same database over its Unix socket, as a server beside its database would connect.
PG_SOCKET=${PG_SOCKET:-/var/run/postgresql}
[ -S "$PG_SOCKET/.s.PGSQL.5432" ] && run postgres-socket "postgres://postgres@localhost/hc_bench_import?host=$PG_SOCKET"
echo; for f in "$OUT"/lookup-*.txt; do echo "$(basename "$f" .txt): p50 $(awk '$1=="50%"{print $2}' "$f"), p99 $(awk '$1=="99%"{print $2}' "$f"), $(awk '/Requests\/sec/{print $2}' "$f") req/s, non-2xx: $(awk '/Non-2xx/{print $NF}' "$f")"; done
