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
cp target/embed/glue/trickle.js npm/pkg/trickle_glue.js
cp target/embed/trickle.wasm npm/pkg/trickle.wasm
(cd npm/pkg && npm pack --silent --pack-destination ../../dist/npm >/dev/null)
echo "[build-npm] $(ls dist/npm/*.tgz)"
