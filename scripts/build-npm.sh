#!/usr/bin/env bash
# Assembles the npm package `trickle-widget` in npm/pkg from the template in npm/ and
# the wasm + glue that scripts/build-embed.sh produced, then packs it into dist/npm.
set -euo pipefail
cd "$(dirname "$0")/.."
# scripts/test.sh has just built the embed; run on its own, build it here so the
# package never carries a stale wasm.
[ "${TRICKLE_EMBED_BUILT:-}" = 1 ] || ./scripts/build-embed.sh
rm -rf npm/pkg dist/npm && mkdir -p npm/pkg dist/npm
cp npm/package.json npm/README.md npm/index.d.ts npm/auth0.js npm/auth0.d.ts npm/pkg/
cp src/embed/npm.js npm/pkg/index.js
cp src/embed/api.js npm/pkg/api.js
cp target/embed/trickle.wasm npm/pkg/trickle.wasm
# wasm-bindgen's glue keeps its own fallback, `new URL('trickle_bg.wasm',
# import.meta.url)`, for a file this package names trickle.wasm. webpack and Parcel
# resolve every such URL at build time and fail on the missing file, so the fallback
# goes: index.js always passes the URL (its own `new URL('./trickle.wasm', ...)`, or
# `init(config, { wasmUrl })`).
fallback="module_or_path = new URL('trickle_bg.wasm', import.meta.url);"
grep -qF "$fallback" target/embed/glue/trickle.js ||
  { echo "[build-npm] the glue's wasm fallback changed; update this script" >&2; exit 1; }
sed "s#$fallback#throw new Error('trickle: no wasm URL given');#" target/embed/glue/trickle.js \
  >npm/pkg/trickle_glue.js
# No `new URL(...)` in the package may point at a file it does not ship.
node -e '
  const { readFileSync, readdirSync, existsSync } = require("node:fs");
  const { join } = require("node:path");
  const dir = process.argv[1];
  let bad = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/new URL\(\s*["\x27`]([^"\x27`]+)["\x27`]\s*,\s*import\.meta\.url/g)) {
      if (!existsSync(join(dir, m[1]))) {
        console.error(`[build-npm] ${file}: new URL("${m[1]}") points at a file the package does not ship`);
        bad++;
      }
    }
  }
  process.exit(bad ? 1 : 0);
' npm/pkg
(cd npm/pkg && npm pack --silent --pack-destination ../../dist/npm >/dev/null)
echo "[build-npm] $(ls dist/npm/*.tgz)"
