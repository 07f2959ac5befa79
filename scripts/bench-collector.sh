#!/usr/bin/env bash
# Load benchmark of trickle-collector on this machine, loopback only.
#
# Builds the collector and the load generator (crates/collector/examples/load.rs)
# optimised for speed, starts the collector on a fresh temporary database with a
# secret set (so every post pays for the HMAC check), runs a bounded load with one
# answer per post and then with batches, stops the collector with SIGTERM and
# prints answers/s, p50 and p99 for each run.
#
# Then the same runs against a second collector, on its own fresh database, that
# forwards every answer (--forward) to a webhook that never answers
# (crates/collector/examples/hanging-sink.rs: accepts connections, never replies),
# and prints each run's answers/s with no sink and with the hanging one, and their
# ratio (the contract: within 10%). The forwarding timeout there is
# BENCH_FORWARD_TIMEOUT (1 s), so the hanging requests time out and are rescheduled
# (writes of their own) during the run instead of sitting idle.
#
# Every run is made once per store: SQLite (a file) and PostgreSQL (a private
# cluster of Debian's PostgreSQL, scripts/pg-cluster.sh: temporary directory, a free
# port on 127.0.0.1, fsync on; a fresh database per collector). BENCH_STORES
# ("sqlite postgres") picks them.
#
# Bounds (env): BENCH_CLIENTS (32 clients posting one answer each time),
# BENCH_BATCH_CLIENTS (8 clients posting batches), BENCH_BATCH (10 answers per
# batched post), BENCH_REQUESTS (20000 posts per run), BENCH_SECONDS (20 s per run),
# BENCH_ROUNDS (1: rounds of no-sink then hanging-sink, to average out a busy
# machine), BENCH_FORWARD=0 skips the hanging-sink collector.
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

rounds=${BENCH_ROUNDS:-1}
stores=${BENCH_STORES:-sqlite postgres}
with_forward=${BENCH_FORWARD:-1}
forward_timeout=${BENCH_FORWARD_TIMEOUT:-1}
[ "$with_forward" = 0 ] || cargo build -q --profile server -p trickle-collector --example hanging-sink
sink_bin="$target_dir/server/examples/hanging-sink"

work=$(mktemp -d)
server_pid=""
sink_pid=""
pg_dir=""
cleanup() {
  for pid in "$server_pid" "$sink_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$pg_dir" ]; then
    ./scripts/pg-cluster.sh stop "$pg_dir" || true
    rm -rf "$pg_dir"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# Turn signals (Ctrl-C, a closed pipe such as `| head`) into a normal exit so the
# EXIT trap stops the collector instead of leaving it running.
trap 'exit 130' INT TERM HUP PIPE

secret="bench-secret-$RANDOM$RANDOM"

if [[ " $stores " == *" postgres "* ]]; then
  # Its own directory: the cluster runs as the postgres user, who cannot enter $work.
  pg_dir=$(mktemp -d)
  pg_url=$(./scripts/pg-cluster.sh start "$pg_dir")
  echo "[bench-collector] PostgreSQL $(psql -X -t -A "$pg_url" -c 'SHOW server_version') at $pg_url"
fi

# fresh_db STORE NAME: a new, empty database of STORE for the phase NAME; prints
# what --db takes.
fresh_db() {
  case $1 in
    sqlite) echo "$work/$2.db" ;;
    postgres) ./scripts/pg-cluster.sh createdb "$pg_dir" "bench_${2//-/_}_$round" ;;
    *) echo "[bench-collector] unknown store $1 (BENCH_STORES: sqlite, postgres)" >&2; exit 2 ;;
  esac
}

# db_size DB: the size of a database (a file, or a PostgreSQL database).
db_size() {
  case $1 in
    postgres://*)
      psql -X -q -t -A "$1" -c "SELECT pg_size_pretty(pg_database_size(current_database()))"
      ;;
    *) du -h "$1" | cut -f1 ;;
  esac
}

# start_collector NAME DB [extra flags]: a collector on the database DB; sets
# server_pid and addr.
start_collector() {
  local name=$1 db=$2
  shift 2
  # Logs stay on (info, JSON, one line per request) as in production; they go to a file.
  # The database goes in the environment: a URL in a flag shows in `ps`.
  TRICKLE_SECRET="$secret" TRICKLE_DB="$db" RUST_LOG=${RUST_LOG:-info} "$bin" \
    --config crates/collector/tests/fixtures/config.json \
    --listen 127.0.0.1:0 "$@" \
    >"$work/$name.stdout" 2>"$work/$name.log" &
  server_pid=$!
  addr=""
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/^trickle-collector listening on //p' "$work/$name.stdout" 2>/dev/null || true)
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "[bench-collector] collector did not start" >&2; exit 1; }
}

