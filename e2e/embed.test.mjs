// The script-tag bundle on host pages: config discovery, the call queue, errors that
// stay out of the host page, isolation (styles, globals, CSP), markup as text, destroy.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  eventually, events, newPage, stack,
} from './harness.mjs';

const env = stack();

const FIRST_PROMPT = 'What should we call you?';

async function open(path, user = { id: `embed|${Math.random()}`, loginsCount: 1 }) {
  const tab = await newPage(env.browser);
  await tab.page.goto(env.server.url + path);
  await tab.page.waitForFunction(() => window.Trickle);
  if (user) await tab.page.evaluate((u) => window.Trickle.identify(u), user);
  return tab;
}

describe('script tag', () => {
  test('an inline config shows the first question of the first stage', async () => {
    const { page, context } = await open('/pages/host.html');
    await page.getByRole('dialog', { name: FIRST_PROMPT }).waitFor();
    const shown = await eventually(() => events(page, 'shown').then((e) => e[0]), 'trickle:shown');
    assert.deepEqual(shown.detail, { questionId: 'name', stage: 'basics', field: 'name' });
    await context.close();
  });

  test('a config given by data-config URL is loaded and used', async () => {
    const { page, context } = await open('/pages/url-config.html');
    await page.getByRole('dialog', { name: FIRST_PROMPT }).waitFor();
    await context.close();
  });

  test('calls made before the wasm loads are replayed in order', async () => {
    // early.html calls init, identify (name and email known) and track('purchase')
    // synchronously after the script tag: the purchase reaches the contact stage.
    const { page, context } = await open('/pages/early.html', null);
    await page.getByRole('dialog', { name: 'Where should we send invoices?' }).waitFor();
    await context.close();
  });

  test('a bad config logs one [trickle] error, fires trickle:error and leaves the page working', async () => {
    const { page, context, records } = await open('/pages/bad-config.html', null);
    const errors = await eventually(() => events(page, 'error').then((e) => e.length && e), 'trickle:error');
    assert.equal(errors.length, 1);
    assert.match(errors[0].detail.message, /stages\[0\]\.questions/);
    const consoleErrors = records.console.filter((m) => m.type === 'error');
    assert.equal(consoleErrors.length, 1, JSON.stringify(consoleErrors));
    assert.match(consoleErrors[0].text, /^\[trickle\] /);
    assert.deepEqual(records.pageErrors, []);
    await page.click('#host-button');
    assert.equal(await page.locator('[data-trickle-host]').count(), 0);
    await context.close();
  });

  test('init by hand rejects a bad config with the path-named error', async () => {
    const { page, context, records } = await open('/pages/manual.html', null);
    const message = await page.evaluate(() =>
      window.Trickle.init({ endpoint: 'ftp://x', stages: [] }).then(() => 'resolved', (e) => e.message),
    );
    assert.match(message, /^endpoint: /);
    assert.deepEqual(records.pageErrors, []);
    await context.close();
  });

  test('a wasm that cannot be downloaded rejects init with the status, reports one load error and leaves the page working', async () => {
    const { page, context, records } = await open('/pages/manual.html', null);
    const message = await page.evaluate(() =>
      window.Trickle.init({ endpoint: '/v1/answers', stages: [] }, { wasmUrl: '/trickle/missing.wasm' })
        .then(() => 'resolved', (e) => e.message),
    );
    assert.match(message, /^HTTP 404 for http:.*\/trickle\/missing\.wasm$/);
    const errors = await events(page, 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].detail.code, 'load');
    assert.match(errors[0].detail.message, /^could not load the widget: HTTP 404 for /);
    const ours = records.console.filter((m) => m.text.startsWith('[trickle]'));
    assert.equal(ours.length, 1, JSON.stringify(ours));
    assert.deepEqual(records.pageErrors, []);
    // Later calls do not wait for a wasm that will not come.
    const explained = await page.evaluate(() => window.Trickle.explain().then(() => 'resolved', (e) => e.message));
    assert.equal(explained, message);
    await context.close();
  });

  test('the only global the widget adds is window.Trickle', async () => {
    const tab = await newPage(env.browser);
    await tab.page.goto(`${env.server.url}/pages/host.html`);
    await tab.page.waitForFunction(() => window.Trickle);
    await tab.page.evaluate(() => window.Trickle.identify({ id: 'globals|1', loginsCount: 1 }));
    await tab.page.getByRole('dialog', { name: FIRST_PROMPT }).waitFor();
    const added = await tab.page.evaluate(() => {
      const frame = document.createElement('iframe');
      document.body.append(frame);
      const clean = new Set(Object.getOwnPropertyNames(frame.contentWindow));
      frame.remove();
      return Object.getOwnPropertyNames(window).filter((k) => !clean.has(k) && k !== '__trickle');
    });
    assert.deepEqual(added, ['Trickle']);
    await tab.context.close();
  });

  test('host page styles are untouched and hostile host CSS does not reach the popup', async () => {
    const probe = () =>
      ['host-text', 'host-button'].map((id) => {
        const s = getComputedStyle(document.getElementById(id));
        return [s.color, s.fontSize, s.fontFamily, s.backgroundColor, s.display].join('|');
      });
    // Plain host page: the host's own elements look the same before and after.
    const tab = await newPage(env.browser);
    await tab.page.goto(`${env.server.url}/pages/manual.html`);
    await tab.page.waitForFunction(() => window.Trickle);
    const before = await tab.page.evaluate(probe);
    const config = JSON.parse(await (await fetch(`${env.server.url}/pages/config.json`)).text());
    await tab.page.evaluate((c) => window.Trickle.init({ ...c, user: { id: 'styles|1', loginsCount: 1 } }), config);
    await tab.page.getByRole('dialog', { name: FIRST_PROMPT }).waitFor();
    assert.deepEqual(await tab.page.evaluate(probe), before);
    const plainBox = await tab.page.getByRole('dialog').boundingBox();
    await tab.context.close();

    // Hostile page: the popup keeps its size and still answers.
    const { page, context } = await open('/pages/hostile.html', { id: 'hostile|1', loginsCount: 1 });
    const dialog = page.getByRole('dialog', { name: FIRST_PROMPT });
    await dialog.waitFor();
    const box = await dialog.boundingBox();
    assert.ok(Math.abs(box.width - plainBox.width) < 1, `width ${box.width} vs ${plainBox.width}`);
    assert.ok(Math.abs(box.height - plainBox.height) < 1, `height ${box.height} vs ${plainBox.height}`);
    const color = await dialog.evaluate((d) => getComputedStyle(d).color);
    assert.notEqual(color, 'rgb(255, 0, 0)');
    await page.getByRole('textbox', { name: FIRST_PROMPT }).fill('Ada');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog', { name: 'Which email should we write to?' }).waitFor();
    await context.close();
  });

  test('under a strict CSP the popup works and no violation is reported', async () => {
    const { page, context, records } = await open('/pages/host.html?csp', { id: 'csp|1', loginsCount: 1 });
    await page.getByRole('dialog', { name: FIRST_PROMPT }).waitFor();
    await page.getByRole('textbox', { name: FIRST_PROMPT }).fill('Ada');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog', { name: 'Which email should we write to?' }).waitFor();
    assert.deepEqual(await page.evaluate(() => window.__trickle.csp), []);
    assert.deepEqual(records.pageErrors, []);
    await context.close();
  });

  test('markup in prompts and labels is shown as text, never parsed', async () => {
    const { page, context } = await open('/pages/manual.html', null);
    const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
    await page.evaluate((evil) => window.Trickle.init({
      endpoint: '/v1/answers',
      user: { id: 'markup|1', loginsCount: 1 },
      stages: [{ id: 's', minLogins: 0, questions: [{
        id: 'q', field: 'q', kind: 'choice', prompt: evil, why: evil,
        options: [{ value: 'a', label: evil }],
      }] }],
    }), evil);
    const dialog = page.getByRole('dialog', { name: evil });
    await dialog.waitFor();
    await page.getByRole('button', { name: evil }).waitFor();
    const hasElements = await page.evaluate(() => {
      const root = document.querySelector('[data-trickle-host]').shadowRoot;
      return root.querySelectorAll('img, b').length;
    });
    assert.equal(hasElements, 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await context.close();
  });

  test('destroy() removes every node it added and stops its retries and listeners', async () => {
    const { page, context, records } = await open('/pages/host.html', { id: 'destroy|1', loginsCount: 1 });
    await page.getByRole('dialog', { name: FIRST_PROMPT }).waitFor();
    // Leave an answer queued behind a failing endpoint, so a leftover timer or
    // `online` listener would send it again.
    env.server.faults.plan = Array(20).fill('503');
    await page.getByRole('textbox', { name: FIRST_PROMPT }).fill('Ada');
    await page.getByRole('button', { name: 'Save' }).click();
    const [answered] = await eventually(() => events(page, 'answered').then((e) => e.length && e), 'trickle:answered');
    const tries = () => env.server.log.filter((r) => r.ids.includes(answered.detail.id)).length;
    await eventually(() => tries() >= 1, 'the first failed send');
    const bodyBefore = await page.evaluate(() => document.body.children.length);
    await page.evaluate(() => window.Trickle.destroy());
    assert.equal(await page.locator('[data-trickle-host]').count(), 0);
    assert.equal(await page.evaluate(() => document.body.children.length), bodyBefore - 1);
    const sent = tries();
    const seen = (await events(page)).length;
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForTimeout(4500); // past the first two backoff steps (2 s, 4 s)
    assert.equal(tries(), sent, 'no send after destroy()');
    assert.equal((await events(page)).length, seen);
    assert.equal((await page.evaluate(() => window.Trickle.explain())).queued, 1, 'the answer stays queued');
    assert.deepEqual(records.pageErrors, []);
    env.server.faults.plan = [];
    await context.close();
  });
});
