// One user, many devices (contract section 2, v2): what a user answered, declined or
// put off on one device is not asked again on another. Each device is a fresh browser
// context (its own localStorage). The page and the collector are on different origins
// and the collector runs with a secret, so the userHash HMAC and CORS (preflighted
// posts and profile reads with X-Trickle-User-Hash) are exercised end to end.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  SEED, eventually, events, launchBrowser, newPage, startCollector, startServer,
} from './harness.mjs';

const SECRET = 'e2e-devices-secret';
const USER = `devices|${process.pid}`;
const hash = (id) => createHmac('sha256', SECRET).update(id).digest('hex');

const env = {};
before(async () => {
  // The page's origin; it never forwards to a collector (the widget calls it directly).
  env.pages = await startServer({ url: 'http://127.0.0.1:9' });
  env.collector = await startCollector({
    env: { TRICKLE_SECRET: SECRET, TRICKLE_ALLOWED_ORIGINS: env.pages.url },
  });
  // A same-origin server in front of the same collector, for the slow profile read.
  env.proxy = await startServer(env.collector);
  env.browser = await launchBrowser();
});
after(async () => {
  await env.browser?.close();
  await env.proxy?.stop();
  await env.pages?.stop();
  await env.collector?.stop();
});

/** The seed config, calling the collector on its own origin. */
function crossOrigin() {
  const config = JSON.parse(readFileSync(SEED, 'utf8'));
  delete config.user;
  config.endpoint = `${env.collector.url}/v1/answers`;
  config.profileUrl = `${env.collector.url}/v1/profiles/{userId}`;
  return config;
}

/** A new device: a fresh context on `origin`, the widget started for `user`. */
async function device(user, { origin = env.pages.url, config = crossOrigin() } = {}) {
  const tab = await newPage(env.browser);
  await tab.page.goto(`${origin}/pages/manual.html`);
  await tab.page.waitForFunction(() => window.Trickle);
  await tab.page.evaluate(([c, u]) => window.Trickle.init({ ...c, user: u }), [config, user]);
  return tab;
}

const dialog = (page, name) => page.getByRole('dialog', { name });

async function reasons(page) {
  const explained = await page.evaluate(() => window.Trickle.explain());
  return Object.fromEntries(explained.questions.map((q) => [q.questionId, q.reason]));
}

/** Waits until every answer the page queued was delivered (the outbox is empty). */
async function drained(page) {
  await eventually(async () => (await page.evaluate(() => window.Trickle.explain())).queued === 0, 'an empty outbox');
}

const consoleErrors = (records) => records.console.filter((m) => m.type === 'error').map((m) => m.text);

describe('one user on many devices', () => {
  const user = { id: USER, loginsCount: 2, userHash: hash(USER) };

  test('answers and a decline given on one device are not asked on another', async () => {
    const a = await device(user);
    await dialog(a.page, 'What should we call you?').waitFor();
    await a.page.getByRole('textbox', { name: 'What should we call you?' }).fill('Ada');
    await a.page.getByRole('button', { name: 'Save' }).click();
    await a.page.getByRole('textbox', { name: 'Which email should we write to?' }).fill('ada@example.com');
    await a.page.getByRole('button', { name: 'Save' }).click();
    await dialog(a.page, 'Where should we send invoices?').waitFor();
    await a.page.getByRole('button', { name: 'Prefer not to say' }).click();
    await drained(a.page);
    assert.equal((await events(a.page, 'delivered')).flatMap((e) => e.detail.ids).length, 3);
    assert.deepEqual(consoleErrors(a.records), [], 'CORS and the hash let every request through');
    await a.context.close();

    const b = await device(user);
    await dialog(b.page, 'When is your birthday?').waitFor();
    const shown = await events(b.page, 'shown');
    assert.deepEqual(shown.map((e) => e.detail.questionId), ['birthday'], 'nothing settled elsewhere was shown');
    const why = await reasons(b.page);
    assert.equal(why.name, 'known');
    assert.equal(why.email, 'known');
    assert.equal(why.address, 'declined');
    assert.deepEqual(consoleErrors(b.records), []);

    // "Not now" on this device puts the contact stage off on every device.
    await b.page.getByRole('button', { name: 'Not now' }).click();
    await drained(b.page);
    await b.context.close();

    const c = await device(user);
    await eventually(async () => (await reasons(c.page)).birthday === 'snoozed', 'the snooze from device B');
    assert.deepEqual(await events(c.page, 'shown'), []);
    assert.equal(await c.page.getByRole('dialog').count(), 0);
    await c.context.close();
  });

  test('a profile read with another user\'s hash is refused, reported, and reads nothing', async () => {
    const intruder = await device({ id: USER, loginsCount: 2, userHash: hash('someone-else') });
    const [error] = await eventually(() => events(intruder.page, 'error').then((e) => e.length && e), 'trickle:error');
    assert.equal(error.detail.code, 'profile');
    assert.match(error.detail.message, /401/);
    // Nothing came back from the server: this device asks from scratch.
    await dialog(intruder.page, 'What should we call you?').waitFor();
    assert.equal((await reasons(intruder.page)).address, null);
    await intruder.context.close();
  });

  test('a slow profile read does not hold the popup, and a question it settles goes away', async () => {
    env.proxy.faults.profileDelayMs = 4000;
    const config = { ...crossOrigin(), endpoint: '/v1/answers', profileUrl: '/v1/profiles/{userId}' };
    const started = Date.now();
    const slow = await device(user, { origin: env.proxy.url, config });
    // Decided from this device's own (empty) state after the 1.5 s wait.
    await dialog(slow.page, 'What should we call you?').waitFor();
    const waited = Date.now() - started;
    assert.ok(waited < 4000, `the popup waited ${waited} ms for a 4 s read`);
    // The read arrives: the name is known and the rest is settled or put off, so the
    // popup goes without anything being posted.
    await eventually(async () => (await slow.page.getByRole('dialog').count()) === 0, 'the popup to go', 10000);
    assert.deepEqual(await events(slow.page, 'answered'), []);
    assert.equal((await reasons(slow.page)).name, 'known');
    env.proxy.faults.profileDelayMs = 0;
    await slow.context.close();
  });
});