# stop_collector NAME DB: SIGTERM, wait, report.
stop_collector() {
  local name=$1 db=$2 status
  kill -TERM "$server_pid"
  status=0
  wait "$server_pid" || status=$?
  server_pid=""
  rows=$(grep -c '"message":"finished processing request"' "$work/$name.log" || true)
  echo "[bench-collector] $name: collector stopped (exit $status) after $rows logged requests; db $(db_size "$db")"
  [ "$status" = 0 ]
}

run() {
  TRICKLE_SECRET="$secret" "$load" --url "$addr" --clients "$1" \
    --requests "$2" --duration "$seconds" --batch "$3" --label "$4"
}

# phase NAME DB [collector flags]: a fresh collector, warm-up, both runs; each
# run's answers/s lands in $work/NAME.rates (label rate).
phase() {
  local name=$1 db=$2 line
  shift 2
  start_collector "$name" "$db" "$@"
  echo "[bench-collector] $name: collector at $addr (pid $server_pid), $(nproc) cores; bounds: $requests posts or ${seconds}s per run, $clients clients"
  # A short warm-up (page cache, SQLite, connection setup), not reported.
  run "$clients" 2000 1 warmup >/dev/null
  # Batches come from few widgets at a time (one per page); fewer clients also keep
  # a whole batch's commit from queueing behind 31 others.
  for spec in "$clients $requests 1 1-answer-per-post" \
              "$batch_clients $((requests / 4)) $batch ${batch}-answers-per-post"; do
    set -- $spec
    line=$(run "$1" "$2" "$3" "$4")
    echo "$name $line"
    echo "$4 $(sed -n 's/.*answers_per_s=\([0-9]*\).*/\1/p' <<<"$line")" >>"$work/$name.rates"
  done
  stop_collector "$name" "$db"
}

if [ "$with_forward" != 0 ]; then
  "$sink_bin" 127.0.0.1:0 >"$work/sink.out" &
  sink_pid=$!
  sink_url=""
  for _ in $(seq 1 50); do
    sink_url=$(sed -n 's/^hanging-sink listening on //p' "$work/sink.out" 2>/dev/null || true)
    [ -n "$sink_url" ] && break
    sleep 0.1
  done
  [ -n "$sink_url" ] || { echo "[bench-collector] hanging sink did not start" >&2; exit 1; }
  printf '{ "webhooks": [ { "url": "%s/hook", "secret": "env:BENCH_HOOK_SECRET" } ] }\n' \
    "$sink_url" >"$work/forward.json"
  export BENCH_HOOK_SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
fi

for round in $(seq 1 "$rounds"); do
  [ "$rounds" = 1 ] || echo "[bench-collector] round $round of $rounds"
  for store in $stores; do
    phase "$store-no-sink" "$(fresh_db "$store" no-sink)"
    if [ "$with_forward" != 0 ]; then
      before=$(grep -c '^accepted' "$work/sink.out" || true)
      phase "$store-hanging-sink" "$(fresh_db "$store" hanging-sink)" \
        --forward "$work/forward.json" --forward-timeout "$forward_timeout"
      after=$(grep -c '^accepted' "$work/sink.out" || true)
      echo "[bench-collector] $store-hanging-sink: the sink accepted $((after - before)) connections and answered none"
    fi
  done
  rm -f "$work"/*.db "$work"/*.db-wal "$work"/*.db-shm
done

mean() { awk -v l="$1" '$1 == l { s += $2; n++ } END { printf "%.0f", s / n }' "$2"; }
echo "[bench-collector] answers/s, mean over $rounds round(s), per store"
for store in $stores; do
  for label in 1-answer-per-post "${batch}-answers-per-post"; do
    a=$(mean "$label" "$work/$store-no-sink.rates")
    if [ "$with_forward" != 0 ]; then
      b=$(mean "$label" "$work/$store-hanging-sink.rates")
      awk -v s="$store" -v l="$label" -v a="$a" -v b="$b" 'BEGIN {
        r = b / a
        printf "[bench-collector] %s %s: no sink %d, hanging sink %d, ratio %.3f (%s)\n", s, l, a, b, r,
          (r >= 0.9 ? "within 10%" : "MORE THAN 10% SLOWER")
      }'
    else
      echo "[bench-collector] $store $label: $a"
    fi
  done
done
