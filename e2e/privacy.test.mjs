// Ask less (contract v2, sections 1, 2, 3 and 5), on the built script-tag bundle
// against the real collector:
// - confirm instead of ask: the collector guesses the company from a stored work
//   email; "Yes" posts the guess with `suggested: true`, "No" reveals the text box;
// - privacy: a marketing question is not asked under Global Privacy Control (set by
//   an init script) or without marketing consent, and every posted body carries
//   `context.gpc` / `context.consent`;
// - "Why we ask" on the suggestion popup: axe in light, dark, narrow and RTL, and by
//   keyboard (reached with Tab, opened with Enter, its text announced).
// Screenshots land in e2e/.out/privacy-*.png.
import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ROOT, eventually, events, newPage, stack } from './harness.mjs';

const OUT = join(ROOT, 'e2e', '.out');
const WHY = 'So your invoices name the right company.';
const CONFIG = {
  endpoint: '/v1/answers',
  profileUrl: '/v1/profiles/{userId}',
  stages: [
    {
      id: 'basics',
      minLogins: 1,
      questions: [
        { id: 'email', field: 'email', kind: 'email', prompt: 'Which email should we write to?' },
        {
          id: 'company', field: 'company.name', kind: 'text', prompt: 'Which company do you work for?',
          suggest: 'emailDomain', why: WHY,
        },
        {
          id: 'news', field: 'newsletter', kind: 'choice', purpose: 'marketing',
          prompt: 'Would you like our newsletter?',
          options: [{ value: 'yes', label: 'Yes please' }, { value: 'no', label: 'No thanks' }],
        },
        { id: 'city', field: 'city', kind: 'text', prompt: 'Which city are you in?' },
      ],
    },
  ],
  cadence: { maxQuestionsPerLogin: 5 },
};
const configFile = join(mkdtempSync(join(tmpdir(), 'trickle-privacy-')), 'config.json');
writeFileSync(configFile, JSON.stringify(CONFIG));

before(() => mkdirSync(OUT, { recursive: true }));
const env = stack({ collector: { config: configFile } });

/** Stores `email` for `userId` in the collector, as a sign-up form would have. */
async function storeEmail(userId, email) {
  const body = {
    userId,
    answers: [{
      id: `signup-${userId}`, questionId: 'email', stage: 'basics', field: 'email', status: 'answered',
      value: email, answeredAt: new Date().toISOString(), loginsCount: 0,
    }],
    context: { url: 'https://app.example/signup', locale: 'en', widget: 'signup-form' },
  };
  const r = await fetch(`${env.collector.url}/v1/answers`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(r.status, 200);
}

/**
 * manual.html with the widget started for `user` (config changed by `patch`); every
 * posted answers body is collected in `bodies`. `gpc`: the browser sends Global
 * Privacy Control (`navigator.globalPrivacyControl`, set before any script runs).
 */
async function open(user, { patch = {}, gpc = false, contextOptions = {} } = {}) {
  const tab = await newPage(env.browser, contextOptions);
  if (gpc) {
    await tab.context.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true }),
    );
  }
  const bodies = [];
  tab.page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/answers') bodies.push(JSON.parse(r.postData()));
  });
  await tab.page.goto(`${env.server.url}/pages/manual.html`);
  await tab.page.waitForFunction(() => window.Trickle);
  await tab.page.evaluate((c) => window.Trickle.init(c), { ...CONFIG, ...patch, user });
  return { ...tab, bodies };
}

/** `explain()`'s reason per question id. */
async function reasons(page) {
  const explained = await page.evaluate(() => window.Trickle.explain());
  return Object.fromEntries(explained.questions.map((q) => [q.questionId, q.reason]));
}

/** The answers posted so far (in order), with the context each came with. */
function posted(bodies) {
  return bodies.flatMap((b) => b.answers.map((a) => ({ ...a, context: b.context })));
}

