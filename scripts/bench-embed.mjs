// Side-by-side benchmark of what a host page pays for a one-question popup: Trickle's
// script tag against PostHog surveys (posthog-js from npm), on the same host page
// (bench/host.html), served from 127.0.0.1 with PostHog's API mocked, loads
// interleaved. A report, not a test: it prints tables and exits 0.
//
//   node scripts/bench-embed.mjs [--runs N] [--motion] [--embed DIR] [--trickle-only]
//
// --runs N   loads per widget and CPU rate (default 5; about 1.5 minutes in all)
// --motion   do not emulate prefers-reduced-motion: reduce (then "visible" includes
//            each widget's fade-in, since it waits for full opacity)
// --embed    directory holding trickle.js + trickle.wasm (default dist/embed)
// --trickle-only  Trickle alone (no PostHog, no blank page), to compare two builds
//
// Per load (a fresh browser context each, so nothing is cached or stored; each starts
// a second after the previous one's context closed):
// - visible: navigation start to the first frame painted with the question's text on
//   screen at full opacity (checked every animation frame, opacity multiplied up
//   through shadow hosts; the time is taken after that frame's paint)
// - TBT: sum over long tasks of (duration - 50 ms), from navigation start until 1.5 s
//   (x the CPU rate) after visible; CPU slowed by CDP Emulation.setCPUThrottlingRate
// - bytes: CDP encodedDataLength of every response but the page itself (served br when
//   the browser asks for it, else gzip), and the brotli (q11) size of the same bodies
// - memory (1x only): JS heap used after CDP HeapProfiler.collectGarbage, plus wasm
//   linear memory, minus the same for the blank host page; and
//   performance.measureUserAgentSpecificMemory() when available (the page is
//   cross-origin isolated for it), also minus blank
// - Trickle's long tasks, each with the part of the load it ran in (`phase`) and what
//   its long animation frame says it held (scripts, rendering), beside
//   the blank page's; and trickle.js's run inside the page's parse-end task
import { readFileSync, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import { join, normalize, extname } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const ROOT = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('--runs', 5));
const MOTION = args.includes('--motion');
const EMBED = opt('--embed', join(ROOT, 'dist', 'embed'));
const RATES = [1, 4]; // the blank host page is loaded at both too, as the TBT baseline
// --trickle-only: Trickle's loads alone (no PostHog, no blank page), for comparing
// two Trickle builds quickly; the table's other columns are then empty.
const ONLY = args.includes('--trickle-only');
const QUESTION = 'What should we call you?';
const SETTLE_MS = 1500;
const BETWEEN_MS = 1000;

// ---- what the host page embeds -------------------------------------------------------

const trickleConfig = JSON.parse(readFileSync(join(ROOT, 'e2e', 'pages', 'config.json'), 'utf8'));
if (!JSON.stringify(trickleConfig).includes(QUESTION)) throw new Error('config.json lost the question');

const posthogBundle = Buffer.from((
  await build({
    entryPoints: [join(ROOT, 'bench', 'posthog-entry.js')],
    bundle: true, minify: true, format: 'iife', target: 'es2020', write: false, logLevel: 'warning',
  })
).outputFiles[0].contents);
const POSTHOG_DIST = join(ROOT, 'node_modules', 'posthog-js', 'dist');
const POSTHOG_VERSION = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'posthog-js', 'package.json'), 'utf8')).version;

const host = readFileSync(join(ROOT, 'bench', 'host.html'), 'utf8');
const esc = (s) => s.replace(/</g, '\\u003c');
// A deferred script of one statement, run just before trickle.js in the same task (the
// blank page has it too): when trickle.js began, so the bench can tell trickle.js's
// share of the page's parse-end task.
const MARK = '<script src="/bench/mark.js" defer></script>';
const WIDGETS = {
  blank: () => MARK,
  trickle: (user) =>
    `<script type="application/json" id="trickle-config">${esc(JSON.stringify({ ...trickleConfig, user: { id: user, loginsCount: 1 } }))}</script>\n` +
    `${MARK}\n<script src="/trickle/trickle.js" defer></script>`,
  posthog: () => '<script src="/posthog/posthog.js" defer></script>',
};

