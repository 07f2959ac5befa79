#!/usr/bin/env bash
# Starts the demo: the reference collector on 127.0.0.1:8787 (SQLite in .demo/), a
# webhook receiver standing in for a CRM on 127.0.0.1:8788 (the collector forwards
# every stored answer to it, see .demo/forward.json), and the demo page through
# `trunk serve` on http://127.0.0.1:8080, which proxies /v1/ to the collector and
# /crm/ to the receiver. On first start the database gets 400 simulated users
# (the demo-users example, through the HTTP API) so the marketer's view at
# http://127.0.0.1:8787/admin has something to show; its password is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
COLLECTOR_ADDR=${COLLECTOR_ADDR:-127.0.0.1:8787}
# Trunk.toml's /crm/ proxy points at this address.
RECEIVER_ADDR=127.0.0.1:8788

cargo build -q --profile server -p trickle-collector --bin trickle-collector \
  --example webhook-receiver --example demo-users
mkdir -p .demo
target_dir=${CARGO_TARGET_DIR:-target}

# The webhook's Standard Webhooks secret: a fresh one per run unless given, read by
# both sides from the environment (forward.json says "env:DEMO_WEBHOOK_SECRET").
export DEMO_WEBHOOK_SECRET=${DEMO_WEBHOOK_SECRET:-whsec_$(head -c 24 /dev/urandom | base64)}
cat >.demo/forward.json <<JSON
{ "webhooks": [ { "url": "http://$RECEIVER_ADDR/hooks/trickle", "secret": "env:DEMO_WEBHOOK_SECRET" } ] }
JSON
# The marketer's view (GET /admin): any user name, this token as password.
export TRICKLE_ADMIN_TOKEN=${TRICKLE_ADMIN_TOKEN:-demo-admin}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null' EXIT INT TERM

wait_for() {
  for _ in $(seq 50); do
    curl -fs "$1" >/dev/null && return 0
    sleep 0.1
  done
  echo "[demo] $1 did not come up" >&2
  return 1
}

# Simulated users, posted to a collector without --forward so the CRM stand-in
# only ever sees what is answered on the demo page. demo-users posts nothing when
# the database already has them.
"$target_dir/server/trickle-collector" --dev --config static/demo.config.json \
  --db .demo/trickle.db --listen "$COLLECTOR_ADDR" --log-format text 2>/dev/null &
seeding=$!
pids+=("$seeding")
wait_for "http://$COLLECTOR_ADDR/healthz"
"$target_dir/server/examples/demo-users" --url "http://$COLLECTOR_ADDR" \
  --config static/demo.config.json --users 400
kill -TERM "$seeding"
wait "$seeding" || true
pids=()
TRICKLE_WEBHOOK_SECRET="$DEMO_WEBHOOK_SECRET" "$target_dir/server/examples/webhook-receiver" \
  --listen "$RECEIVER_ADDR" >.demo/received.log &
pids+=($!)
# --dev: the demo page has no server to sign user ids, so the collector runs without
# a secret (it warns that posts and profile reads are then unauthenticated).
"$target_dir/server/trickle-collector" --dev --config static/demo.config.json \
  --db .demo/trickle.db --listen "$COLLECTOR_ADDR" --forward .demo/forward.json &
pids+=($!)

wait_for "http://$COLLECTOR_ADDR/healthz"
wait_for "http://$RECEIVER_ADDR/received"
echo "[demo] collector on http://$COLLECTOR_ADDR (database .demo/trickle.db)"
echo "[demo] the marketer's view: http://$COLLECTOR_ADDR/admin (any user name, password: $TRICKLE_ADMIN_TOKEN)"
echo "[demo] webhook receiver (the CRM) on http://$RECEIVER_ADDR, forwarded to by .demo/forward.json; deliveries logged to .demo/received.log"
echo "[demo] open http://127.0.0.1:8080 (Ctrl-C stops all three)"
trunk serve --release
