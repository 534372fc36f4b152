#!/usr/bin/env bash
# Renders the web UI in headless Chromium (Debian's) against a freshly built demo city and
# checks what a person would see: Chinese by default, English on request, nothing loaded
# from outside the server; then walks through it as the district bureau, the auditor and the
# family doctor (tests/browser/flow.mjs, Node.js 20+). Screenshots land in target/browser/.
#   bash tests/browser.sh [path/to/healthcity]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/healthcity}
[ -x "$BIN" ] || cargo build --release -p healthcity
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk curl >/dev/null
fi
OUT=target/browser
rm -rf "$OUT" && mkdir -p "$OUT"
DB="sqlite://$PWD/$OUT/browser.db"
PORT=$(( 20000 + RANDOM % 20000 ))
ADDR=127.0.0.1:$PORT
"$BIN" --database "$DB" demo --scale 0.0005 --listen "$ADDR" >"$OUT/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://$ADDR/readyz" >/dev/null || { cat "$OUT/server.log"; echo "server did not start"; exit 1; }

chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-quic \
    --user-data-dir="$(mktemp -d)" --window-size=1366,900 "$@" 2>>"$OUT/chromium.log"
}
fail=0
check() { # description, file, pattern
  if grep -q -- "$3" "$2"; then echo "ok   $1"; else echo "FAIL $1: no '$3' in $2"; fail=1; fi
}
chrome --dump-dom "http://$ADDR/login" > "$OUT/login-zh.html"
chrome --dump-dom "http://$ADDR/login?lang=en" > "$OUT/login-en.html"
chrome --screenshot="$OUT/login-zh.png" "http://$ADDR/login" >/dev/null
chrome --screenshot="$OUT/login-en.png" "http://$ADDR/login?lang=en" >/dev/null
check "Chinese by default" "$OUT/login-zh.html" 'lang="zh-CN"'
check "Chinese product name" "$OUT/login-zh.html" '健康城市平台'
check "English on request" "$OUT/login-en.html" 'lang="en"'
check "English product name" "$OUT/login-en.html" 'HealthCity'
check "a labelled password field" "$OUT/login-zh.html" 'type="password"'
for f in "$OUT"/login-*.html; do
  if grep -Eo '(src|href)="https?://[^"]*"' "$f" | grep -v "http://$ADDR" | grep -q .; then
    echo "FAIL $f loads an external resource"; fail=1
  else
    echo "ok   no external resources in $(basename "$f")"
  fi
done
# The screenshots must not be blank: a rendered page compresses to more than a few KiB.
for f in "$OUT"/login-*.png; do
  size=$(stat -c %s "$f")
  if [ "$size" -gt 8000 ]; then echo "ok   $(basename "$f") rendered ($size bytes)"; else echo "FAIL $(basename "$f") looks blank"; fail=1; fi
done
curl -sfI "http://$ADDR/static/app.css" | grep -qi 'content-type: text/css' && echo "ok   stylesheet served" || { echo "FAIL stylesheet"; fail=1; }

# A person's way through the UI (tests/browser/flow.mjs): log in as the district bureau,
# search a resident and open the masked record, log out; the auditor finds that read in the
# audit log; the audit page in English; the family doctor opens a team's worklist and a
# resident's care page, records a follow-up (and has an impossible one refused), reads the
# indicators and the residents behind one, and sees these pages in English, each checked for
# accessibility; the CDC analyst (`cdc`) opens /surveillance with its map, a signal with its
# masked line list, and that signal's epidemic curve. playwright-core (pinned in package-lock.json) drives Debian's Chromium; no
# browser is downloaded.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "FAIL the browser flow needs Node.js 20 or later (found: $(node --version 2>/dev/null || echo none))"; fail=1
elif ! (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  echo "FAIL npm ci in tests/browser"; fail=1
else
  CHROMIUM="$(command -v chromium)" node tests/browser/flow.mjs "http://$ADDR" "$OUT" || fail=1
fi
[ "$fail" -eq 0 ] && echo "browser checks passed" || { echo "browser checks failed"; exit 1; }