// PostHog's API, mocked: remote config says surveys are on; flags are empty; one
// popover survey with one open question, no targeting, no delay; captures accepted.
const survey = {
  id: '01960000-0000-7000-8000-000000000001',
  name: 'Bench',
  type: 'popover',
  questions: [{ type: 'open', question: QUESTION, id: 'q1', buttonText: 'Submit' }],
  conditions: null,
  appearance: { position: 'right', surveyPopupDelaySeconds: 0 },
  start_date: '2024-01-01T00:00:00Z',
  end_date: null,
  current_iteration: null,
  current_iteration_start_date: null,
  schedule: 'once',
  linked_flag_key: null,
  targeting_flag_key: null,
  internal_targeting_flag_key: null,
  feature_flag_keys: [],
};
const remoteConfig = {
  token: 'phc_bench', supportedCompression: ['gzip', 'gzip-js'], hasFeatureFlags: false,
  captureDeadClicks: false, capturePerformance: false, autocapture_opt_out: false,
  autocaptureExceptions: false, analytics: { endpoint: '/i/v0/e/' }, elementsChainAsString: true,
  sessionRecording: false, heatmaps: false, surveys: [survey], defaultIdentifiedOnly: true,
  siteApps: [],
};
const flags = {
  flags: {}, featureFlags: {}, featureFlagPayloads: {}, errorsWhileComputingFlags: false,
  quotaLimited: [], requestId: 'bench',
};
function api(path) {
  if (/^\/array\/[^/]+\/config\.js$/.test(path)) {
    return ['text/javascript', `(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};window._POSTHOG_REMOTE_CONFIG["phc_bench"]={config:${JSON.stringify(remoteConfig)},siteApps:[]}})();`];
  }
  if (/^\/array\/[^/]+\/config$/.test(path)) return ['application/json', JSON.stringify(remoteConfig)];
  if (path === '/flags/' || path === '/decide/') return ['application/json', JSON.stringify(flags)];
  if (path === '/api/surveys/') return ['application/json', JSON.stringify({ surveys: [survey] })];
  if (/^\/(e|i|s|batch|capture|engage|track)\b/.test(path)) return ['application/json', '{"status":1}'];
  return null;
}

// ---- the server: loopback only; br or gzip as the browser asks -------------------------

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };
const brotli = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
const cache = new Map(); // body (by identity) -> { br, gz }; pages and API replies are small
function encoded(body) {
  let e = cache.get(body);
  if (!e) cache.set(body, (e = { br: brotli(body), gz: gzipSync(body, { level: 9 }) }));
  return e;
}
const brotliSizes = new Map(); // url path -> brotli size of the body served there
const unexpected = new Set();

const files = new Map(); // path -> Buffer, read once (the compression cache keys on it)
function file(dir, rel) {
  const f = normalize(join(dir, rel));
  if (!f.startsWith(dir) || !existsSync(f) || statSync(f).isDirectory()) return null;
  if (!files.has(f)) files.set(f, readFileSync(f));
  return files.get(f);
}

