#!/usr/bin/env bash
# The detection engine against R's surveillance on the same input and parameters, in one run:
# prints the time per evaluated period of each and the ratio. R times only the method call
# (package loading excluded); the engine is timed as the whole `healthcity detect` process
# (start-up, CSV parsing and output included), so the ratio is conservative.
# Needs R with surveillance (apt-get install r-cran-surveillance); CI does not run this.
source "$(dirname "$0")/common.sh"
command -v Rscript >/dev/null || { apt-get install -y -qq r-cran-surveillance >/dev/null; }
DATA=crates/hc-detect/test_data/surveillance
DAILY="$OUT/daily-${DAILY_SERIES:-200}.csv"
[ -s "$DAILY" ] || Rscript bench/r/make_daily.R "${DAILY_SERIES:-200}" "$DAILY"

row() { # label, method, input, from, to, params
  local label=$1 method=$2 input=$3 from=$4 to=$5 params=$6
  read -r periods r_secs < <(Rscript bench/r/detect_bench.R "$method" "$input" "$from" "$to" "$params" 2>/dev/null | tail -n 1)
  hyperfine -N -w 1 -r "${RUNS:-5}" --export-json "$OUT/detect.json" \
    "$BIN detect --method $method --input $input --from $from --to $to --params $params --output /dev/null" >/dev/null 2>&1
  local ours
  ours=$(jq '.results[0].mean' "$OUT/detect.json")
  awk -v l="$label" -v n="$periods" -v r="$r_secs" -v o="$ours" 'BEGIN {
    printf "%-34s %8d %10.3f %10.4f %12.4f %12.2f %9.0fx\n", l, n, r, o, 1000 * r / n, 1e6 * o / n, r / o }'
}
printf "%-34s %8s %10s %10s %12s %12s %10s\n" method periods "R s" "ours s" "R ms/period" "ours µs/per" ratio
NOUFAILY="b=4;w=3;no_periods=10;weights_threshold=2.58;past_weeks_not_included=26;p_threshold_trend=1;threshold_method=nbplugin"
row "farrington-flexible (Noufaily)" farrington-flexible $DATA/salmNewport_states.input.csv 2008-01-21 2014-02-10 "$NOUFAILY"
row "farrington-flexible (delta)" farrington-flexible $DATA/salmNewport_states.input.csv 2008-01-21 2014-02-10 "b=4;w=3;threshold_method=delta"
for v in C1 C2 C3; do
  row "ears $v (daily, ${DAILY_SERIES:-200} series)" ears "$DAILY" 2023-02-01 2025-12-31 "variant=$v;alpha=0.05;compat=surveillance"
done
row "cusum (daily, ${DAILY_SERIES:-200} series)" cusum "$DAILY" 2023-02-01 2025-12-31 "k=1.04;h=2.26;m=mean"