describe('confirm instead of ask', () => {
  test('Yes posts the collector\'s guess with suggested: true', async () => {
    await storeEmail('privacy|yes', 'grace@mail.northwind.co.uk');
    const user = { id: 'privacy|yes', loginsCount: 1, profile: { email: 'grace@mail.northwind.co.uk' } };
    const { page, context, bodies } = await open(user);
    const dialog = page.getByRole('dialog', { name: 'Do you work at Northwind?' });
    await dialog.waitFor();
    assert.equal(await page.getByRole('textbox').count(), 0, 'nothing to type');
    await dialog.getByRole('button', { name: 'Yes', exact: true }).click();
    await eventually(async () => (await events(page, 'delivered')).length, 'the delivery');
    const [answer] = posted(bodies).filter((a) => a.questionId === 'company');
    assert.equal(answer.value, 'Northwind');
    assert.equal(answer.suggested, true);
    assert.equal(answer.status, 'answered');
    const { body } = await env.collector.profile('privacy|yes');
    assert.equal(body.profile.company.name, 'Northwind');
    assert.equal(body.suggestions, undefined, 'the field is known now');
    await context.close();
  });

  test('No reveals the usual text box, focused, and the typed answer is not marked suggested', async () => {
    await storeEmail('privacy|no', 'jan@contoso.com');
    const user = { id: 'privacy|no', loginsCount: 1, profile: { email: 'jan@contoso.com' } };
    const { page, context, bodies } = await open(user);
    const dialog = page.getByRole('dialog', { name: 'Do you work at Contoso?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'No', exact: true }).click();
    const box = page.getByRole('textbox', { name: 'Which company do you work for?' });
    await box.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.tagName), 'INPUT');
    await page.keyboard.type('Contoso Research');
    await page.keyboard.press('Enter');
    await eventually(async () => (await events(page, 'delivered')).length, 'the delivery');
    const [answer] = posted(bodies).filter((a) => a.questionId === 'company');
    assert.equal(answer.value, 'Contoso Research');
    assert.equal(answer.suggested, undefined, 'left out when false');
    await context.close();
  });

  test('an email only the host knows is enough: the read sends its domain, never the address', async () => {
    const user = { id: 'privacy|hint', loginsCount: 1, profile: { email: 'grace@mail.northwind.co.uk' } };
    const { page, context } = await open(user);
    await page.getByRole('dialog', { name: 'Do you work at Northwind?' }).waitFor();
    const { body } = await env.collector.profile('privacy|hint');
    assert.equal(body.profile.email, undefined, 'the collector stores no email');
    const reads = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/v1/profiles/')));
    assert.ok(reads.length > 0, 'the profile was read');
    for (const url of reads) {
      assert.ok(url.endsWith('?emailDomain=mail.northwind.co.uk'), url);
      assert.ok(!url.includes('grace'), url);
    }
    await context.close();
  });

  test('free mail: the question is asked as usual', async () => {
    await storeEmail('privacy|free', 'someone@gmail.com');
    const { page, context } = await open({ id: 'privacy|free', loginsCount: 1, profile: { email: 'someone@gmail.com' } });
    await page.getByRole('dialog', { name: 'Which company do you work for?' }).waitFor();
    await context.close();
  });
});

describe('privacy', () => {
  test('under Global Privacy Control the marketing question is skipped and the body says gpc', async () => {
    const user = { id: 'privacy|gpc', loginsCount: 1, profile: { email: 'x@example.com', 'company': { name: 'Acme' } } };
    const { page, context, bodies } = await open(user, { gpc: true });
    assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), true);
    // The newsletter comes before the city; under GPC the city is asked first.
    await page.getByRole('dialog', { name: 'Which city are you in?' }).waitFor();
    assert.equal((await reasons(page)).news, 'privacy-signal');
    await page.getByRole('textbox', { name: 'Which city are you in?' }).fill('Oslo');
    await page.getByRole('button', { name: 'Save' }).click();
    await eventually(async () => (await events(page, 'delivered')).length, 'the delivery');
    const [answer] = posted(bodies);
    assert.equal(answer.context.gpc, true);
    assert.equal(answer.context.consent, undefined, 'no consent was given');
    await context.close();
  });

  test('without marketing consent the marketing question is skipped and the body says so', async () => {
    const user = {
      id: 'privacy|no-consent', loginsCount: 1, consent: { marketing: false },
      profile: { email: 'x@example.com', company: { name: 'Acme' } },
    };
    const { page, context, bodies } = await open(user);
    await page.getByRole('dialog', { name: 'Which city are you in?' }).waitFor();
    assert.equal((await reasons(page)).news, 'no-consent');
    await page.getByRole('textbox', { name: 'Which city are you in?' }).fill('Oslo');
    await page.getByRole('button', { name: 'Save' }).click();
    await eventually(async () => (await events(page, 'delivered')).length, 'the delivery');
    const [answer] = posted(bodies);
    assert.deepEqual(answer.context.consent, { marketing: false });
    assert.equal(answer.context.gpc, undefined, 'left out when false');
    await context.close();
  });

  test('with consent and no signal the marketing question is asked, and the body repeats the consent', async () => {
    const user = {
      id: 'privacy|consent', loginsCount: 1, consent: { marketing: true },
      profile: { email: 'x@example.com', company: { name: 'Acme' } },
    };
    const { page, context, bodies } = await open(user);
    const dialog = page.getByRole('dialog', { name: 'Would you like our newsletter?' });
    await dialog.waitFor();
    assert.equal((await reasons(page)).news, null);
    await dialog.getByRole('button', { name: 'Yes please' }).click();
    await eventually(async () => (await events(page, 'delivered')).length, 'the delivery');
    const [answer] = posted(bodies);
    assert.equal(answer.value, 'yes');
    assert.deepEqual(answer.context.consent, { marketing: true });
    await context.close();
  });
});

