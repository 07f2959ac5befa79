// npm entry: the same API as window.Trickle, as ES module exports. `init` loads the
// wasm itself: from `init(config, { wasmUrl })` when given, otherwise through
// `new URL('./trickle.wasm', import.meta.url)`, the pattern Vite, webpack 5, Parcel
// and Next.js recognise to ship the .wasm as an asset. esbuild and Rollup leave the
// URL as it is: pass `wasmUrl` there (README: "npm, in every bundler").
import wasmInit, * as wasm from './trickle_glue.js';
import { createApi, wasmBytes } from './api.js';

const api = createApi(({ wasmUrl } = {}) =>
  wasmInit({ module_or_path: wasmBytes(fetch(wasmUrl ?? new URL('./trickle.wasm', import.meta.url))) }).then(
    () => wasm,
  ),
);

export const { init, identify, track, explain, destroy } = api;
