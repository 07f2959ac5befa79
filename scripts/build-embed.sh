#!/usr/bin/env bash
# Builds the script-tag bundle: dist/embed/trickle.js + dist/embed/trickle.wasm, and the
# npm package's wasm + glue (npm/pkg is assembled by scripts/build-npm.sh from these).
#
# The wasm comes from a cdylib-only release build (`cargo rustc --crate-type cdylib`):
# a cdylib+rlib crate measured 37% larger. wasm-opt is binaryen 132 from npm (Debian's
# 108 cannot read current rustc output).
#
# `--test-panic` builds the same bundle with the `test-panic` feature (magic event
# names that panic, for e2e/panic.test.mjs) into dist/embed-panic/ instead, working in
# target/embed-panic/; the shipped dist/embed/ and the npm package never get it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-target}

features=() work=target/embed out=dist/embed entry=src/embed/boot.js
case "${1:-}" in
  "") ;;
  --test-panic) features=(--features test-panic) work=target/embed-panic out=dist/embed-panic ;;
  *) echo "usage: $0 [--test-panic]" >&2; exit 2 ;;
esac

# Panic locations (kept in the wasm even with panic=abort) name source files; the
# registry's and the checkout's prefixes are cut from them (measured -161 B brotli).
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src/= --remap-path-prefix=$PWD/="
# The wasm's stack: 256 KiB instead of rustc's default 1 MiB, which a small widget
# never uses (most of its linear memory was that stack). The deepest path measured is
# a config nested to serde_json's recursion limit (e2e/stack.test.mjs): it runs in
# 64 KiB and traps ("memory access out of bounds") in 32 KiB, so 256 KiB leaves a
# fourfold margin. TRICKLE_STACK_BYTES overrides it (for such probes).
stack=${TRICKLE_STACK_BYTES:-262144}
cargo rustc -p trickle --lib --release --target wasm32-unknown-unknown --crate-type cdylib -q "${features[@]}" \
  -- -C link-arg=-zstack-size="$stack"
rm -rf "$work" && mkdir -p "$work/glue" "$out"
# --encode-into always: strings go to the wasm through TextEncoder.encodeInto, which
# every browser the widget supports has; the glue's fallback path is left out.
wasm-bindgen --target web --no-typescript --encode-into always --out-dir "$work/glue" --out-name trickle \
  "$target_dir/wasm32-unknown-unknown/release/trickle.wasm"
# Short import names in the wasm and the glue (see the script for why).
node scripts/minify-imports.mjs "$work/glue/trickle_bg.wasm" "$work/glue/trickle.js"
# --flatten --rereloop before two -Oz rounds: the control flow is rebuilt from
# scratch and then shrunk again; measured 0.6-0.9% smaller brotli than one -Oz
# (-Oz --converge, -O4, --gufa and --merge-similar-functions gained less or lost).
# The target-features section only tells tools which features the code uses (the
# browser ignores it): stripped last, -184 B brotli.
# TRICKLE_KEEP_NAMES=1 keeps the name section (for profiles: scripts/bench-trace.mjs
# --profile); never for a shipped bundle.
names=--strip-debug
[ -n "${TRICKLE_KEEP_NAMES:-}" ] && names=--debuginfo
wasm-opt --flatten --rereloop -Oz -Oz "$names" --strip-producers --strip-target-features \
  "$work/glue/trickle_bg.wasm" -o "$work/trickle.wasm"

if [ "$work" != target/embed ]; then
  # boot.js imports the glue from target/embed/glue; this build's copy of it imports
  # the glue from next to itself.
  sed 's#\.\./\.\./target/embed/glue/trickle\.js#./glue/trickle.js#' src/embed/boot.js >"$work/boot.js"
  grep -q "'./glue/trickle.js'" "$work/boot.js"
  cp src/embed/api.js "$work/api.js"
  entry=$work/boot.js
fi
cp "$work/trickle.wasm" "$out/trickle.wasm"
# One classic script (works with `defer`, reads document.currentScript) whose only
# global is window.Trickle.
# The glue's fallback wasm URL uses import.meta.url, which a classic script lacks;
# boot.js always passes the URL, so the fallback only needs to be valid syntax.
# The banner is V8's explicit compile hint (Chrome 136+; a plain comment elsewhere): the
# script's functions are compiled with it, on the thread that streams it, instead of
# one by one on the main thread at their first call (the glue's import shims, called
# inside the widget's first tasks). Measured at 1x: the main thread's JS compiling
# fell from 8-9 ms to 1-3 ms per load, and the script's own run did not grow. The
# price: an idle page view (no wasm) holds its bytecode too, 21 KiB more JS heap
# (250 KiB above a blank page instead of 229).
esbuild "$entry" --bundle --format=iife --minify --target=es2020 \
  --banner:js='//# allFunctionsCalledOnLoad' \
  --define:import.meta.url=document.baseURI \
  --log-level=warning --outfile="$out/trickle.js"
head -1 "$out/trickle.js" | grep -qx '//# allFunctionsCalledOnLoad' || { echo "[build-embed] the compile hint is not trickle.js's first line" >&2; exit 1; }
echo "[build-embed] $out: $(wc -c <"$out/trickle.js") B js, $(wc -c <"$out/trickle.wasm") B wasm"
