#!/usr/bin/env bash
# Starts the demo: the reference collector on 127.0.0.1:8787 (SQLite in .demo/) and the
# demo page through `trunk serve` on http://127.0.0.1:8080, which proxies /v1/ to it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
COLLECTOR_ADDR=${COLLECTOR_ADDR:-127.0.0.1:8787}

cargo build -q --profile server -p trickle-collector
mkdir -p .demo
target_dir=${CARGO_TARGET_DIR:-target}
# --dev: the demo page has no server to sign user ids, so the collector runs without
# a secret (it warns that posts and profile reads are then unauthenticated).
"$target_dir/server/trickle-collector" --dev --config static/demo.config.json \
  --db .demo/trickle.db --listen "$COLLECTOR_ADDR" &
collector=$!
trap 'kill "$collector" 2>/dev/null; wait "$collector" 2>/dev/null' EXIT INT TERM

for _ in $(seq 50); do
  curl -fs "http://$COLLECTOR_ADDR/healthz" >/dev/null && break
  sleep 0.1
done
echo "[demo] collector on http://$COLLECTOR_ADDR (database .demo/trickle.db)"
echo "[demo] open http://127.0.0.1:8080 (Ctrl-C stops both)"
trunk serve --release