describe('why we ask on the suggestion popup', () => {
  const variants = [
    ['light', { theme: { accent: '#2A5383', colorScheme: 'light' } }, {}],
    ['dark', { theme: { accent: '#2A5383', colorScheme: 'dark' } }, { colorScheme: 'dark' }],
    ['narrow', {}, { viewport: { width: 360, height: 640 } }],
    ['rtl', { locale: 'ar' }, {}],
  ];
  for (const [name, patch, contextOptions] of variants) {
    test(`axe finds no WCAG 2.2 A/AA violation with "Why we ask" open (${name})`, async () => {
      const id = `privacy|a11y-${name}`;
      await storeEmail(id, 'grace@northwind.example');
      const { page, context } = await open({ id, loginsCount: 1, profile: { email: 'grace@northwind.example' } }, { patch, contextOptions });
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      const why = dialog.getByRole('button', { name: name === 'rtl' ? 'لماذا نسأل' : 'Why we ask' });
      await why.click();
      assert.equal(await why.getAttribute('aria-expanded'), 'true');
      await page.waitForTimeout(400); // the entry transition, before the screenshot
      await page.screenshot({ path: join(OUT, `privacy-${name}.png`) });
      const result = await new AxeBuilder({ page })
        .include('[data-trickle-host]')
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
        .analyze();
      assert.deepEqual(
        result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
        [],
      );
      await context.close();
    });
  }

  test('"Why we ask" is reached with Tab, opened with Enter and its text announced', async () => {
    await storeEmail('privacy|keys', 'grace@northwind.example');
    const { page, context } = await open({ id: 'privacy|keys', loginsCount: 1, profile: { email: 'grace@northwind.example' } });
    await page.getByRole('dialog', { name: 'Do you work at Northwind?' }).waitFor();
    await page.focus('#host-button');
    const focusedName = () => page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.textContent?.trim());
    // Tab past the Close button to "Why we ask".
    await eventually(async () => {
      await page.keyboard.press('Tab');
      return (await focusedName()) === 'Why we ask';
    }, 'focus on "Why we ask"', 5000);
    await page.keyboard.press('Enter');
    const why = page.getByRole('button', { name: 'Why we ask' });
    assert.equal(await why.getAttribute('aria-expanded'), 'true');
    await page.getByText(WHY).waitFor();
    const live = await eventually(
      () => page.evaluate((text) => {
        const region = document.querySelector('[data-trickle-host]').shadowRoot.querySelector('[aria-live=polite]');
        return region.textContent === text && region.textContent;
      }, WHY),
      'the announcement',
    );
    assert.equal(live, WHY);
    // Then on to the answers, still by keyboard: Tab to "Yes", Enter.
    await eventually(async () => {
      await page.keyboard.press('Tab');
      return (await focusedName()) === 'Yes';
    }, 'focus on "Yes"', 5000);
    await page.keyboard.press('Enter');
    await eventually(async () => (await events(page, 'answered')).length, 'the answer');
    assert.equal((await events(page, 'answered'))[0].detail.value, 'Northwind');
    await context.close();
  });
});

describe('the demo shows both', () => {
  // The demo page (trunk's release build in dist/demo) against a collector with the
  // demo's config, without the CRM stand-in (e2e/demo.test.mjs covers that).
  const demo = stack({
    collector: { config: join(ROOT, 'static', 'demo.config.json') },
    mounts: { '/': join(ROOT, 'dist', 'demo') },
  });

  test('Grace\'s work email turns the company question into "Do you work at Northwind?", and the GPC toggle closes the newsletter', async () => {
    const { page, context } = await newPage(demo.browser, { viewport: { width: 1280, height: 900 } });
    // The simulator starts as Grace (its own stored state: person 1).
    await context.addInitScript(() =>
      localStorage.setItem('clipwise-demo:sim', JSON.stringify({ person: 1, logins: 1, generation: 1 })),
    );
    await page.goto(`${demo.server.url}/index.html`);
    await page.getByText('demo|grace-1').waitFor();
    await page.getByRole('dialog', { name: 'What should we call you?' }).waitFor();
    await page.getByRole('textbox', { name: 'What should we call you?' }).fill('Grace');
    await page.getByRole('button', { name: 'Save' }).click();
    // Her email came with her sign-up: the email question is not asked.
    const held = page.getByRole('region', { name: 'What the collector holds' });
    await held.getByText('"Grace"').waitFor();
    await held.getByText('"grace@northwind.example"').waitFor();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Log in again' }).click();
    for (const prompt of ['Where should we send invoices?', 'When is your birthday?', 'Which phone number reaches you for support calls?']) {
      await page.getByRole('dialog', { name: prompt }).waitFor();
      await page.getByRole('button', { name: 'Prefer not to say' }).click();
    }
    await page.getByRole('button', { name: 'Log in again' }).click();
    const dialog = page.getByRole('dialog', { name: 'Do you work at Northwind?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Yes', exact: true }).click();
    await held.getByText('"Northwind"').waitFor();

    const rule = page.getByRole('region', { name: 'Why this question (explain())' });
    const newsletter = rule.getByRole('listitem').filter({ hasText: 'marketing.newsletter' });
    await newsletter.getByText('open').waitFor();
    await page.getByRole('checkbox', { name: 'Global Privacy Control' }).check();
    await newsletter.getByText('privacy-signal').waitFor();
    assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), true);
    await page.getByRole('checkbox', { name: 'Global Privacy Control' }).uncheck();
    await newsletter.getByText('open').waitFor();
    await context.close();
  });
});
