// Firefox ESR (Debian's firefox-esr) through puppeteer-core over WebDriver BiDi: a stock
// Firefox, where Playwright would need its own patched build. Puppeteer never
// downloads a browser here: it is given the executable.
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { VIEWPORT, missing, pageDriver } from './common.mjs';

const BIN = process.env.TRICKLE_FIREFOX_BIN || '/usr/bin/firefox-esr';

export async function launch() {
  if (!existsSync(BIN)) throw missing('Firefox', BIN, 'firefox-esr');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: BIN,
    headless: true,
    defaultViewport: VIEWPORT,
    // Keep it off the (closed) network: no update, telemetry or captive-portal checks.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
    },
  });
  let context;
  let page;
  let records;
  async function fresh() {
    await context?.close();
    context = await browser.createBrowserContext();
    page = await context.newPage();
    await page.setViewport(VIEWPORT);
    records = { console: [], pageErrors: [] };
    page.on('console', (m) => records.console.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => records.pageErrors.push(String(e)));
  }
  await fresh();
  const version = (await browser.version()).replace(/^firefox\//, 'Firefox ');
  return pageDriver({
    name: 'firefox',
    version,
    page: () => page,
    records: () => records,
    fresh,
    browser,
  });
}
