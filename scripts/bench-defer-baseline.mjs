// A control for the long tasks `bench-embed.mjs` counts in the script phase at 4x:
// how often the benchmark's host page has a long task with no widget at all, with
// `trickle.js` alone (no config, so no wasm), and with deferred scripts that only cost
// their size (18 KB of uncalled functions, 18 KB of string, a tiny one). A deferred
// script runs in the task that ends the page's parsing, the same task as the page's
// first layout; on these machines that task alone sits near 50 ms at 4x. A report,
// not a test.
//
//   node scripts/bench-defer-baseline.mjs [--loads 8] [--rate 4]

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = join(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const LOADS = arg('--loads', 8);
const RATE = arg('--rate', 4);

// 18 KB of function declarations that are never called: parse and compile only.
function uncalled(bytes) {
  let text = '';
  for (let i = 0; text.length < bytes; i++) {
    text += `function f${i}(a,b){let c=a+b*${i};for(let j=0;j<c;j++){c+=j%3?1:2}return c}`;
  }
  return `(()=>{${text}window.X=1})();`;
}
const SCRIPTS = {
  '/tiny.js': 'window.X=1;',
  '/functions.js': uncalled(18_400),
  '/string.js': `window.X="${'abcdefghij'.repeat(1840)}";`,
  '/trickle.js': readFileSync(join(ROOT, 'dist/embed/trickle.js'), 'utf8'),
};
const VARIANTS = {
  'no script': '',
  'tiny script': '/tiny.js',
  '18 KB of uncalled functions': '/functions.js',
  '18 KB string': '/string.js',
  'trickle.js, no config': '/trickle.js',
};
const host = readFileSync(join(ROOT, 'bench/host.html'), 'utf8');

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (SCRIPTS[url.pathname] != null) {
    res.setHeader('content-type', 'text/javascript');
    return res.end(SCRIPTS[url.pathname]);
  }
  const src = VARIANTS[url.searchParams.get('v')];
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(host.replace('<!--WIDGET-->', src ? `<script src="${src}" defer></script>` : ''));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const results = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
try {
  // Interleaved, a fresh context per load, as bench-embed.mjs loads its widgets.
  for (let load = 0; load < LOADS; load++) {
    for (const variant of Object.keys(VARIANTS)) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: RATE });
      await page.addInitScript(() => {
        window.__long = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) window.__long.push(Math.round(e.duration));
        }).observe({ type: 'longtask', buffered: true });
      });
      await page.goto(`${origin}/?v=${encodeURIComponent(variant)}`, { waitUntil: 'load' });
      await page.waitForTimeout(1500);
      results[variant].push(await page.evaluate(() => window.__long));
      await context.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}

console.log(`long tasks at ${RATE}x CPU on bench/host.html, ${LOADS} interleaved loads each:`);
for (const [variant, loads] of Object.entries(results)) {
  const all = loads.flat();
  const with_ = loads.filter((l) => l.length > 0).length;
  console.log(
    `  ${variant.padEnd(28)} ${String(with_).padStart(2)} of ${loads.length} loads with one` +
      (all.length ? ` (${Math.min(...all)} to ${Math.max(...all)} ms)` : ''),
  );
}
