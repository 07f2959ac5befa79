// The same app for bundlers that do not ship `new URL` assets (esbuild, Rollup): the
// wasm is imported as an asset URL (esbuild `--loader:.wasm=file`, Rollup
// `@rollup/plugin-url`) and passed to init.
import { explain, init } from 'trickle-widget';
import wasmUrl from 'trickle-widget/trickle.wasm';

const status = document.getElementById('status');
const config = await (await fetch('/pages/config.json')).json();
const id = new URLSearchParams(location.search).get('user') ?? 'bundler|1';
try {
  await init({ ...config, user: { id, loginsCount: 1 } }, { wasmUrl });
  status.textContent = `ready: ${(await explain()).questions.length} questions`;
} catch (e) {
  status.textContent = `failed: ${e.message}`;
}