const server = http.createServer(async (req, res) => {
  for await (const _ of req); // drain bodies (PostHog posts events)
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  let type = TYPES[extname(p)] || 'application/octet-stream';
  let body = null;
  const headers = { 'cache-control': 'no-store' };
  if (p === '/bench/mark.js') {
    body = Buffer.from('window.__bench.at.before = performance.now();');
  } else if (p.startsWith('/bench/')) {
    const w = WIDGETS[p.slice(7).replace(/\.html$/, '')];
    if (w) {
      body = Buffer.from(host.replace('<!--WIDGET-->', w(url.searchParams.get('user') || 'bench|0')));
      // Cross-origin isolated, so measureUserAgentSpecificMemory is allowed.
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
  } else if (p.startsWith('/trickle/')) body = file(EMBED, p.slice(9));
  else if (p === '/posthog/posthog.js') body = posthogBundle;
  else if (p.startsWith('/static/')) body = file(POSTHOG_DIST, p.split('/').at(-1));
  else {
    const hit = api(p);
    if (hit) [type, body] = [hit[0], Buffer.from(hit[1])];
  }
  if (p === '/favicon.ico') return res.writeHead(204).end();
  if (!body) {
    unexpected.add(`${req.method} ${p}`);
    return res.writeHead(404).end();
  }
  const e = encoded(body);
  brotliSizes.set(p, e.br.length);
  const accept = req.headers['accept-encoding'] || '';
  headers['content-type'] = type;
  if (/\bbr\b/.test(accept)) [headers['content-encoding'], body] = ['br', e.br];
  else if (/\bgzip\b/.test(accept)) [headers['content-encoding'], body] = ['gzip', e.gz];
  res.writeHead(200, headers).end(body);
});
// Compress the static files before the first load, so no load waits for brotli q11.
for (const body of [file(EMBED, 'trickle.js'), file(EMBED, 'trickle.wasm'), posthogBundle, file(POSTHOG_DIST, 'surveys.js')]) {
  if (!body) throw new Error(`missing ${EMBED}/trickle.{js,wasm} (scripts/build-embed.sh) or posthog-js (npm ci)`);
  encoded(body);
}
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;

// ---- one load --------------------------------------------------------------------------

// Runs in the page before any of its scripts.
function probe(question) {
  const roots = [document];
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    roots.push(root);
    return root;
  };
  const b = (window.__bench = { visibleAt: null, longTasks: [], memories: [], at: {} });
  const keep = (fn) => async (...a) => {
    b.at.compile ??= performance.now();
    const out = await fn.apply(WebAssembly, a);
    b.at.instantiated ??= performance.now();
    const m = (out.instance ?? out).exports?.memory;
    if (m) b.memories.push(m);
    return out;
  };
  // When Trickle's start began and decided (trickle:ready, then trickle:shown in
  // the same task), for telling its long tasks apart (see `phase`).
  for (const e of ['ready', 'shown']) document.addEventListener(`trickle:${e}`, () => { b.at[e] ??= performance.now(); });
  // The page's parse end (its deferred scripts run in that task, then this event),
  // Trickle's first storage read (init's idle gate) and the wasm's request.
  document.addEventListener('DOMContentLoaded', () => { b.at.parsed ??= performance.now(); });
  // trickle.js's run (it ends by defining window.Trickle) and init's call.
  let api;
  Object.defineProperty(window, 'Trickle', {
    configurable: true,
    get: () => api,
    set: (v) => {
      b.at.script ??= performance.now();
      const init = v.init;
      v.init = function (...a) {
        b.at.init ??= performance.now();
        return init.apply(this, a);
      };
      api = v;
    },
  });
  const getItem = Storage.prototype.getItem;
  Storage.prototype.getItem = function (k) {
    if (String(k).startsWith('trickle:')) b.at.gate ??= performance.now();
    return getItem.call(this, k);
  };
  const fetch0 = window.fetch;
  window.fetch = function (u, ...rest) {
    if (String(u).includes('trickle.wasm')) b.at.fetch ??= performance.now();
    return fetch0.call(this, u, ...rest);
  };
  WebAssembly.instantiateStreaming = keep(WebAssembly.instantiateStreaming);
  WebAssembly.instantiate = keep(WebAssembly.instantiate);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  // Long animation frames (Chromium's LoAF API): what a long task held, without a
  // tracer's overhead: its scripts by entry point, and the frame's style and layout.
  b.frames = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      b.frames.push({
        start: e.startTime, end: e.startTime + e.duration, render: e.renderStart, layout: e.styleAndLayoutStart,
        scripts: e.scripts.map((s) => ({
          what: `${s.invokerType} ${s.invoker}`.slice(0, 60), start: s.startTime, duration: s.duration,
          trickle: /trickle\.(js|wasm)/.test(s.sourceURL),
          forced: s.forcedStyleAndLayoutDuration,
        })),
      });
    }
  }).observe({ type: 'long-animation-frame', buffered: true });
  const shown = (el) => {
    let opacity = 1;
    for (let e = el; e; e = e.parentElement || e.getRootNode().host) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility !== 'visible') return false;
      opacity *= Number(s.opacity);
    }
    const r = el.getBoundingClientRect();
    return opacity > 0.999 && r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&
      r.top < innerHeight && r.left < innerWidth;
  };
  const find = () => {
    for (const root of roots) {
      const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n; (n = w.nextNode());) if (n.data.includes(question) && shown(n.parentElement)) return true;
    }
    return false;
  };
  const frame = () => {
    if (!find()) return requestAnimationFrame(frame);
    // This frame has the question; a message posted now runs after its paint.
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { b.visibleAt = performance.now(); };
    ch.port2.postMessage(0);
  };
  requestAnimationFrame(frame);
}

// The phases that are the host page's work, not Trickle's: before trickle.js ran, the
// parse-end task that runs it (printed with trickle.js's share), a frame's rendering
// before Trickle added anything to the page.
const NOT_OWN = new Set(['page', 'parse', 'frame']);

