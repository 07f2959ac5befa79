// The marketer's view (GET /admin) in Chromium: opened with HTTP Basic credentials,
// it runs under the collector's own strict CSP with no console error and no CSP
// violation, axe-core finds no WCAG 2.2 A/AA violation, and its tables show what
// was posted. The screenshot lands in e2e/.out/admin.png for a human to look at.
import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, launchBrowser, newPage, startCollector } from './harness.mjs';

const OUT = join(ROOT, 'e2e', '.out');
const TOKEN = 'e2e-admin-token';
const env = {};

function answer(id, questionId, stage, field, status, value, other = false) {
  return {
    id, questionId, stage, field, status, other,
    ...(value === undefined ? {} : { value }),
    answeredAt: new Date().toISOString(),
    loginsCount: 3,
  };
}

async function post(userId, answers) {
  const r = await fetch(`${env.collector.url}/v1/answers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      userId, answers, context: { url: 'https://app.example.com/', locale: 'en', widget: 'e2e' },
    }),
  });
  assert.equal(r.status, 200, await r.text());
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  env.collector = await startCollector({ env: { TRICKLE_ADMIN_TOKEN: TOKEN } });
  env.browser = await launchBrowser();
  await post('ada', [
    answer('a1', 'name', 'basics', 'name', 'answered', 'Ada'),
    answer('a2', 'email', 'basics', 'email', 'answered', 'ada@example.com'),
    answer('a3', 'role', 'company', 'company.role', 'answered', 'senior'),
    answer('a4', 'industry', 'company', 'company.industry', 'answered', 'Shipbuilding', true),
  ]);
  await post('bo', [
    answer('b1', 'name', 'basics', 'name', 'snoozed'),
    answer('b2', 'name', 'basics', 'name', 'answered', 'Bo'),
    answer('b3', 'role', 'company', 'company.role', 'declined'),
  ]);
});

after(async () => {
  await env.browser?.close();
  await env.collector?.stop();
});

/** The cells of the row `key` of table `#id`. */
function row(page, id, key) {
  return page
    .locator(`table#${id} tbody tr[data-key="${key}"] td`)
    .allTextContents()
    .then((cells) => cells.map((c) => c.trim()));
}

describe('admin page', () => {
  test('with a wrong password Chromium gets 401', async () => {
    const { page, context } = await newPage(env.browser, {
      httpCredentials: { username: 'marketing', password: 'wrong' },
    });
    const response = await page.goto(`${env.collector.url}/admin`);
    assert.equal(response.status(), 401);
    assert.match(response.headers()['www-authenticate'], /^Basic /);
    await context.close();
  });

  test('with credentials it renders under its CSP without errors, passes axe, and shows the posted numbers', async () => {
    const { page, context, records } = await newPage(env.browser, {
      httpCredentials: { username: 'marketing', password: TOKEN },
      viewport: { width: 1280, height: 900 },
    });
    const response = await page.goto(`${env.collector.url}/admin`);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'self'/);
    await page.getByRole('heading', { name: 'Profile completeness' }).waitFor();
    // The stylesheet applied (served by the collector, allowed by style-src 'self').
    const background = await page.evaluate(() => getComputedStyle(document.querySelector('section')).backgroundColor);
    assert.equal(background, 'rgb(255, 255, 255)');
    await page.screenshot({ path: join(OUT, 'admin.png'), fullPage: true });

    assert.deepEqual(await row(page, 'questions', 'name'), ['basics', '2', '0', '1', '66.7%']);
    assert.deepEqual(await row(page, 'questions', 'role'), ['company', '1', '1', '0', '50.0%']);
    assert.deepEqual(await row(page, 'fields', 'name'), ['What should we call you?', '2', '100.0%']);
    assert.deepEqual(await row(page, 'stages', 'basics'), ['1', '2', '2', '1', '50.0%']);
    assert.deepEqual(await row(page, 'choice-industry', 'Other'), ['1', '100.0%']);
    assert.deepEqual(
      await page.locator('table#choice-industry-other tbody tr').allTextContents(),
      ['Shipbuilding1'],
    );
    assert.equal(await page.locator('svg').count(), 4 + 3);

    const result = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
      .analyze();
    assert.deepEqual(
      result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      [],
    );
    const csp_ = await page.evaluate(() => window.__trickle.csp);
    assert.deepEqual(csp_, [], 'no CSP violation');
    assert.deepEqual(records.console.filter((m) => m.type === 'error'), []);
    assert.deepEqual(records.pageErrors, []);
    await context.close();
  });
});
