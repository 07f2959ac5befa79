// The demo page (trunk's release build in dist/demo) against the real collector: a
// visitor answers in the corner and sees the collector's profile change beside it.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchBrowser, newPage, startCollector, startServer } from './harness.mjs';

let collector, server, browser;
before(async () => {
  collector = await startCollector({ config: join(ROOT, 'static', 'demo.config.json') });
  server = await startServer(collector, { mounts: { '/': join(ROOT, 'dist', 'demo') } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await collector?.stop();
});

test('answering in the demo shows the answer in the collector panel', async () => {
  const { page, context, records } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  await page.goto(server.url + '/');
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
  assert.deepEqual(records.pageErrors, []);
  await context.close();
});
