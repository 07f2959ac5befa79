// The npm package in every mainstream bundler: Vite, webpack 5, Parcel, esbuild,
// Rollup and Next.js (App Router, the widget in a client component, the package also
// imported by a server component) each build an app from the packed package; each app
// runs in Chromium, shows the popup and delivers an answer to the collector.
//
// The bundlers are installed in e2e/bundlers (its own lockfile; scripts/setup.sh);
// each app is built in e2e/bundlers/work/<name>/ so the package and the bundlers
// resolve from e2e/bundlers/node_modules.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ROOT, eventually, newPage, stack } from './harness.mjs';

const HERE = join(ROOT, 'e2e', 'bundlers');
const BIN = join(HERE, 'node_modules', '.bin');
const ROOT_BIN = join(ROOT, 'node_modules', '.bin');
const times = {};

// Every build runs at its "warnings and errors only" log level: anything it prints
// is a warning (Next.js, which prints progress, is filtered for its warning marks).
const warnings = {};

function run(cmd, args, cwd, name) {
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
  });
  const output = `${r.stdout || ''}${r.stderr || ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${output}`);
  warnings[name] = (warnings[name] || '') + output;
}

/** A fresh copy of the app sources for `name`; returns its folder. */
function workdir(name) {
  const dir = join(HERE, 'work', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(HERE, 'apps'), dir, { recursive: true });
  return dir;
}

/** Static index.html next to a bundle `main.js` in `out`. */
function page(out, script = 'main.js') {
  const html = readFileSync(join(HERE, 'apps', 'index.html'), 'utf8').replace('./main.js', `./${script}`);
  writeFileSync(join(out, 'index.html'), html);
}

// Each bundler: how to build the app, and the folder to serve at /app-<name>/.
const BUNDLERS = {
  vite(dir) {
    run(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--base', '/app-vite/', '--logLevel', 'warn'], dir, 'vite');
    return join(dir, 'dist');
  },
  webpack(dir) {
    run(process.execPath, ['webpack.mjs'], dir, 'webpack');
    const out = join(dir, 'dist-webpack');
    page(out);
    return out;
  },
  parcel(dir) {
    run(join(BIN, 'parcel'), ['build', 'index.html', '--public-url', '/app-parcel/', '--dist-dir', 'dist', '--no-autoinstall', '--log-level', 'warn'], dir, 'parcel');
    return join(dir, 'dist');
  },
  esbuild(dir) {
    run(join(ROOT_BIN, 'esbuild'), ['main-wasm-url.js', '--bundle', '--format=esm', '--loader:.wasm=file', '--outdir=dist', '--public-path=/app-esbuild/', '--log-level=warning'], dir, 'esbuild');
    page(join(dir, 'dist'), 'main-wasm-url.js');
    return join(dir, 'dist');
  },
  rollup(dir) {
    run(join(BIN, 'rollup'), ['-c', 'rollup.config.mjs', '--silent'], dir, 'rollup');
    page(join(dir, 'dist'), 'main-wasm-url.js');
    return join(dir, 'dist');
  },
  next(dir) {
    const app = join(dir, 'next');
    run(join(BIN, 'next'), ['build'], app, 'next');
    // Next prints its progress; its warnings start with a warning sign. With CI set it
    // also notes that a fresh checkout has no build cache: that is about the machine,
    // not the package.
    warnings.next = warnings.next
      .split('\n')
      .filter((l) => /⚠|warn/i.test(l) && !/No build cache found/.test(l))
      .join('\n');
    return join(app, 'out');
  },
};

const outputs = {};
before(() => {
  // The packed package, as an app's `npm install trickle-widget` would unpack it.
  const pkg = join(ROOT, 'npm', 'pkg');
  assert.ok(existsSync(join(pkg, 'trickle.wasm')), 'run scripts/build-npm.sh first');
  const installed = join(HERE, 'node_modules', 'trickle-widget');
  rmSync(installed, { recursive: true, force: true });
  cpSync(pkg, installed, { recursive: true });
  for (const [name, build] of Object.entries(BUNDLERS)) {
    const started = Date.now();
    try {
      outputs[name] = build(workdir(name));
    } catch (e) {
      outputs[name] = e;
    }
    times[name] = Date.now() - started;
  }
  console.log(`# bundler build times (ms): ${JSON.stringify(times)}`);
});

const env = stack({
  mounts: () => Object.fromEntries(
    Object.entries(outputs).filter(([, out]) => typeof out === 'string').map(([name, out]) => [`/app-${name}/`, out]),
  ),
});

describe('the npm package in every bundler', () => {
  for (const name of Object.keys(BUNDLERS)) {
    test(`${name}: the app builds without errors or warnings, shows the popup and delivers an answer`, async () => {
      const out = outputs[name];
      if (out instanceof Error) assert.fail(`${name}: ${out.message}`);
      assert.equal((warnings[name] || '').trim(), '', `${name} warned`);
      const { page, context, records } = await newPage(env.browser);
      const user = `${name}-${process.pid}`;
      await page.goto(`${env.server.url}/app-${name}/?user=${user}`);
      await page.getByRole('dialog', { name: 'What should we call you?' }).waitFor();
      await eventually(async () => /^ready: 9 questions$/.test(await page.textContent('#status')), 'the app says ready');
      await page.getByRole('textbox', { name: 'What should we call you?' }).fill(name);
      await page.getByRole('button', { name: 'Save' }).click();
      await eventually(async () => {
        const { body } = await env.collector.profile(user);
        return body?.profile?.name === name;
      }, 'the answer in the collector');
      assert.deepEqual(records.pageErrors, []);
      await context.close();
    });
  }
});
