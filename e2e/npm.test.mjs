// The npm package in a real bundler: a Vite 7 app imports the packed tarball, is built,
// and runs in Chromium against the collector.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import {
  ROOT, eventually, newPage, stack,
} from './harness.mjs';

let app;
before(() => {
  app = mkdtempSync(join(tmpdir(), 'trickle-vite-'));
  cpSync(join(ROOT, 'e2e', 'npm-app'), app, { recursive: true });
  const tarball = readdirSync(join(ROOT, 'dist', 'npm')).find((f) => f.endsWith('.tgz'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'vite-app', private: true, type: 'module',
    dependencies: { 'trickle-widget': `file:${join(ROOT, 'dist', 'npm', tarball)}` },
  }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--base', '/app/', '--logLevel', 'error'], { cwd: app });
});
const env = stack({ mounts: () => ({ '/app/': join(app, 'dist') }) });

test('a Vite 7 app built with the npm package shows the popup and delivers an answer', async () => {
  const { page, context, records } = await newPage(env.browser);
  await page.goto(`${env.server.url}/app/?user=vite-${process.pid}`);
  await page.getByRole('dialog', { name: 'What should we call you?' }).waitFor();
  assert.match(await page.textContent('#status'), /^ready: 9 questions$/);
  await page.getByRole('textbox', { name: 'What should we call you?' }).fill('Vita');
  await page.getByRole('button', { name: 'Save' }).click();
  await eventually(async () => {
    const { body } = await env.collector.profile(`vite-${process.pid}`);
    return body?.profile?.name === 'Vita';
  }, 'the answer in the collector');
  assert.deepEqual(records.pageErrors, []);
  await context.close();
});
