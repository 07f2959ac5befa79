// Benchmark of what a host page pays for the script-tag embed (a report, not a test):
//   - bytes downloaded: raw, gzip, brotli of trickle.js + trickle.wasm
//   - time from navigation start to the popup being visible, median over N loads
//   - the wasm linear memory once the popup shows
// Usage: node scripts/bench-embed.mjs [loads=15]   (after scripts/build-embed.sh and a
// release build of trickle-collector). Loopback only; bounded by the number of loads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { ROOT, launchBrowser, newPage, startCollector, startServer } from '../e2e/harness.mjs';

const loads = Number(process.argv[2] ?? 15);
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

let total = { raw: 0, gzip: 0, brotli: 0 };
console.log('file            raw        gzip       brotli');
for (const name of ['trickle.js', 'trickle.wasm']) {
  const bytes = readFileSync(join(ROOT, 'dist', 'embed', name));
  const row = {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
  for (const k of Object.keys(total)) total[k] += row[k];
  console.log(`${name.padEnd(14)} ${kb(row.raw).padStart(10)} ${kb(row.gzip).padStart(10)} ${kb(row.brotli).padStart(10)}`);
}
console.log(`${'total'.padEnd(14)} ${kb(total.raw).padStart(10)} ${kb(total.gzip).padStart(10)} ${kb(total.brotli).padStart(10)}`);

const collector = await startCollector();
const server = await startServer(collector);
const browser = await launchBrowser();
const times = [];
const memories = [];
try {
  for (let i = 0; i < loads; i++) {
    const { page, context } = await newPage(browser);
    await page.addInitScript(() => {
      // Catch the wasm instance to read its linear memory; mark the first paint with
      // the popup in it.
      const wrap = (fn) => async (...args) => {
        const out = await fn(...args);
        window.__wasmMemory = (out.instance ?? out).exports.memory;
        return out;
      };
      WebAssembly.instantiateStreaming = wrap(WebAssembly.instantiateStreaming);
      WebAssembly.instantiate = wrap(WebAssembly.instantiate);
      document.addEventListener('trickle:shown', () =>
        requestAnimationFrame(() => { window.__shownAt ??= performance.now(); }),
      );
    });
    // The user comes with the config, as on a real signed-in page.
    await page.route('**/pages/bench.html', (route) => route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><title>bench</title><body><h1>Host</h1>
<script type="application/json" id="trickle-config">${JSON.stringify({
        ...JSON.parse(readFileSync(join(ROOT, 'e2e', 'pages', 'config.json'), 'utf8')),
        user: { id: `bench|${i}`, loginsCount: 1 },
      })}</script><script src="/trickle/trickle.js" defer></script></body></html>`,
    }));
    await page.goto(`${server.url}/pages/bench.html`);
    await page.waitForFunction(() => window.__shownAt !== undefined);
    times.push(await page.evaluate(() => window.__shownAt));
    memories.push(await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? 0));
    await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
  await collector.stop();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`time to popup: median ${median.toFixed(0)} ms over ${loads} loads (min ${times[0].toFixed(0)}, max ${times.at(-1).toFixed(0)})`);
console.log(`wasm memory after the popup shows: ${kb(Math.max(...memories))}`);
