// Delivery under network faults (contract section 3): every answer arrives, once.
// The fault-injecting server sits between the page and the real collector.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  eventually, events, newPage, stack, startCollector, startServer,
} from './harness.mjs';

const env = stack();

const NAME = 'What should we call you?';
let users = 0;

/** A fresh user on the inline-config host page, with the name question open. */
async function openFresh(srv = env.server) {
  const userId = `delivery|${process.pid}-${++users}`;
  const tab = await newPage(env.browser);
  await tab.page.goto(`${srv.url}/pages/host.html`);
  await tab.page.waitForFunction(() => window.Trickle);
  await tab.page.evaluate((id) => window.Trickle.identify({ id, loginsCount: 1 }), userId);
  await tab.page.getByRole('dialog', { name: NAME }).waitFor();
  return { ...tab, userId };
}

async function answerName(page, value = 'Ada') {
  await page.getByRole('textbox', { name: NAME }).fill(value);
  await page.getByRole('button', { name: 'Save' }).click();
  const [answered] = await eventually(() => events(page, 'answered').then((e) => e.length && e), 'trickle:answered');
  return answered.detail.id;
}

async function delivered(page, id, ms = 30000) {
  await eventually(
    () => events(page, 'delivered').then((e) => e.some((d) => d.detail.ids.includes(id))),
    `trickle:delivered for ${id}`,
    ms,
  );
}

/** The ids the collector stored for a user (each stored answer once). */
async function storedIds(userId, c = env.collector) {
  const { body } = await c.profile(userId);
  return (body?.answers ?? []).map((a) => a.id);
}

const attempts = (id, srv = env.server) => srv.log.filter((r) => r.ids.includes(id));

describe('delivery', () => {
  for (const [plan, label] of [
    [['503', '503', '503'], '503 three times then 200'],
    [['429'], '429 then 200'],
    [['drop'], 'a dropped connection then 200'],
    [['408'], '408 then 200'],
  ]) {
    test(`${label} delivers the answer exactly once`, async () => {
      const { page, context, userId } = await openFresh();
      env.server.faults.plan = [...plan];
      const id = await answerName(page);
      await delivered(page, id);
      assert.deepEqual(attempts(id).map((a) => a.outcome), [...plan, 'pass']);
      assert.deepEqual(await storedIds(userId), [id]);
      await context.close();
    });
  }

  test('an answer given offline is kept and delivered once back online', async () => {
    const { page, context, userId } = await openFresh();
    await context.setOffline(true);
    const id = await answerName(page);
    await page.waitForTimeout(1500);
    assert.equal((await page.evaluate(() => window.Trickle.explain())).queued, 1);
    assert.deepEqual(await storedIds(userId), []);
    await context.setOffline(false);
    await delivered(page, id);
    assert.deepEqual(await storedIds(userId), [id]);
    await context.close();
  });

  test('an answer still failing at reload is delivered after the reload', async () => {
    const { page, context, userId } = await openFresh();
    env.server.faults.plan = Array(50).fill('503');
    const id = await answerName(page);
    await eventually(() => attempts(id).length >= 1, 'a first failed attempt');
    env.server.faults.plan = [];
    await page.reload();
    await delivered(page, id);
    assert.deepEqual(await storedIds(userId), [id]);
    await context.close();
  });

  test('a 400 moves the answer to the dead letter with one trickle:error and no retry', async () => {
    const { page, context, userId } = await openFresh();
    env.server.faults.plan = ['400'];
    const id = await answerName(page);
    await eventually(() => events(page, 'error').then((e) => e.length), 'trickle:error');
    await page.waitForTimeout(3000);
    const errors = await events(page, 'error');
    assert.equal(errors.length, 1);
    assert.equal(attempts(id).length, 1);
    const explained = await page.evaluate(() => window.Trickle.explain());
    assert.equal(explained.deadLetter.length, 1);
    assert.equal(explained.queued, 0);
    assert.deepEqual(await storedIds(userId), []);
    await context.close();
  });

  test('a 302 to a login page is never followed: the answer is dead-lettered, not delivered', async () => {
    const { page, context, userId } = await openFresh();
    env.server.faults.plan = ['redirect'];
    const id = await answerName(page);
    const [error] = await eventually(() => events(page, 'error').then((e) => e.length && e), 'trickle:error');
    assert.equal(error.detail.code, 'rejected');
    assert.match(error.detail.message, /redirect/);
    await page.waitForTimeout(1000);
    assert.deepEqual(await events(page, 'delivered'), []);
    assert.equal(attempts(id).length, 1, 'not retried');
    const explained = await page.evaluate(() => window.Trickle.explain());
    assert.equal(explained.deadLetter[0].reason, 'redirected');
    assert.equal(explained.queued, 0);
    assert.deepEqual(await storedIds(userId), []);
    await context.close();
  });

  test('leaving the page flushes the queue with a text/plain beacon', async () => {
    const { page, context, userId } = await openFresh();
    env.server.faults.plan = ['503'];
    const id = await answerName(page);
    await eventually(() => attempts(id).length >= 1, 'the failed attempt');
    await page.goto('about:blank');
    await eventually(async () => (await storedIds(userId)).includes(id), 'the beaconed answer');
    assert.ok(attempts(id).some((a) => a.contentType?.startsWith('text/plain')), JSON.stringify(attempts(id)));
    await context.close();
  });

  test('20 answers under 30% random 5xx all arrive, each stored once', async () => {
    // Its own collector and config: one stage of 20 text questions, all in one login.
    const dir = mkdtempSync(join(tmpdir(), 'trickle-many-'));
    const questions = Array.from({ length: 20 }, (_, i) => ({
      id: `q${i + 1}`, field: `f${i + 1}`, kind: 'text', prompt: `Question ${i + 1}?`,
    }));
    const config = {
      endpoint: '/v1/answers',
      stages: [{ id: 'many', minLogins: 1, questions }],
      cadence: { maxQuestionsPerLogin: 20, snoozeLogins: 1, maxAsks: 3 },
    };
    const file = join(dir, 'many.json');
    writeFileSync(file, JSON.stringify(config));
    const many = await startCollector({ config: file });
    const srv = await startServer(many);
    srv.faults.randomRate = 0.3;
    const { page, context } = await newPage(env.browser);
    await page.goto(`${srv.url}/pages/manual.html`);
    await page.waitForFunction(() => window.Trickle);
    const userId = `many|${process.pid}`;
    await page.evaluate((c) => window.Trickle.init(c), { ...config, user: { id: userId, loginsCount: 1 } });
    for (const q of questions) {
      await page.getByRole('textbox', { name: q.prompt }).fill(`answer ${q.id}`);
      await page.getByRole('button', { name: 'Save' }).click();
    }
    const ids = (await eventually(
      () => events(page, 'answered').then((e) => e.length === 20 && e),
      '20 answers',
    )).map((e) => e.detail.id);
    await eventually(async () => (await storedIds(userId, many)).length === 20, 'all 20 stored', 60000);
    const stored = await storedIds(userId, many);
    assert.deepEqual([...stored].sort(), [...ids].sort());
    assert.equal(new Set(stored).size, 20);
    const failed = srv.log.filter((r) => r.outcome !== 'pass').length;
    console.log(`# 20 answers: ${srv.log.length} requests, ${failed} injected 5xx`);
    assert.ok(failed > 0, 'the run injected faults');
    await context.close();
    await srv.stop();
    await many.stop();
  });
});
