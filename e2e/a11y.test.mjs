// Accessibility of the open popup: axe-core (WCAG 2.2 A/AA) in light, dark, narrow and
// RTL variants, focus never taken on appear, and a whole login answered by keyboard.
// Each variant's screenshot lands in e2e/.out/ for a human to look at.
import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  ROOT, SEED, eventually, events, newPage, stack,
} from './harness.mjs';

const OUT = join(ROOT, 'e2e', '.out');
const seed = JSON.parse(readFileSync(SEED, 'utf8'));
const KNOWN_BASICS = { name: 'Ada', email: 'ada@example.com' };
const KNOWN_CONTACT = { ...KNOWN_BASICS, address: '1 Main St', birthday: '1990-01-01', phone: '+1 555 0100' };

before(() => {
  mkdirSync(OUT, { recursive: true });
});
const env = stack();

/** Open manual.html and init with the seed config, changed by `patch`. */
async function show(patch, contextOptions = {}) {
  const tab = await newPage(env.browser, contextOptions);
  await tab.page.goto(`${env.server.url}/pages/manual.html`);
  await tab.page.waitForFunction(() => window.Trickle);
  await tab.page.evaluate((c) => window.Trickle.init(c), { ...seed, ...patch });
  return tab;
}

/** The element focused inside the popup's shadow root, as "role:name", or the light-DOM id. */
function focused(page) {
  return page.evaluate(() => {
    const outer = document.activeElement;
    const inner = outer?.shadowRoot?.activeElement;
    const el = inner || outer;
    return `${el.tagName.toLowerCase()}:${el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40)}`;
  });
}

const variants = [
  ['light', { theme: { accent: '#2A5383', colorScheme: 'light' } }, {}],
  ['dark', { theme: { accent: '#2A5383', colorScheme: 'dark' } }, { colorScheme: 'dark' }],
  ['narrow', {}, { viewport: { width: 360, height: 640 } }],
  ['rtl', { locale: 'ar' }, {}],
];

describe('accessibility', () => {
  for (const [name, patch, options] of variants) {
    test(`axe finds no WCAG 2.2 A/AA violation in the ${name} popup`, async () => {
      // The company stage shows the richest popup: a choice with "Other", "Why we ask"
      // and "Prefer not to say".
      const user = { id: `a11y|${name}`, loginsCount: 3, profile: { ...KNOWN_CONTACT, company: { name: 'Acme', size: '1-10' } } };
      const { page, context } = await show({ ...patch, user }, options);
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      if (name === 'rtl') assert.equal(await dialog.evaluate((d) => getComputedStyle(d).direction), 'rtl');
      await page.waitForTimeout(400); // let the entry transition finish before the screenshot
      await page.screenshot({ path: join(OUT, `popup-${name}.png`) });
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

  test('the popup appears without taking focus from the host page', async () => {
    const { page, context } = await show({});
    await page.focus('#host-button');
    await page.evaluate(() => window.Trickle.identify({ id: 'focus|1', loginsCount: 1 }));
    await page.getByRole('dialog').waitFor();
    await page.waitForTimeout(300);
    assert.equal(await focused(page), 'button:host-button');
    const live = await page.evaluate(() =>
      document.querySelector('[data-trickle-host]').shadowRoot.querySelector('[aria-live="polite"]') !== null,
    );
    assert.ok(live, 'a polite live region announces the popup');
    await context.close();
  });

  test('a whole login can be answered with the keyboard alone', async () => {
    const user = { id: `keys|${Date.now()}`, loginsCount: 3, profile: KNOWN_CONTACT };
    const { page, context } = await show({ user });
    await page.getByRole('dialog', { name: 'Which company do you work for?' }).waitFor();
    await page.focus('#host-button');

    // Tab from the host page into the popup, up to its text box; type and press Enter.
    const textbox = 'input:';
    for (let i = 0; i < 8 && !(await focused(page)).startsWith(textbox); i++) await page.keyboard.press('Tab');
    assert.ok((await focused(page)).startsWith(textbox), await focused(page));
    await page.keyboard.type('Acme Video');
    await page.keyboard.press('Enter');

    // A choice: the options are buttons; Tab to one and press Space.
    await page.getByRole('dialog', { name: 'How many people work there?' }).waitFor();
    for (let i = 0; i < 10 && (await focused(page)) !== 'button:11 to 50'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'button:11 to 50');
    await page.keyboard.press('Space');

    // Escape closes the popup and counts as "Not now".
    await page.getByRole('dialog', { name: 'Which industry are you in?' }).waitFor();
    await page.keyboard.press('Escape');
    await eventually(() => events(page, 'snoozed').then((e) => e.length), 'trickle:snoozed');
    await eventually(async () => (await page.getByRole('dialog').count()) === 0, 'the popup to close');

    const answered = (await events(page, 'answered')).map((e) => [e.detail.field, e.detail.value]);
    assert.deepEqual(answered, [['company.name', 'Acme Video'], ['company.size', '11-50']]);
    await context.close();
  });
});
