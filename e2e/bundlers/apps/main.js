// A tiny app as a customer would write it: import the package, init, identify.
// The bundler ships trickle.wasm through the package's `new URL(..., import.meta.url)`.
import { explain, init } from 'trickle-widget';

const status = document.getElementById('status');
const config = await (await fetch('/pages/config.json')).json();
const id = new URLSearchParams(location.search).get('user') ?? 'bundler|1';
try {
  await init({ ...config, user: { id, loginsCount: 1 } });
  status.textContent = `ready: ${(await explain()).questions.length} questions`;
} catch (e) {
  status.textContent = `failed: ${e.message}`;
}
