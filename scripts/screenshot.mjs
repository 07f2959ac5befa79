// Takes the README's screenshot (docs/screenshot.png): the demo page at a user's third
// login, with the collector already holding the first two stages' answers, so the
// popup asks a company question. Usage: node scripts/screenshot.mjs (after
// `trunk build --release` and a build of trickle-collector).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, launchBrowser, newPage, startCollector, startServer } from '../e2e/harness.mjs';

const collector = await startCollector({ config: join(ROOT, 'static', 'demo.config.json') });
const server = await startServer(collector, { mounts: { '/': join(ROOT, 'dist', 'demo') } });
const browser = await launchBrowser();
try {
  const userId = 'demo|grace-1';
  const known = [
    ['name', 'basics', 'name', 'Grace'], ['email', 'basics', 'email', 'grace@example.com'],
    ['address', 'contact', 'address', '1 Harbour Road'], ['birthday', 'contact', 'birthday', '1906-12-09'],
    ['phone', 'contact', 'phone', '+1 555 0100'], ['company-name', 'company', 'company.name', 'Northwind'],
  ];
  const r = await fetch(`${collector.url}/v1/answers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      userId,
      answers: known.map(([questionId, stage, field, value]) => ({
        id: randomUUID(), questionId, stage, field, status: 'answered', value, other: false,
        answeredAt: new Date().toISOString(), loginsCount: 2,
      })),
      context: { url: 'http://demo/', locale: 'en', widget: 'trickle/0.1.0' },
    }),
  });
  if (!r.ok) throw new Error(`seeding the collector: ${r.status} ${await r.text()}`);

  const { page } = await newPage(browser, { viewport: { width: 1280, height: 760 } });
  await page.addInitScript(() =>
    localStorage.setItem('clipwise-demo:sim', JSON.stringify({ person: 1, logins: 3, generation: 1 })),
  );
  await page.goto(server.url + '/');
  await page.getByRole('dialog', { name: 'How many people work there?' }).waitFor();
  await page.waitForTimeout(600); // the entrance animation
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'docs', 'screenshot.png') });
  console.log('wrote docs/screenshot.png');
} finally {
  await browser.close();
  await server.stop();
  await collector.stop();
}
