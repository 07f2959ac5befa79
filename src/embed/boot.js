// Script-tag entry: defines window.Trickle (the only global), loads trickle.wasm from
// next to this script, and starts with the config found on the page, if any.
// Named imports, not a namespace: the glue's unused `initSync` is then left out.
import wasmInit, { destroy, explain, identify, init, readAhead, stopped, track } from '../../target/embed/glue/trickle.js';
import { createApi, nextTask, report, wasmBytes } from './api.js';

const wasm = { destroy, explain, identify, init, readAhead, stopped, track };

const script = document.currentScript;
// The wasm sits next to the script, so the pair can live on a CDN.
const base = script && script.src ? script.src : document.baseURI;
const wasmUrl = new URL('trickle.wasm', base);

// `Trickle.init(config, { wasmUrl })` may point elsewhere (another CDN path).
const api = createApi((options = {}) => {
  // The request goes out at once (the download is what the question waits for) and
  // the glue starts in the next task, while it runs: the glue's import table is one
  // large function that V8 compiles on its first call, and with init's idle gate
  // (its first storage read) that was a long task on a slow phone. A failed request
  // rejects init as before; the catch only keeps the rejection from counting as
  // unhandled while the next task comes.
  const bytes = wasmBytes(fetch(options.wasmUrl ?? wasmUrl));
  bytes.catch(() => {});
  return nextTask()
    .then(() => wasmInit({ module_or_path: bytes }))
    .then(() => wasm);
});
window.Trickle = api;

function readConfig() {
  const inline = document.getElementById('trickle-config');
  if (inline) {
    try {
      return Promise.resolve(JSON.parse(inline.textContent));
    } catch (e) {
      return Promise.reject(new Error(`#trickle-config is not valid JSON: ${e.message}`));
    }
  }
  const url = script && script.dataset.config;
  if (url) {
    return fetch(new URL(url, document.baseURI), { credentials: 'same-origin' }).then((r) => {
      if (!r.ok) throw new Error(`config ${url}: HTTP ${r.status}`);
      return r.json().catch((e) => {
        throw new Error(`config ${url} is not valid JSON: ${e.message}`);
      });
    });
  }
  return null;
}

const found = readConfig();
if (found) {
  found.then(
    // In a task after this script's own, which compiling and running this script
    // already made long on a slow phone. init's own failures are reported by the
    // widget (console line + trickle:error); swallowing the rejection here keeps
    // them out of the host's unhandled rejections.
    (config) => nextTask().then(() => api.init(config).catch(() => {})),
    (e) => report('config', e.message),
  );
}
