#!/usr/bin/env bash
# Starts the demo: the reference collector on 127.0.0.1:8787 (SQLite in .demo/), a
# webhook receiver standing in for a CRM on 127.0.0.1:8788 (the collector forwards
# every stored answer to it, see .demo/forward.json), and the demo page through
# `trunk serve` on http://127.0.0.1:8080, which proxies /v1/ to the collector and
# /crm/ to the receiver.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
COLLECTOR_ADDR=${COLLECTOR_ADDR:-127.0.0.1:8787}
# Trunk.toml's /crm/ proxy points at this address.
RECEIVER_ADDR=127.0.0.1:8788

cargo build -q --profile server -p trickle-collector --bin trickle-collector --example webhook-receiver
mkdir -p .demo
target_dir=${CARGO_TARGET_DIR:-target}

# The webhook's Standard Webhooks secret: a fresh one per run unless given, read by
# both sides from the environment (forward.json says "env:DEMO_WEBHOOK_SECRET").
export DEMO_WEBHOOK_SECRET=${DEMO_WEBHOOK_SECRET:-whsec_$(head -c 24 /dev/urandom | base64)}
cat >.demo/forward.json <<JSON
{ "webhooks": [ { "url": "http://$RECEIVER_ADDR/hooks/trickle", "secret": "env:DEMO_WEBHOOK_SECRET" } ] }
JSON
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null' EXIT INT TERM
TRICKLE_WEBHOOK_SECRET="$DEMO_WEBHOOK_SECRET" "$target_dir/server/examples/webhook-receiver" \
  --listen "$RECEIVER_ADDR" >.demo/received.log &
pids+=($!)
# --dev: the demo page has no server to sign user ids, so the collector runs without
# a secret (it warns that posts and profile reads are then unauthenticated).
"$target_dir/server/trickle-collector" --dev --config static/demo.config.json \
  --db .demo/trickle.db --listen "$COLLECTOR_ADDR" --forward .demo/forward.json &
pids+=($!)

for _ in $(seq 50); do
  curl -fs "http://$COLLECTOR_ADDR/healthz" >/dev/null && break
  sleep 0.1
done
for _ in $(seq 50); do
  curl -fs "http://$RECEIVER_ADDR/received" >/dev/null && break
  sleep 0.1
done
echo "[demo] collector on http://$COLLECTOR_ADDR (database .demo/trickle.db)"
echo "[demo] webhook receiver (the CRM) on http://$RECEIVER_ADDR, forwarded to by .demo/forward.json; deliveries logged to .demo/received.log"
echo "[demo] open http://127.0.0.1:8080 (Ctrl-C stops all three)"
trunk serve --release
