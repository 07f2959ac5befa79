// What runs in Trickle's long tasks: loads bench/host.html with the script tag at a
// CPU slowdown (default 4x, CDP Emulation.setCPUThrottlingRate), records a Chromium
// performance trace, and prints every main-thread task over 50 ms with what ran in it
// (trace events and the probe's marks), then the phase totals. A report, not a test.
//
//   node scripts/bench-trace.mjs [--rate 4] [--loads 3] [--embed DIR] [--save trace.json] [--profile] [--cpu]
//
// --profile adds V8's sampling profiler to the trace and prints, per long task, the
// functions with the most self time (JS by name and file, wasm by name: build the
// bundle with a name section for that, e.g. TRICKLE_KEEP_NAMES=1 scripts/build-embed.sh).
//
// The probe marks (performance.mark, in the trace as user timing) come from wrapping
// the browser APIs the widget calls: WebAssembly.instantiateStreaming (request and
// instance ready), Storage reads and writes, attachShadow (the popup's host) and the
// trickle:ready / trickle:shown events. Loopback only.
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RATE = Number(opt('--rate', 4));
const LOADS = Number(opt('--loads', 3));
const EMBED = opt('--embed', join(ROOT, 'dist', 'embed'));
const SAVE = opt('--save', null);
const PROFILE = args.includes('--profile');
// --cpu: also list every task of Trickle's (any length) with its main-thread CPU time
// (the trace's thread duration), which, unlike wall time, does not grow when other
// processes compete for the machine's cores; at --rate 1, 4x that CPU time is about
// the task's length at 4x on a quiet machine.
const CPU = args.includes('--cpu');
const cpuTasks = []; // per load: [{ at, wall, cpu }] of Trickle's tasks

const config = JSON.parse(readFileSync(join(ROOT, 'e2e', 'pages', 'config.json'), 'utf8'));
const host = readFileSync(join(ROOT, 'bench', 'host.html'), 'utf8');
const page = (user) => host.replace('<!--WIDGET-->',
  `<script type="application/json" id="trickle-config">${JSON.stringify({ ...config, user: { id: user, loginsCount: 1 } }).replace(/</g, '\\u003c')}</script>\n` +
  '<script src="/trickle/trickle.js" defer></script>');
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/bench/trickle.html') {
    return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(url.searchParams.get('user')));
  }
  const name = { '/trickle/trickle.js': 'trickle.js', '/trickle/trickle.wasm': 'trickle.wasm' }[url.pathname];
  if (!name) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', 'cache-control': 'no-store' });
  res.end(readFileSync(join(EMBED, name)));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;

