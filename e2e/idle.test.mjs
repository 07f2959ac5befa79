// The idle gate (contract section 4, v2): a page view where nothing can be shown and
// nothing is queued does not download or start the wasm; anything that could change
// the decision loads it then.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { ROOT, SEED, events, eventually, newPage, stack } from './harness.mjs';

const env = stack();
const seed = JSON.parse(readFileSync(SEED, 'utf8'));
delete seed.user;
let users = 0;

/** One browser context (one browser's storage) on the init-by-hand page. */
async function browser() {
  const tab = await newPage(env.browser);
  const wasm = [];
  tab.page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(r.url());
  });
  return { ...tab, wasm };
}

/** A page view: init with `config`, then identify `user`, as a host does. */
async function view(tab, user, config = seed) {
  tab.wasm.length = 0;
  await tab.page.goto(`${env.server.url}/pages/manual.html`);
  await tab.page.waitForFunction(() => window.Trickle);
  await tab.page.evaluate(([c, u]) => {
    window.Trickle.init(c).catch(() => {});
    if (u) window.Trickle.identify(u);
  }, [config, user]);
  await eventually(() => events(tab.page, 'ready').then((e) => e.length), 'trickle:ready');
  // Give a started wasm time to decide and leave (or clear) its hint.
  await tab.page.waitForTimeout(300);
}

const hint = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('trickle:v1:idle')));

describe('the idle gate', () => {
  test('a page view that can show nothing starts no wasm; explain() loads it', async () => {
    const tab = await browser();
    const user = { id: `idle|${process.pid}-${++users}`, loginsCount: 0 };
    await view(tab, user);
    assert.equal(tab.wasm.length, 1, 'the first page view decides');
    assert.equal((await hint(tab.page)).user, user.id);
    await view(tab, user);
    assert.deepEqual(tab.wasm, [], 'the same user, login and config: no wasm');
    assert.equal((await events(tab.page, 'ready')).length, 1);
    assert.equal(await tab.page.getByRole('dialog').count(), 0);
    const explained = await tab.page.evaluate(() => Promise.resolve(window.Trickle.explain()));
    assert.equal(tab.wasm.length, 1, 'explain() loads the wasm');
    assert.equal(explained.questions[0].reason, 'stage-not-reached');
    await tab.context.close();
  });

  test('a new login count loads the wasm and shows what became due', async () => {
    const tab = await browser();
    const user = { id: `idle|${process.pid}-${++users}`, loginsCount: 0 };
    await view(tab, user);
    await view(tab, { ...user, loginsCount: 1 });
    assert.equal(tab.wasm.length, 1);
    await tab.page.getByRole('dialog', { name: 'What should we call you?' }).waitFor();
    await tab.context.close();
  });

  test('another user loads the wasm; signing out does not', async () => {
    const tab = await browser();
    const user = { id: `idle|${process.pid}-${++users}`, loginsCount: 0 };
    await view(tab, user);
    await view(tab, user);
    await tab.page.evaluate(() => window.Trickle.identify(null));
    await tab.page.waitForTimeout(200);
    assert.deepEqual(tab.wasm, []);
    await tab.page.evaluate(() => window.Trickle.identify({ id: 'someone-else', loginsCount: 0 }));
    await eventually(() => tab.wasm.length === 1, 'the wasm for another user');
    await tab.context.close();
  });

  test('track() of a listed event loads the wasm; an unlisted one does not', async () => {
    const tab = await browser();
    const user = { id: `idle|${process.pid}-${++users}`, loginsCount: 0 };
    await view(tab, user);
    await view(tab, user);
    await tab.page.evaluate(() => window.Trickle.track('page-view'));
    await tab.page.waitForTimeout(200);
    assert.deepEqual(tab.wasm, [], 'no stage lists page-view');
    await tab.page.evaluate(() => window.Trickle.track('purchase'));
    // purchase reaches the contact stage, but basics come first; login 0 reaches
    // neither by count: the contact stage's first question shows.
    await tab.page.getByRole('dialog', { name: 'Where should we send invoices?' }).waitFor();
    assert.equal(tab.wasm.length, 1);
    await tab.context.close();
  });

  test('a queued answer or another config loads the wasm', async () => {
    const tab = await browser();
    const user = { id: `idle|${process.pid}-${++users}`, loginsCount: 0 };
    await view(tab, user);
    await view(tab, user, { ...seed, placement: 'bottom-left' });
    assert.equal(tab.wasm.length, 1, 'another config');
    await view(tab, user, { ...seed, placement: 'bottom-left' });
    assert.deepEqual(tab.wasm, [], 'now decided for that config');
    env.server.faults.plan = ['503'];
    await tab.page.evaluate(() => {
      // An answer another page view left queued (its send failed).
      localStorage.setItem('trickle:v1:outbox', JSON.stringify({ version: 1, queue: [{ userId: 'x', answer: { id: '9a7e2a1c-0d5e-4c4a-8b3e-5a1f0e2d3c4b', questionId: 'name', stage: 'basics', field: 'name', status: 'answered', value: 'Ada', other: false, answeredAt: '2026-12-01T10:00:00.000Z', loginsCount: 1 } }], dead: [] }));
    });
    await view(tab, user, { ...seed, placement: 'bottom-left' });
    assert.equal(tab.wasm.length, 1, 'something is queued: the wasm delivers it');
    env.server.faults.plan = [];
    await tab.context.close();
  });

  test('an idle page view downloads at most 8 KB brotli of Trickle code', () => {
    // What the idle view fetches is trickle.js alone (the tests above check that no
    // .wasm is requested).
    const js = readFileSync(join(ROOT, 'dist', 'embed', 'trickle.js'));
    const size = brotliCompressSync(js).length;
    assert.ok(size <= 8 * 1024, `trickle.js is ${size} B brotli (raw ${statSync(join(ROOT, 'dist', 'embed', 'trickle.js')).size})`);
  });
});