// Which part of a Trickle load a long task was, by when it ran: the page's own before
// trickle.js ran, the page's parse-end task that runs trickle.js, before the wasm's
// compile was asked for (init's idle gate, the glue's start), until it was
// instantiated (compile and instantiate), a frame of the page's before the start,
// between the instantiation and the start (init's validation, setting up, the outbox
// upkeep, the decision), the start itself (it says trickle:ready and trickle:shown),
// the first render (until the question is visible), or later.
function phase(t, at, visible, frames) {
  const end = t.start + t.duration;
  const inside = (mark) => mark != null && t.start <= mark && mark <= end;
  // The blank page (no trickle.js): its parse-end task, or another of its own.
  if (at.script == null) return inside(at.parsed) ? 'parse' : 'page';
  // Over before trickle.js ran (its compile's end and its run are one task): the host
  // page's own, like the blank page's.
  if (end < at.script) return 'page';
  // Rendering a frame before Trickle's start added anything to the page: the page's
  // (the blank page has the same frames).
  if ((at.ready == null || t.start < at.ready) && !inside(at.parsed) && pageFrame(t, frames)) return 'frame';
  if (at.compile == null || t.start < at.compile) {
    // Before the compile: the page's parse end (trickle.js runs in it), init's idle
    // gate (its first storage read), the glue's start (the wasm requested, not yet
    // compiling), or between them.
    if (inside(at.parsed)) return 'parse';
    if (inside(at.gate)) return 'gate';
    if (at.fetch != null && t.start >= at.fetch) return 'glue';
    return 'script';
  }
  if (at.instantiated == null || end <= at.instantiated) return 'compile';
  if (at.ready != null && t.start <= at.ready && at.ready <= end) return 'start';
  if (at.ready == null || end <= at.ready) return 'init';
  if (visible == null || t.start <= visible) return 'render';
  return 'after';
}

// The long animation frame a task belongs to (its rendering may end after the frame's
// end, which LoAF takes at the end of style and layout).
function frameOf(t, frames) {
  return frames?.find((x) => x.start <= t.start + 1 && x.end >= t.start);
}

// Whether a task is a frame's rendering with no script of Trickle's over 5 ms in it
// (LoAF lists scripts from 5 ms): before Trickle's popup exists, the page's frame.
function pageFrame(t, frames) {
  const f = frameOf(t, frames);
  const end = t.start + t.duration;
  const inTask = (ms) => ms >= t.start - 1 && ms < end;
  return f != null && f.render > 0 && inTask(f.render) && !f.scripts.some((s) => s.trickle && inTask(s.start));
}

// What a long task of Trickle's held, from the long animation frame it belongs to:
// each script in the task (entry point, ms, of which forced style and layout) and,
// when the frame rendered, its rendering and the part of it from style and layout on
// (layout, paint, commit; a forced layout in a script is counted with the script).
function anatomy(t, frames) {
  const end = t.start + t.duration;
  const f = frameOf(t, frames);
  if (!f) return '';
  const parts = f.scripts.filter((s) => s.start >= t.start - 1 && s.start < end)
    .map((s) => `${s.what} ${s.duration.toFixed(0)}${s.forced ? `/forced layout ${s.forced.toFixed(0)}` : ''}`);
  if (f.render > 0 && f.render >= t.start - 1 && f.render < end) {
    const layout = f.layout > 0 ? end - f.layout : 0;
    parts.push(`rendering ${(end - f.render).toFixed(0)} (from style and layout on ${layout.toFixed(0)})`);
  }
  return parts.length ? ` [${parts.join('; ')}]` : '';
}

