# Shared by the benchmark scripts: paths, tools, and the source data set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=bench/out
BIN=${HEALTHCITY_BIN:-target/release/healthcity}   # a prebuilt binary skips the build
SCALE=${SCALE:-0.06}            # ≈ 1.05 million residents
PG=${PG:-postgres://postgres@127.0.0.1:5432}
mkdir -p "$OUT"

need() { # command, Debian package
  command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}
need sqlite3 sqlite3
need hyperfine hyperfine
need wrk wrk
need psql postgresql-client
need curl curl
need jq jq

[ -n "${HEALTHCITY_BIN:-}" ] || cargo build --release -p healthcity >&2

level_order="CASE level WHEN 'city' THEN 0 WHEN 'district' THEN 1 WHEN 'street' THEN 2 ELSE 3 END"

# Source CSVs, exported from a demo city at $SCALE (built once, reused).
ensure_data() {
if [ ! -s "$OUT/residents-$SCALE.csv" ]; then
  rm -f "$OUT/src.db"*
  "$BIN" --database "sqlite://$OUT/src.db" demo --scale "$SCALE" --no-serve >&2
  sqlite3 -header -csv "$OUT/src.db" "SELECT code,name,parent_code,level,valid_from,valid_to FROM orgunits ORDER BY $level_order, code" > "$OUT/orgunits.csv"
  sqlite3 -header -csv "$OUT/src.db" "SELECT id_type,id_number,name,sex,birth_date,phone,community_code,residence FROM residents ORDER BY id" > "$OUT/residents-$SCALE.csv"
  rm -f "$OUT/src.db"*
fi
RESIDENTS="$OUT/residents-$SCALE.csv"
ROWS=$(( $(wc -l < "$RESIDENTS") - 1 ))
}