function probe() {
  const mark = (n) => performance.mark(`probe:${n}`);
  const wrapAsync = (obj, key, name) => {
    const fn = obj[key];
    obj[key] = async function (...a) {
      mark(`${name}:call`);
      const out = await fn.apply(this, a);
      mark(`${name}:resolved`);
      return out;
    };
  };
  wrapAsync(WebAssembly, 'instantiateStreaming', 'instantiateStreaming');
  wrapAsync(WebAssembly, 'instantiate', 'instantiate');
  for (const key of ['getItem', 'setItem', 'removeItem', 'key']) {
    const fn = Storage.prototype[key];
    Storage.prototype[key] = function (...a) {
      mark(`storage.${key}(${String(a[0]).slice(0, 40)})`);
      return fn.apply(this, a);
    };
  }
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    mark('attachShadow');
    return attach.call(this, init);
  };
  // Nodes inserted into a shadow root, one mark at the first and at every 10th: the
  // popup's host and style go in before trickle:shown, its Yew-rendered tree after.
  let inserted = 0;
  for (const key of ['insertBefore', 'appendChild']) {
    const fn = Node.prototype[key];
    Node.prototype[key] = function (...a) {
      if (this.getRootNode() instanceof ShadowRoot && inserted++ % 10 === 0) mark(`dom insert #${inserted}`);
      return fn.apply(this, a);
    };
  }
  for (const e of ['ready', 'shown']) document.addEventListener(`trickle:${e}`, () => mark(`trickle:${e}`));
  document.addEventListener('trickle:shown', () => requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { mark('painted'); window.__painted = true; };
    ch.port2.postMessage(0);
  }));
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const CATEGORIES = [
  'toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing',
  'v8.execute', 'v8.wasm', 'disabled-by-default-v8.compile',
  ...(PROFILE ? ['disabled-by-default-v8.cpu_profiler'] : []),
];
const totals = new Map(); // phase -> { wall, lazy, js, n } summed over loads
const ownTasks = []; // durations (ms) of Trickle's tasks over 50 ms, all loads
try {
  for (let load = 0; load < LOADS; load++) {
    const context = await browser.newContext({ reducedMotion: 'reduce' });
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: RATE });
    await p.addInitScript(probe);
    await browser.startTracing(p, { categories: CATEGORIES });
    await p.goto(`${ORIGIN}/bench/trickle.html?user=trace|${load}`);
    // Polled through CDP: playwright's waitForFunction would inject its own script.
    for (const end = Date.now() + 30000; ;) {
      await new Promise((r) => setTimeout(r, 100));
      const { result } = await cdp.send('Runtime.evaluate', { expression: 'window.__painted === true', returnByValue: true });
      if (result.value) break;
      if (Date.now() > end) throw new Error('not painted in 30 s');
    }
    await p.waitForTimeout(500 * RATE);
    const buf = await browser.stopTracing();
    await context.close();
    if (SAVE) writeFileSync(SAVE.replace(/(\.json)?$/, `.${load}.json`), buf);
    report(JSON.parse(buf.toString()).traceEvents, load);
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`\nTrickle's tasks over 50 ms at ${RATE}x: ${ownTasks.length} in ${LOADS} loads` +
  (ownTasks.length ? ` (${ownTasks.map((d) => d.toFixed(1)).join(', ')} ms; blocking ${ownTasks.reduce((a, d) => a + d - 50, 0).toFixed(1)} ms in all)` : ''));
if (CPU) {
  console.log(`\nTrickle's tasks over 2 ms at ${RATE}x, per load: start (ms from navigation) wall/CPU ms; longest CPU time:`);
  for (const [i, list] of cpuTasks.entries()) {
    console.log(`  load ${i + 1}: ${list.map((t) => `@${t.at.toFixed(0)} ${t.wall.toFixed(1)}/${t.cpu.toFixed(1)}${t.what ? ` ${t.what}` : ''}`).join(', ')}; ` +
      `longest ${Math.max(0, ...list.map((t) => t.cpu)).toFixed(1)}`);
  }
}
console.log(`\nphase totals inside tasks over 50 ms, mean of ${LOADS} loads at ${RATE}x (ms):`);
for (const [k, v] of totals) {
  console.log(`  ${(v.wall / LOADS).toFixed(1).padStart(7)}  ${k.padEnd(44)} (lazy wasm compile ${(v.lazy / LOADS).toFixed(1)}, JS compile ${(v.js / LOADS).toFixed(1)}; in ${v.n} of ${LOADS} loads)`);
}

