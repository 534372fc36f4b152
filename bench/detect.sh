#!/usr/bin/env bash
# The detection engine against R's surveillance on the same input and parameters, in one run:
# prints the time per evaluated period of each and the ratio. Like for like: R's
# `system.time` around the method call against the engine's method call (`detect --timing`),
# best of RUNS; the whole `healthcity detect` process (start-up, CSV in and out) is shown too.
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
  local process ours=
  process=$(jq '.results[0].mean' "$OUT/detect.json")
  for _ in $(seq "${RUNS:-5}"); do
    t=$("$BIN" detect --method "$method" --input "$input" --from "$from" --to "$to" --params "$params" \
        --output /dev/null --timing 2>&1 | awk '/^timing:/ {print $(NF-1)}')
    ours=$(awk -v a="$ours" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
  done
  awk -v l="$label" -v n="$periods" -v r="$r_secs" -v o="$ours" -v p="$process" 'BEGIN {
    printf "%-34s %8d %9.3f %9.4f %11.4f %11.3f %8.0fx %9.4f %7.0fx\n", l, n, r, o, 1000 * r / n, 1e6 * o / n, r / o, p, r / p }'
}
printf "%-34s %8s %9s %9s %11s %11s %9s %9s %8s\n" method periods "R s" "ours s" "R ms/per" "ours µs/per" ratio "process s" ratio
NOUFAILY="b=4;w=3;no_periods=10;weights_threshold=2.58;past_weeks_not_included=26;p_threshold_trend=1;threshold_method=nbplugin"
row "farrington-flexible (Noufaily)" farrington-flexible $DATA/salmNewport_states.input.csv 2008-01-21 2014-02-10 "$NOUFAILY"
row "farrington-flexible (delta)" farrington-flexible $DATA/salmNewport_states.input.csv 2008-01-21 2014-02-10 "b=4;w=3;threshold_method=delta"
for v in C1 C2 C3; do
  row "ears $v (daily, ${DAILY_SERIES:-200} series)" ears "$DAILY" 2023-02-01 2025-12-31 "variant=$v;alpha=0.05;compat=surveillance"
done
row "cusum (daily, ${DAILY_SERIES:-200} series)" cusum "$DAILY" 2023-02-01 2025-12-31 "k=1.04;h=2.26;m=mean"
