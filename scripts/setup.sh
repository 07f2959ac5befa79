#!/usr/bin/env bash
# Installs whatever this project needs that the machine lacks; quick and silent when
# everything is present. Used by both README commands (scripts/demo.sh, scripts/test.sh).
#
# Needs: Debian 12, Rust (rustup) and Node 20 with npm. Everything else comes from
# crates.io, npm and Debian's archive only: tools that download their own binaries at
# run time (trunk's and wasm-pack's tool fetches, Playwright's browser) cannot work on
# these machines, so each tool here is pinned to a version installed by its registry.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }

# The wasm-bindgen CLI must equal the wasm-bindgen crate pinned in Cargo.lock exactly,
# or the generated glue does not match the wasm.
wbg_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock
}

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

want_wbg=$(wbg_version)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want_wbg" ] ||
  [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$want_wbg" ]; then
  say "installing wasm-bindgen-cli $want_wbg (about 2 minutes)"
  # Not --locked: with it, the CLI's own lockfile currently fails to resolve.
  cargo install wasm-bindgen-cli --version "$want_wbg" --force
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  # trunk 0.22 needs a newer rustc than these machines have.
  say "installing trunk $TRUNK_VERSION (about 6 minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --no-default-features --force
fi

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v brotli >/dev/null || missing+=(brotli)
# The other two engines of e2e/engines.test.mjs: Firefox ESR (driven over WebDriver
# BiDi by puppeteer-core) and WebKitGTK's WebDriver with its MiniBrowser, under Xvfb.
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || missing+=(xvfb)
# PostgreSQL's server binaries, for the collector's tests on PostgreSQL
# (scripts/pg-cluster.sh runs a private cluster of them). Debian keeps initdb and
# pg_ctl in /usr/lib/postgresql/<version>/bin, off PATH.
if ! { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 &&
  ! ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm tooling (playwright-core, puppeteer-core, selenium-webdriver, axe, binaryen's
# wasm-opt, esbuild, vite) from the committed lockfile; skipped when node_modules
# already matches it.
stamp=node_modules/.trickle-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm tooling from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# The bundlers the npm package is built with in e2e/bundlers.test.mjs (webpack,
# Parcel, Rollup, Next.js) and the package linters (publint, arethetypeswrong): their
# own lockfile, so the main tooling stays small.
stamp=e2e/bundlers/node_modules/.trickle-lock-sha
want=$(sha256sum e2e/bundlers/package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing the bundlers for the npm package's e2e tests"
  npm ci --prefix e2e/bundlers --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