function report(events, load) {
  // The page's renderer: the process whose main thread has the probe's marks.
  const markEv = events.filter((e) => e.cat?.includes('blink.user_timing') && e.name.startsWith('probe:'));
  if (!markEv.length) throw new Error('no probe marks in the trace');
  const pid = markEv[0].pid;
  const main = events.find((e) => e.pid === pid && e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain');
  const tid = main.tid;
  const mine = events.filter((e) => e.pid === pid && e.tid === tid && (e.ph === 'X' || e.ph === 'I' || e.ph === 'R' || e.ph === 'b' || e.ph === 'n'));
  const nav = mine.find((e) => e.name === 'navigationStart')?.ts ?? markEv.find((e) => e.name === 'probe:instantiateStreaming:call')?.ts;
  const isTask = (e) => e.ph === 'X' && (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask');
  const tasks = mine.filter((e) => isTask(e) && e.dur > 50000);
  // keep only outermost tasks
  const outer = tasks.filter((t) => !tasks.some((o) => o !== t && o.ts <= t.ts && o.ts + o.dur >= t.ts + t.dur && o.dur > t.dur));
  // Trickle's when it ran Trickle's script or wasm (trickle.js functions, wasm
  // compilation, or the probe's marks of the widget's calls); otherwise the page's
  // own (parsing, layout) or the browser's.
  const isOurs = (t) => {
    const end = t.ts + t.dur;
    return mine.some((e) => e.ts >= t.ts && e.ts < end && (
      (/^(EvaluateScript|FunctionCall|v8\.compile)$/.test(e.name) &&
        /trickle\.js/.test(e.args?.data?.url ?? e.args?.data?.fileName ?? '')) ||
      /^(v8\.wasm|wasm\.)/.test(e.name))) || markEv.some((m) => m.ts >= t.ts && m.ts <= end);
  };
  const marks = markEv.filter((e) => e.pid === pid).sort((a, b) => a.ts - b.ts);
  if (CPU) {
    const all = mine.filter((e) => isTask(e) && e.tdur != null && e.dur > 2000);
    const top = all.filter((t) => !all.some((o) => o !== t && o.ts <= t.ts && o.ts + o.dur >= t.ts + t.dur && o.dur > t.dur));
    // Named by what ran in it: the script's evaluation, the probe's marks (the
    // widget's storage calls, events, DOM insertions, the wasm instance), or the
    // number of wasm functions compiled lazily in it.
    const label = (t) => {
      const end = t.ts + t.dur;
      const inside = (e) => e.ts >= t.ts && e.ts < end;
      const names = new Set();
      if (mine.some((e) => inside(e) && e.name === 'EvaluateScript')) names.add('eval');
      for (const m of marks.filter(inside)) names.add(m.name.slice(6).replace(/[:(#].*$/, '').replace(/^storage\..*/, 'storage').trim());
      const lazy = mine.filter((e) => inside(e) && e.name === 'wasm.CompileLazy');
      const ms = (list) => (list.reduce((s, e) => s + (e.tdur ?? e.dur ?? 0), 0) / 1000).toFixed(1);
      if (lazy.length) names.add(`${lazy.length} lazy (${ms(lazy)} ms)`);
      const js = mine.filter((e) => inside(e) && e.name === 'V8.CompileCode');
      if (js.length) names.add(`JS compile ${ms(js)} ms`);
      return [...names].join('+');
    };
    cpuTasks.push(top.filter(isOurs).map((t) => ({ at: (t.ts - nav) / 1000, wall: t.dur / 1000, cpu: t.tdur / 1000, what: label(t) })));
  }
  const samples = PROFILE ? profileSamples(events, pid) : [];
  const rel = (ts) => ((ts - nav) / 1000).toFixed(1);
  console.log(`\n== load ${load + 1}: ${outer.length} task(s) over 50 ms at ${RATE}x; marks (ms from navigation start):`);
  console.log('   ' + marks.map((m) => `${m.name.slice(6)} ${rel(m.ts)}`).join(' | '));
  for (const t of outer) {
    const end = t.ts + t.dur;
    const ours = isOurs(t);
    if (ours) ownTasks.push(t.dur / 1000);
    console.log(`-- task at ${rel(t.ts)} ms, ${(t.dur / 1000).toFixed(1)} ms (blocking ${(t.dur / 1000 - 50).toFixed(1)} ms): ${ours ? "Trickle's" : "the page's"}`);
    const inside = mine.filter((e) => e !== t && e.ph === 'X' && e.ts >= t.ts && e.ts + (e.dur ?? 0) <= end && e.dur >= 300)
      .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    // depth by containment, to print a tree of what took time
    const stack = [];
    for (const e of inside) {
      while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
      const depth = stack.length;
      stack.push(e);
      if (depth > 3 || /CompileLazy|FlushInstructionCache|PreParse|V8.Compile/.test(e.name)) continue;
      const d = e.args?.data ?? e.args ?? {};
      const what = [d.functionName, d.url?.split('/').at(-1), d.fileName?.split('/').at(-1), d.type].filter(Boolean).join(' ');
      console.log(`${'   '.repeat(depth + 1)}${rel(e.ts).padStart(7)} +${(e.dur / 1000).toFixed(1).padStart(6)} ms  ${e.name}${what ? ` (${what})` : ''}`);
    }
    if (PROFILE) printSelfTime(samples.filter((x) => x.ts >= t.ts && x.ts < end));
    const inMarks = marks.filter((m) => m.ts >= t.ts && m.ts <= end);
    if (inMarks.length) console.log(`      marks inside: ${inMarks.map((m) => `${m.name.slice(6)} @${rel(m.ts)}`).join(', ')}`);
    // Phases, cut at the first mark of each kind inside the task; per phase its wall
    // time and how much of it was lazy wasm compilation (wasm.CompileLazy) and JS
    // compilation (V8.CompileCode), outermost events only.
    const first = (re) => inMarks.find((m) => re.test(m.name))?.ts;
    const cuts = [
      ['task start', t.ts], ['instance ready', first(/instantiate\w*:resolved/)],
      ['first storage read', first(/storage\./)], ['attachShadow', first(/attachShadow/)],
      ['trickle:shown', first(/trickle:shown/)], ['task end', end],
    ].filter(([, ts]) => ts != null);
    const all = mine.filter((e) => e.ph === 'X' && e.ts >= t.ts && e.ts + e.dur <= end);
    const outermost = (name) => all.filter((e) => e.name === name &&
      !all.some((o) => o !== e && o.name === e.name && o.ts <= e.ts && o.ts + o.dur >= e.ts + e.dur));
    const lazy = outermost('wasm.CompileLazy');
    const jsc = outermost('V8.CompileCode');
    const sum = (xs, a, b) => xs.filter((e) => e.ts >= a && e.ts < b).reduce((s, e) => s + e.dur, 0) / 1000;
    for (let i = 1; i < cuts.length; i++) {
      const [a, b] = [cuts[i - 1][1], cuts[i][1]];
      const k = `${cuts[i - 1][0]} -> ${cuts[i][0]}`;
      const v = totals.get(k) ?? { wall: 0, lazy: 0, js: 0, n: 0 };
      v.wall += (b - a) / 1000; v.lazy += sum(lazy, a, b); v.js += sum(jsc, a, b); v.n++;
      totals.set(k, v);
      console.log(`      phase ${k.padEnd(44)} ${((b - a) / 1000).toFixed(1).padStart(6)} ms (lazy wasm compile ${sum(lazy, a, b).toFixed(1)}, JS compile ${sum(jsc, a, b).toFixed(1)}; ${lazy.filter((e) => e.ts >= a && e.ts < b).length} wasm functions)`);
    }
  }
}

// The sampling profiler's samples of the renderer `pid`, as { ts, frame } with the
// sampled (innermost) frame's name: V8 writes them as `Profile`/`ProfileChunk` trace
// events, nodes and samples arriving in chunks, times as deltas.
function profileSamples(events, pid) {
  const nodes = new Map();
  const out = [];
  let ts = null;
  for (const e of events.filter((x) => x.pid === pid && (x.name === 'Profile' || x.name === 'ProfileChunk'))) {
    const d = e.args?.data ?? {};
    if (e.name === 'Profile') { ts = d.startTime; continue; }
    for (const n of d.cpuProfile?.nodes ?? []) {
      const f = n.callFrame ?? {};
      const file = (f.url ?? '').split('/').at(-1);
      nodes.set(n.id, `${f.functionName || '(anonymous)'}${file ? ` ${file}` : ''}`);
    }
    const ids = d.cpuProfile?.samples ?? [];
    const deltas = d.timeDeltas ?? [];
    for (let i = 0; i < ids.length; i++) {
      ts += deltas[i] ?? 0;
      out.push({ ts, frame: nodes.get(ids[i]) ?? `node ${ids[i]}` });
    }
  }
  return out;
}

function printSelfTime(inTask) {
  if (inTask.length < 2) return;
  const by = new Map();
  for (let i = 0; i + 1 < inTask.length; i++) {
    const dt = inTask[i + 1].ts - inTask[i].ts;
    by.set(inTask[i].frame, (by.get(inTask[i].frame) ?? 0) + dt);
  }
  const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log('      self time by function (sampled):');
  for (const [frame, us] of top) console.log(`        ${(us / 1000).toFixed(1).padStart(6)} ms  ${frame.slice(0, 110)}`);
}
