#!/usr/bin/env bash
# Demo generation: wall time and peak memory (GNU time) at a given scale.
#   bash bench/demo.sh 0.01     # the README's default city
#   bash bench/demo.sh 1.0      # the whole of Shenzhen, 17.5 million residents
source "$(dirname "$0")/common.sh"
need /usr/bin/time time
scale=${1:-0.01}
db="$OUT/demo-$scale.db"
rm -f "$db"*
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$BIN" --database "sqlite://$db" demo --scale "$scale" --no-serve 2>&1 | tail -n 3
ls -l "$db"
