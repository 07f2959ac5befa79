// A real panic inside the wasm of the built script-tag bundle, from an export call and
// from a timer: one [trickle] console line, one trickle:error {code: "internal"}, no
// uncaught error in the host page, and the widget stopped for good.
//
// It runs on dist/embed-panic/, the same bundle built with the `test-panic` feature
// (`./scripts/build-embed.sh --test-panic`), whose track() panics for two magic event
// names; the first test checks that the shipped dist/embed/ has no such hook.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ROOT, eventually, events, newPage, stack,
} from './harness.mjs';

const PANIC_DIR = join(ROOT, 'dist', 'embed-panic');
const env = stack({ mounts: { '/trickle-panic/': PANIC_DIR } });

const FIRST_PROMPT = 'What should we call you?';
const MARKER = 'trickle:test-panic';

/** A host page running the test-panic bundle with the popup open. */
async function openPanicPage(userId) {
  const tab = await newPage(env.browser);
  await tab.page.goto(`${env.server.url}/pages/panic.html`);
  await tab.page.waitForFunction(() => window.Trickle);
  const config = JSON.parse(readFileSync(join(ROOT, 'e2e', 'pages', 'config.json'), 'utf8'));
  await tab.page.evaluate((c) => window.Trickle.init(c), config);
  await tab.page.evaluate((id) => window.Trickle.identify({ id, loginsCount: 1 }), userId);
  await tab.page.getByRole('dialog', { name: FIRST_PROMPT }).waitFor();
  return tab;
}

/** Console errors (every one, not only [trickle] ones) and trickle:error events so far. */
async function reported({ page, records }) {
  return {
    consoleErrors: records.console.filter((m) => m.type === 'error').map((m) => m.text),
    errors: (await events(page, 'error')).map((e) => e.detail),
    pageErrors: [...records.pageErrors],
  };
}

/**
 * Exactly one [trickle] line and one internal trickle:error for `message`, nothing
 * uncaught; then every call returns early without throwing or reporting, and init
 * rejects.
 */
async function assertReportedOnceThenStopped(tab, message) {
  const { page } = tab;
  await eventually(() => events(page, 'error').then((e) => e.length), 'trickle:error');
  await page.waitForTimeout(300); // a second report or an uncaught error would land by now
  const expected = {
    consoleErrors: [`[trickle] internal error: ${message}`],
    errors: [{ code: 'internal', message }],
    pageErrors: [],
  };
  assert.deepEqual(await reported(tab), expected);

  const after = await page.evaluate(async (marker) => {
    const threw = [];
    const call = (name, ...args) => {
      try {
        return window.Trickle[name](...args);
      } catch (e) {
        threw.push(`${name}: ${e}`);
        return undefined;
      }
    };
    call('identify', { id: 'panic|other', loginsCount: 3 });
    call('track', 'purchase');
    call('track', marker);
    call('track', `${marker}-later`);
    const explained = call('explain');
    call('destroy');
    const init = await call('init', { endpoint: '/v1/answers', stages: [] }).then(
      () => 'resolved',
      (e) => `rejected: ${e && e.message}`,
    );
    return { threw, init, explainedType: explained === null ? 'null' : typeof explained };
  }, MARKER);
  assert.deepEqual(after.threw, []);
  assert.match(after.init, /^rejected: /);
  assert.ok(['null', 'object'].includes(after.explainedType), after.explainedType);
  await page.waitForTimeout(300);
  assert.deepEqual(await reported(tab), expected, 'nothing more is reported after the panic');
  // Nothing new asked: the popup is not replaced by another user's question.
  assert.equal(await page.getByRole('dialog', { name: 'Which company do you work for?' }).count(), 0);
}

describe('a real panic in the script-tag bundle', () => {
  test('the shipped bundle has no test-panic hook; the test bundle has it', () => {
    for (const file of ['trickle.wasm', 'trickle.js']) {
      const shipped = readFileSync(join(ROOT, 'dist', 'embed', file));
      assert.equal(shipped.includes(MARKER), false, `dist/embed/${file} contains ${MARKER}`);
    }
    assert.equal(readFileSync(join(PANIC_DIR, 'trickle.wasm')).includes(MARKER), true);
  });

  test('a panic during track() is reported once and nothing is thrown into the host', async () => {
    const tab = await openPanicPage('panic|export');
    const thrown = await tab.page.evaluate((marker) => {
      try {
        window.Trickle.track(marker);
        return null;
      } catch (e) {
        return String(e);
      }
    }, MARKER);
    assert.equal(thrown, null);
    await assertReportedOnceThenStopped(tab, 'test panic in track()');
    await tab.context.close();
  });

  test('a panic in a timer is reported once and is not an uncaught error of the page', async () => {
    const tab = await openPanicPage('panic|timer');
    await tab.page.evaluate((marker) => window.Trickle.track(`${marker}-later`), MARKER);
    await assertReportedOnceThenStopped(tab, 'test panic in a timer');
    await tab.context.close();
  });

  test('after a panic the host page goes on', async () => {
    const tab = await openPanicPage('panic|page');
    await tab.page.evaluate((marker) => window.Trickle.track(marker), MARKER);
    await eventually(() => events(tab.page, 'error').then((e) => e.length), 'trickle:error');
    await tab.page.evaluate(() => {
      window.__clicked = 0;
      document.getElementById('host-button').addEventListener('click', () => { window.__clicked += 1; });
    });
    await tab.page.click('#host-button');
    assert.equal(await tab.page.evaluate(() => window.__clicked), 1);
    await tab.context.close();
  });
});