async function load(browser, widget, rate, run) {
  const context = await browser.newContext({ reducedMotion: MOTION ? 'no-preference' : 'reduce' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  await cdp.send('Network.enable');
  const urls = new Map();
  let transferred = 0;
  const paths = [];
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    const u = new URL(urls.get(e.requestId) ?? 'http://x/');
    if (u.pathname.startsWith('/bench/') || u.pathname === '/favicon.ico') return;
    transferred += e.encodedDataLength;
    paths.push(u.pathname);
  });
  await page.addInitScript(probe, QUESTION);
  const user = `bench|${run}`;
  await page.goto(`${ORIGIN}/bench/${widget}.html?user=${encodeURIComponent(user)}`);
  // Polled through CDP with a one-line expression: playwright's waitForFunction would
  // inject its own large script into the page and show up as a long task.
  let visible = null;
  if (widget !== 'blank') {
    const end = Date.now() + 30000;
    while (visible === null) {
      if (Date.now() > end) throw new Error(`${widget}: no visible question in 30 s`);
      await new Promise((r) => setTimeout(r, 100));
      const { result } = await cdp.send('Runtime.evaluate', { expression: 'window.__bench.visibleAt', returnByValue: true });
      visible = result.value ?? null;
    }
  } else {
    await page.waitForLoadState('load');
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS * rate));
  const { longTasks, at, frames } = (await cdp.send('Runtime.evaluate', { expression: '({ longTasks: window.__bench.longTasks, at: window.__bench.at, frames: window.__bench.frames })', returnByValue: true })).result.value;
  const tbt = longTasks.reduce((s, t) => s + Math.max(0, t.duration - 50), 0);
  const out = {
    visible, tbt, longTasks: longTasks.length, longest: Math.max(0, ...longTasks.map((t) => t.duration)),
    // trickle.js's run inside the page's parse-end task (from the mark script before it).
    script: at.script != null && at.before != null ? at.script - at.before : null,
    // Trickle's own long tasks (durations): not the host page's (NOT_OWN), but the
    // page's parse-end task when trickle.js's run is what made it long.
    own: longTasks.filter((t) => {
      const p = phase(t, at, visible, frames);
      if (p === 'parse') return at.before != null && at.script != null && t.duration - (at.script - at.before) < 50;
      return !NOT_OWN.has(p);
    }).map((t) => t.duration),
    tasks: longTasks.map((t) => {
      const p = phase(t, at, visible, frames);
      // trickle.js's part of the page's parse-end task (its compile's end and its run).
      const own = p === 'parse' && at.before != null && at.script != null ? ` (trickle.js ${(at.script - at.before).toFixed(0)} ms)` : '';
      return `${t.duration.toFixed(0)} ms ${p}${own}${NOT_OWN.has(p) ? '' : anatomy(t, frames)}`;
    }),
    transferred, brotli: paths.reduce((s, p) => s + (brotliSizes.get(p) ?? 0), 0), requests: paths.length,
  };
  if (rate === 1) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    out.heap = metrics.find((m) => m.name === 'JSHeapUsedSize').value;
    out.wasm = await page.evaluate(() => window.__bench.memories.reduce((s, m) => s + m.buffer.byteLength, 0));
    out.uaMemory = await page.evaluate(async () => {
      if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) return null;
      const m = await Promise.race([performance.measureUserAgentSpecificMemory(), new Promise((r) => setTimeout(r, 15000))]);
      return m ? m.bytes : null;
    });
  }
  await context.close();
  // The next load starts after this one's teardown (its renderer process exiting,
  // a bigger one after PostHog's loads) rather than alongside it: on a 2-core machine
  // that work would land in the next load's tasks.
  await new Promise((r) => setTimeout(r, BETWEEN_MS));
  return out;
}

