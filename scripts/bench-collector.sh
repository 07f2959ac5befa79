#!/usr/bin/env bash
# Load benchmark of trickle-collector on this machine, loopback only.
#
# Builds the collector and the load generator (crates/collector/examples/load.rs)
# optimised for speed, starts the collector on a fresh temporary database with a
# secret set (so every post pays for the HMAC check), runs a bounded load with one
# answer per post and then with batches, stops the collector with SIGTERM and
# prints answers/s, p50 and p99 for each run.
#
# Bounds (env): BENCH_CLIENTS (32 clients posting one answer each time),
# BENCH_BATCH_CLIENTS (8 clients posting batches), BENCH_BATCH (10 answers per
# batched post), BENCH_REQUESTS (20000 posts per run), BENCH_SECONDS (20 s per run).
# Target on 2 cores: >= 5000 answers/s with p99 < 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

clients=${BENCH_CLIENTS:-32}
batch_clients=${BENCH_BATCH_CLIENTS:-8}
requests=${BENCH_REQUESTS:-20000}
seconds=${BENCH_SECONDS:-20}
batch=${BENCH_BATCH:-10}

# The workspace's `server` profile (opt-level 3, thin LTO, unwinding panics): the
# `release` profile is tuned for the wasm's size, not a server's speed.
target_dir=${CARGO_TARGET_DIR:-target}
echo "[bench-collector] building (profile server)"
cargo build -q --profile server -p trickle-collector --bin trickle-collector --example load
bin="$target_dir/server/trickle-collector"
load="$target_dir/server/examples/load"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# Turn signals (Ctrl-C, a closed pipe such as `| head`) into a normal exit so the
# EXIT trap stops the collector instead of leaving it running.
trap 'exit 130' INT TERM HUP PIPE

secret="bench-secret-$RANDOM$RANDOM"
# Logs stay on (info, JSON, one line per request) as in production; they go to a file.
TRICKLE_SECRET="$secret" RUST_LOG=${RUST_LOG:-info} "$bin" \
  --config crates/collector/tests/fixtures/config.json \
  --db "$work/bench.db" --listen 127.0.0.1:0 \
  >"$work/stdout" 2>"$work/server.log" &
server_pid=$!

addr=""
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^trickle-collector listening on //p' "$work/stdout" 2>/dev/null || true)
  [ -n "$addr" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "[bench-collector] collector did not start" >&2; exit 1; }
echo "[bench-collector] collector at $addr (pid $server_pid), $(nproc) cores; bounds: $requests posts or ${seconds}s per run, $clients clients"

run() {
  TRICKLE_SECRET="$secret" "$load" --url "$addr" --clients "$1" \
    --requests "$2" --duration "$seconds" --batch "$3" --label "$4"
}
# A short warm-up (page cache, SQLite, connection setup), not reported.
run "$clients" 2000 1 warmup >/dev/null
run "$clients" "$requests" 1 "1-answer-per-post"
# Batches come from few widgets at a time (one per page); fewer clients also keep
# a whole batch's commit from queueing behind 31 others.
run "$batch_clients" "$((requests / 4))" "$batch" "${batch}-answers-per-post"

kill -TERM "$server_pid"
wait "$server_pid"
status=$?
server_pid=""
rows=$(grep -c '"message":"finished processing request"' "$work/server.log" || true)
echo "[bench-collector] collector stopped cleanly (exit $status) after $rows logged requests; db $(du -h "$work/bench.db" | cut -f1)"
