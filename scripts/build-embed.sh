#!/usr/bin/env bash
# Builds the script-tag bundle: dist/embed/trickle.js + dist/embed/trickle.wasm, and the
# npm package's wasm + glue (npm/pkg is assembled by scripts/build-npm.sh from these).
#
# The wasm comes from a cdylib-only release build (`cargo rustc --crate-type cdylib`):
# a cdylib+rlib crate measured 37% larger. wasm-opt is binaryen 132 from npm (Debian's
# 108 cannot read current rustc output).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-target}

cargo rustc -p trickle --lib --release --target wasm32-unknown-unknown --crate-type cdylib -q
rm -rf target/embed && mkdir -p target/embed/glue dist/embed
wasm-bindgen --target web --no-typescript --out-dir target/embed/glue --out-name trickle \
  "$target_dir/wasm32-unknown-unknown/release/trickle.wasm"
# Short import names in the wasm and the glue (see the script for why).
node scripts/minify-imports.mjs target/embed/glue/trickle_bg.wasm target/embed/glue/trickle.js
# --flatten --rereloop before two -Oz rounds: the control flow is rebuilt from
# scratch and then shrunk again; measured 0.6-0.9% smaller brotli than one -Oz
# (-Oz --converge, -O4, --gufa and --merge-similar-functions gained less or lost).
wasm-opt --flatten --rereloop -Oz -Oz --strip-debug --strip-producers \
  target/embed/glue/trickle_bg.wasm -o target/embed/trickle.wasm

cp target/embed/trickle.wasm dist/embed/trickle.wasm
# One classic script (works with `defer`, reads document.currentScript) whose only
# global is window.Trickle.
# The glue's fallback wasm URL uses import.meta.url, which a classic script lacks;
# boot.js always passes the URL, so the fallback only needs to be valid syntax.
esbuild src/embed/boot.js --bundle --format=iife --minify --target=es2020 \
  --define:import.meta.url=document.baseURI \
  --log-level=warning --outfile=dist/embed/trickle.js
echo "[build-embed] dist/embed: $(wc -c <dist/embed/trickle.js) B js, $(wc -c <dist/embed/trickle.wasm) B wasm"
