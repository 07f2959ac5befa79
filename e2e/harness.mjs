// Shared e2e plumbing: the real collector (release binary, temp SQLite), a loopback
// server that serves the built artifacts and forwards /v1/* to the collector through a
// fault injector, and headless Debian Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');
export const SEED = join(ROOT, 'e2e', 'fixtures', 'seed.config.json');
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitFor(url, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${url} did not come up in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Start the collector on a fresh database. Without a `TRICKLE_SECRET` in `env` it
 * runs with `--dev` (the collector refuses to start unauthenticated otherwise).
 * `args`: extra flags (e.g. `['--forward', file]`).
 */
export async function startCollector({ config = SEED, env = {}, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'trickle-e2e-'));
  const port = await freePort();
  // scripts/test.sh points TRICKLE_COLLECTOR_BIN at the debug build its native tests
  // already made; by hand, the server-profile build (`cargo build --profile server`).
  const bin = process.env.TRICKLE_COLLECTOR_BIN ||
    join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'server', 'trickle-collector');
  const child = spawn(
    bin,
    [
      '--config', config, '--db', join(dir, 'trickle.db'), '--listen', `127.0.0.1:${port}`,
      ...(env.TRICKLE_SECRET ? [] : ['--dev']),
      ...args,
    ],
    { env: { ...process.env, RUST_LOG: 'error', ...env }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return {
    url,
    async profile(userId, headers = {}) {
      const r = await fetch(`${url}/v1/profiles/${encodeURIComponent(userId)}`, { headers });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** A deterministic PRNG, so a "30% random 5xx" run is the same run every time. */
function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Serve the artifacts and forward /v1/* to the collector. Faults apply to
 * `POST /v1/answers`: `faults.plan` is a list consumed one request at a time
 * ('pass', a status code such as 503, 'drop' to cut the connection, or 'redirect'
 * for a 302 to a page that answers 200), and
 * `faults.randomRate` answers that share of requests with 503 once the plan is empty.
 * `faults.profileDelayMs` holds every profile read (`GET /v1/profiles/...`) that long.
 * `log` records every answers request: { ids, outcome }.
 * `proxies` maps a path prefix to a base URL: `{ '/crm/': 'http://127.0.0.1:PORT/' }`
 * forwards `/crm/received` to `http://127.0.0.1:PORT/received` (no faults applied).
 */
export async function startServer(collector, { mounts = {}, proxies = {} } = {}) {
  const faults = { plan: [], randomRate: 0, random: mulberry32(42), profileDelayMs: 0 };
  const log = [];
  const roots = {
    '/trickle/': join(ROOT, 'dist', 'embed'),
    '/pages/': join(ROOT, 'e2e', 'pages'),
    ...mounts,
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/v1/')) return forward(req, res, url);
    for (const [prefix, base] of Object.entries(proxies)) {
      if (url.pathname.startsWith(prefix)) return proxy(req, res, new URL(url.pathname.slice(prefix.length) + url.search, base));
    }
    // Browsers ask for one; a 404 would be a console error in every test page.
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    for (const [prefix, dir] of Object.entries(roots)) {
      if (!url.pathname.startsWith(prefix)) continue;
      let file = normalize(join(dir, url.pathname.slice(prefix.length)));
      if (!file.startsWith(dir)) break;
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!existsSync(file)) break;
      const headers = { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' };
      if (url.searchParams.has('csp')) headers['content-security-policy'] = CSP;
      res.writeHead(200, headers);
      return createReadStream(file).pipe(res);
    }
    res.writeHead(404).end('not found');
  });

  async function forward(req, res, url) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const isAnswers = req.method === 'POST' && url.pathname === '/v1/answers';
    if (req.method === 'GET' && url.pathname.startsWith('/v1/profiles/') && faults.profileDelayMs) {
      await new Promise((r) => setTimeout(r, faults.profileDelayMs));
    }
    let outcome = 'pass';
    if (isAnswers) {
      if (faults.plan.length) outcome = String(faults.plan.shift());
      else if (faults.randomRate && faults.random() < faults.randomRate) outcome = '503';
      let ids = [];
      try {
        ids = JSON.parse(body.toString()).answers.map((a) => a.id);
      } catch {
        // a malformed body is the collector's to judge
      }
      log.push({ ids, outcome, contentType: req.headers['content-type'] });
    }
    if (outcome === 'drop') return req.socket.destroy();
    // A login wall: 302 to a page that answers 200. Never followed by the widget.
    if (outcome === 'redirect') {
      res.writeHead(302, { location: '/pages/host.html' });
      return res.end();
    }
    if (outcome !== 'pass') {
      res.writeHead(Number(outcome), { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: 'injected fault' }));
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers['content-length'];
    try {
      const r = await fetch(collector.url + url.pathname + url.search, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
      });
      const out = Buffer.from(await r.arrayBuffer());
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') || 'application/json' });
      res.end(out);
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  }

  async function proxy(req, res, target) {
    try {
      const r = await fetch(target, { method: req.method, headers: { accept: req.headers.accept || '*/*' } });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(Buffer.from(await r.arrayBuffer()));
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  }

  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    log,
    stop: () => new Promise((r) => server.close(r)),
  };
}

/** Headless Debian Chromium; the flags keep it off the (closed) network. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * A page that records console lines, page errors, CSP violations and trickle:* events,
 * readable with `pageRecords(page)`.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const records = { console: [], pageErrors: [] };
  page.on('console', (m) => records.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => records.pageErrors.push(String(e)));
  await page.addInitScript(() => {
    window.__trickle = { events: [], csp: [] };
    for (const name of ['ready', 'shown', 'answered', 'declined', 'snoozed', 'delivered', 'error']) {
      document.addEventListener(`trickle:${name}`, (e) =>
        window.__trickle.events.push({ type: e.type, detail: JSON.parse(JSON.stringify(e.detail ?? null)) }),
      );
    }
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__trickle.csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  return { page, context, records };
}

/** The trickle:* events seen so far, optionally of one type ('shown', 'error', ...). */
export async function events(page, type) {
  const all = await page.evaluate(() => window.__trickle.events);
  return type ? all.filter((e) => e.type === `trickle:${type}`) : all;
}

/** Wait until `fn()` returns a truthy value (polling), or fail with `what`. */
export async function eventually(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The collector, the fault-injecting server and Chromium, started before and stopped
 * after the current test file. The fields of the returned object are set once the
 * `before` hook has run. `mounts` may be a function, read when the server starts;
 * `proxies` (see startServer) too.
 */
export function stack({ collector: options, mounts, proxies } = {}) {
  const env = {};
  const read = (v) => (typeof v === 'function' ? v() : v);
  before(async () => {
    env.collector = await startCollector(options);
    env.server = await startServer(env.collector, {
      mounts: read(mounts),
      proxies: read(proxies),
    });
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    await env.collector?.stop();
  });
  return env;
}
