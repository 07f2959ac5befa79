// npm entry: the same API as window.Trickle, as ES module exports. `init` loads the
// wasm itself; `new URL(..., import.meta.url)` is the pattern bundlers (Vite, webpack 5,
// esbuild) recognise to ship the .wasm as an asset, so no plugin is needed.
import wasmInit, * as wasm from './trickle_glue.js';
import { createApi } from './api.js';

const api = createApi(() =>
  wasmInit({ module_or_path: new URL('./trickle.wasm', import.meta.url) }).then(() => wasm),
);

export const { init, identify, track, explain, destroy } = api;