// ---- the runs, interleaved -------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // measureUserAgentSpecificMemory answers at once instead of at the next GC.
    '--enable-blink-features=ForceEagerMeasureMemory',
  ],
});
const results = { blank: { 1: [], 4: [] }, trickle: { 1: [], 4: [] }, posthog: { 1: [], 4: [] } };
const t0 = Date.now();
try {
  for (let run = 0; run < RUNS; run++) {
    const order = ONLY ? ['trickle'] : run % 2 ? ['posthog', 'trickle'] : ['trickle', 'posthog'];
    for (const rate of RATES) for (const w of order) results[w][rate].push(await load(browser, w, rate, run));
    if (!ONLY) for (const rate of RATES) results.blank[rate].push(await load(browser, 'blank', rate, run));
    process.stderr.write(`run ${run + 1}/${RUNS} done (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  await browser.close();
  server.close();
}

// ---- report ----------------------------------------------------------------------------

const median = (xs) => {
  const s = xs.filter((x) => x != null).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const med = (w, rate, k) => median(results[w][rate].map((r) => r[k]));
const range = (w, rate, k) => {
  const xs = results[w][rate].map((r) => r[k]).filter((x) => x != null);
  return xs.length ? `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}` : '';
};
const ratio = (a, b) => (a == null || b == null ? 'n/a' : b === 0 ? (a === 0 ? '0 / 0' : 'inf') : `${(a / b).toFixed(2)}x`);
const kB = (n) => (n == null ? 'n/a' : `${(n / 1000).toFixed(1)} kB`);
const ms = (n) => (n == null ? 'n/a' : `${n.toFixed(0)} ms`);
const MB = (n) => (n == null ? 'n/a' : `${(n / 1e6).toFixed(2)} MB`);
const above = (w, k) => {
  const a = med(w, 1, k);
  const b = med('blank', 1, k);
  return a == null || b == null ? null : a - b;
};
const mem = (w) => {
  const heap = above(w, 'heap');
  return heap == null ? null : heap + (med(w, 1, 'wasm') ?? 0);
};

const rows = [];
const row = (what, t, p, fmt, note = '') => rows.push([what, fmt(t), fmt(p), ratio(t, p), note]);
for (const rate of RATES) {
  row(`visible question, ${rate}x CPU (median)`, med('trickle', rate, 'visible'), med('posthog', rate, 'visible'), ms,
    `T ${range('trickle', rate, 'visible')}, P ${range('posthog', rate, 'visible')} ms`);
}
for (const rate of RATES) {
  row(`total blocking time, ${rate}x CPU (median)`, med('trickle', rate, 'tbt'), med('posthog', rate, 'tbt'), ms,
    `blank page ${ms(med('blank', rate, 'tbt'))}; long tasks per load: T ${med('trickle', rate, 'longTasks')} (${range('trickle', rate, 'longTasks')}), P ${med('posthog', rate, 'longTasks')} (${range('posthog', rate, 'longTasks')}); longest T ${ms(med('trickle', rate, 'longest'))} (${range('trickle', rate, 'longest')}), P ${ms(med('posthog', rate, 'longest'))}`);
}
row('bytes, brotli q11 of the bodies', med('trickle', 1, 'brotli'), med('posthog', 1, 'brotli'), kB,
  `requests: T ${med('trickle', 1, 'requests')}, P ${med('posthog', 1, 'requests')}`);
row('bytes transferred (br, with headers)', med('trickle', 1, 'transferred'), med('posthog', 1, 'transferred'), kB);
row('JS heap after GC + wasm, above blank', mem('trickle'), mem('posthog'), MB,
  `T: heap ${MB(above('trickle', 'heap'))} + wasm ${MB(med('trickle', 1, 'wasm'))}; blank heap ${MB(med('blank', 1, 'heap'))}`);
row('measureUserAgentSpecificMemory, above blank', above('trickle', 'uaMemory'), above('posthog', 'uaMemory'), MB);

for (const rate of RATES) {
  row(`trickle.js's run in the page's parse-end task, ${rate}x (median)`, med('trickle', rate, 'script'), null,
    (n) => (n == null ? 'n/a' : `${n.toFixed(1)} ms`),
    `T ${range('trickle', rate, 'script')} ms`);
}

const head = ['', 'Trickle', 'PostHog', 'T/P', 'notes'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i && i < 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
console.log(`\nTrickle (${EMBED.replace(ROOT + '/', '')}) vs PostHog surveys (posthog-js ${POSTHOG_VERSION}), ` +
  `${RUNS} interleaved loads each per CPU rate, reduced motion ${MOTION ? 'off' : 'emulated'}, ` +
  `${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log('');
for (const rate of RATES) {
  console.log(`Trickle's long tasks at ${rate}x, per load: ` +
    results.trickle[rate].map((r) => `[${r.tasks.join(', ')}]`).join(' '));
  const own = results.trickle[rate].flatMap((r) => r.own);
  console.log(`  of them Trickle's own (not ${[...NOT_OWN].join(', ')}, unless trickle.js's share made a parse-end task long): ${own.length} in ${RUNS} loads` +
    (own.length ? `, ${own.map((d) => d.toFixed(0)).join(', ')} ms` : ''));
  if (!ONLY) {
    console.log(`the blank page's long tasks at ${rate}x, per load: ` +
      results.blank[rate].map((r) => `[${r.tasks.join(', ')}]`).join(' '));
  }
}

console.log('\nfiles (bytes)           raw       gzip     brotli');
for (const [name, body] of [
  ['trickle.js', file(EMBED, 'trickle.js')], ['trickle.wasm', file(EMBED, 'trickle.wasm')],
  ['posthog bundle', posthogBundle], ['posthog surveys.js', file(POSTHOG_DIST, 'surveys.js')],
]) {
  const e = encoded(body);
  console.log(`${name.padEnd(20)} ${String(body.length).padStart(9)} ${String(e.gz.length).padStart(9)} ${String(e.br.length).padStart(9)}`);
}
if (unexpected.size) console.log(`\nunmocked requests (answered 404): ${[...unexpected].join(', ')}`);
