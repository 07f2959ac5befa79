#!/usr/bin/env bash
# Runs every test layer and builds every deliverable, so a broken build fails:
#   1. native cargo test (trickle-core, trickle-collector on SQLite and on a private
#      PostgreSQL cluster, the widget's pure modules)
#   2. wasm-bindgen-test of the widget in headless Chromium
#   3. the script-tag bundle (and its test-panic twin), the npm package, the demo
#      dist; then Playwright e2e
# and ends with the size report of what a host page downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - t0))"; }

step "native tests: trickle-core, trickle-collector (SQLite and PostgreSQL)"
# A private PostgreSQL cluster (temporary directory, free port on 127.0.0.1) for
# the collector's tests on PostgreSQL, stopped and removed when they end.
./scripts/pg-cluster.sh run cargo test -p trickle-core -p trickle-collector --all-features
step "native tests: the widget's pure modules (form reducer, autofill, ...)"
# yew and web-sys compile natively; only calls into JS would fail at run time.
cargo test -p trickle --lib

step "browser tests: the widget in headless Chromium"
# test-panic: tests/panic_in_*.rs trigger real panics through it (not compiled without).
cargo test -p trickle --target wasm32-unknown-unknown --features test-panic

step "build: script-tag bundle"
./scripts/build-embed.sh
step "build: script-tag bundle with the test-panic hook, for e2e/panic.test.mjs"
./scripts/build-embed.sh --test-panic
step "build: npm package"
TRICKLE_EMBED_BUILT=1 ./scripts/build-npm.sh
step "npm package: publint and arethetypeswrong"
# ESM only, for browsers: the CommonJS resolutions do not apply; the wasm is an asset
# (imported by a bundler's file loader), not a module with types.
(cd npm/pkg && "$OLDPWD/e2e/bundlers/node_modules/.bin/publint" --strict)
e2e/bundlers/node_modules/.bin/attw --pack npm/pkg --profile esm-only \
  --exclude-entrypoints ./trickle.wasm ./package.json
step "build: demo (trunk)"
trunk build --release --dist dist/demo >/dev/null

step "end-to-end: Chromium; Firefox and WebKit for the core flows; the npm package in six bundlers"
# The collector's debug build is already there from step 1, and fast enough here.
cargo build -q -p trickle-collector
export TRICKLE_COLLECTOR_BIN="${CARGO_TARGET_DIR:-target}/debug/trickle-collector"
node --test --test-concurrency=1 e2e/

step "size report"
./scripts/size-report.sh dist/embed
step "done"
