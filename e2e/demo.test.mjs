// The demo page (trunk's release build in dist/demo) against the real collector: a
// visitor answers in the corner and sees the collector's profile change beside it.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, newPage, stack } from './harness.mjs';

const env = stack({ collector: { config: join(ROOT, 'static', 'demo.config.json') }, mounts: { '/': join(ROOT, 'dist', 'demo') } });

test('answering in the demo shows the answer in the collector panel', async () => {
  const { page, context, records } = await newPage(env.browser, { viewport: { width: 1280, height: 800 } });
  await page.goto(env.server.url + '/');
  await page.getByRole('dialog', { name: 'What should we call you?' }).waitFor();
  await page.getByRole('textbox', { name: 'What should we call you?' }).fill('Ada Demo');
  await page.getByRole('button', { name: 'Save' }).click();
  const held = page.getByRole('region', { name: 'What the collector holds' });
  await held.getByText('"Ada Demo"').waitFor();
  await page.getByRole('dialog', { name: 'Which email should we write to?' }).waitFor();

  // The next login reaches the contact stage once basics are done; a purchase does too.
  await page.getByRole('textbox', { name: 'Which email should we write to?' }).fill('ada@example.com');
  await page.getByRole('button', { name: 'Save' }).click();
  await held.getByText('"ada@example.com"').waitFor();
  await page.getByRole('button', { name: 'Make a purchase' }).click();
  await page.getByRole('dialog', { name: 'Where should we send invoices?' }).waitFor();
  mkdirSync(join(ROOT, 'e2e', '.out'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'e2e', '.out', 'demo.png') });

  // "Switch device": the same user on a browser without this one's prompt state. The
  // widget reads the collector's profile (profileUrl), so nothing answered is asked.
  await page.getByRole('button', { name: 'Switch device' }).click();
  await page.getByText('Device 2').waitFor();
  const rule = page.getByRole('region', { name: 'Why this question (explain())' });
  const first = rule.getByRole('listitem').first();
  await first.getByText('known').waitFor();
  assert.match(await first.textContent(), /^name/);
  await page.waitForTimeout(300);
  assert.equal(await page.getByRole('dialog').count(), 0, 'nothing is due on the second device at this login');
  await page.screenshot({ path: join(ROOT, 'e2e', '.out', 'demo-device-2.png') });
  assert.deepEqual(records.pageErrors, []);
  await context.close();
});
