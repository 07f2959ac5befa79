// Chromium through playwright-core: harness.mjs's launch (Debian's chromium, headless).
import { existsSync } from 'node:fs';
import { launchBrowser } from '../harness.mjs';
import { VIEWPORT, missing, pageDriver } from './common.mjs';

const BIN = '/usr/bin/chromium';

export async function launch() {
  if (!existsSync(BIN)) throw missing('Chromium', BIN, 'chromium');
  const browser = await launchBrowser();
  let context;
  let page;
  let records;
  async function fresh() {
    await context?.close();
    context = await browser.newContext({ viewport: VIEWPORT });
    page = await context.newPage();
    records = { console: [], pageErrors: [] };
    page.on('console', (m) => records.console.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => records.pageErrors.push(String(e)));
  }
  await fresh();
  return pageDriver({
    name: 'chromium',
    version: `Chromium ${browser.version()}`,
    page: () => page,
    records: () => records,
    fresh,
    browser,
  });
}
