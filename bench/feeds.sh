#!/usr/bin/env bash
# Surveillance feed ingest: `healthcity import visits` of $N sentinel visits (classified into
# syndromes on the way) into the 1-million demo city of bench/care.sh, on SQLite and
# PostgreSQL; then the same file again (every record found unchanged). The target is
# 20,000 visits/s into PostgreSQL.
source "$(dirname "$0")/common.sh"
N=${N:-500000}
SQLITE="sqlite://$OUT/care.db"
POSTGRES="$PG/hc_bench_care"
[ -s "$OUT/care.db" ] || { echo "run bench/care.sh first (it builds the city)"; exit 1; }
need python3 python3

CSV="$OUT/visits-$N.csv"
if [ ! -s "$CSV" ]; then
  sqlite3 "$OUT/care.db" "SELECT code FROM institutions WHERE kind IN ('hospital','chc','chs','clinic') ORDER BY code" > "$OUT/sentinels.txt"
  sqlite3 "$OUT/care.db" "SELECT code FROM orgunits WHERE level = 'community' ORDER BY code" > "$OUT/communities.txt"
  python3 - "$N" "$OUT/sentinels.txt" "$OUT/communities.txt" > "$CSV" <<'PY'
import csv, random, sys
n = int(sys.argv[1])
out = csv.writer(sys.stdout, lineterminator="\n")
sentinels = open(sys.argv[2]).read().split()
communities = open(sys.argv[3]).read().split()
complaints = ["发热2天，最高39.2℃，伴咳嗽、咽痛", "腹泻3次/日，无发热", "头晕乏力", "咳嗽咳痰一周",
              "皮疹伴瘙痒2天", "fever and sore throat since yesterday", "denies fever, productive cough x3d",
              "双眼红、分泌物多", "腹痛伴呕吐", "高热39.5度，全身酸痛", "体检", "复诊取药"]
codes = ["", "", "", "J06.9", "J10.1", "A09", "R50.9", "I10", "E11.9", "B08.4"]
random.seed(7)
out.writerow("record_id,institution_code,visit_time,community_code,age,sex,chief_complaint,diagnosis_codes,temperature".split(","))
for i in range(n):
    day = 1 + i * 300 // n
    t = f"2026-{1 + (day - 1) // 30:02d}-{1 + (day - 1) % 28:02d} {8 + i % 10:02d}:{i % 60:02d}"
    temp = random.choice(["", "", "36.8", "37.6", "38.4", "39.1"])
    out.writerow([f"b{i}", random.choice(sentinels), t, random.choice(communities), random.randint(0, 90),
                  random.choice("MF"), random.choice(complaints), random.choice(codes), temp])
PY
fi
echo "== $N visits ($(du -h "$CSV" | cut -f1))"
for pair in "sqlite $SQLITE" "postgres $POSTGRES"; do
  set -- $pair
  "$BIN" --database "$2" migrate >/dev/null
  if [ "$1" = sqlite ]; then
    sqlite3 "$OUT/care.db" "DELETE FROM surv_records WHERE feed = 'visits'; DELETE FROM surv_counts WHERE feed = 'visits';"
  else
    psql "$2" -qc "DELETE FROM surv_records WHERE feed = 'visits'; DELETE FROM surv_counts WHERE feed = 'visits';"
  fi
  echo "-- $1, new records"
  "$BIN" --database "$2" import visits "$CSV" --batch-size "${BATCH:-5000}" | tee "$OUT/feeds-$1.txt"
  echo "-- $1, the same file again"
  "$BIN" --database "$2" import visits "$CSV" --batch-size "${BATCH:-5000}" | tee -a "$OUT/feeds-$1.txt"
done
