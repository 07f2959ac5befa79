// WebKitGTK (Debian's webkit2gtk-driver: WebKitWebDriver, driving the MiniBrowser)
// through selenium-webdriver over WebDriver classic, on an Xvfb display of its own:
// WebKitGTK has no headless mode, so Xvfb is started here and stopped in close().
// WebDriver classic has no console or init-script API: records come from
// e2e/engines/pages/record.js in the page, collected before each navigation.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import { Builder, Key, Origin } from 'selenium-webdriver';
import { VIEWPORT, missing } from './common.mjs';

const KEYS = { Tab: Key.TAB, Enter: Key.ENTER, Escape: Key.ESCAPE };

function onPath(cmd) {
  return (process.env.PATH || '').split(delimiter).map((d) => join(d, cmd)).find((p) => existsSync(p));
}

/** The MiniBrowser of libwebkit2gtk-4.1 (or 4.0, or webkitgtk-6.0), whatever the arch dir. */
function miniBrowser() {
  if (process.env.TRICKLE_MINIBROWSER_BIN) return process.env.TRICKLE_MINIBROWSER_BIN;
  for (const arch of existsSync('/usr/lib') ? readdirSync('/usr/lib') : []) {
    for (const api of ['webkit2gtk-4.1', 'webkit2gtk-4.0', 'webkitgtk-6.0']) {
      const p = join('/usr/lib', arch, api, 'MiniBrowser');
      if (existsSync(p)) return p;
    }
  }
  return null;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Start Xvfb on a free display (it writes the number it took to fd 3). */
async function startXvfb(bin) {
  const child = spawn(bin, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const display = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`Xvfb did not start in 10 s: ${stderr}`)), 10000);
    child.stdio[3].once('data', (d) => { clearTimeout(timer); ok(`:${String(d).trim()}`); });
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`Xvfb exited (${code}): ${stderr}`)); });
  });
  return { child, display };
}

async function waitForDriver(url, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(`${url}/status`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`WebKitWebDriver did not answer at ${url} in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function launch() {
  const driverBin = onPath('WebKitWebDriver');
  if (!driverBin) throw missing('WebKitWebDriver', 'PATH', 'webkit2gtk-driver');
  const browserBin = miniBrowser();
  if (!browserBin) throw missing('WebKitGTK MiniBrowser', '/usr/lib/*/webkit2gtk-4.1/MiniBrowser', 'webkit2gtk-driver');
  const xvfbBin = onPath('Xvfb');
  if (!xvfbBin) throw missing('Xvfb', 'PATH', 'xvfb');

  const children = [];
  const stopChildren = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.once('exit', stopChildren);
  let driver;
  try {
    const xvfb = await startXvfb(xvfbBin);
    children.push(xvfb.child);
    const port = await freePort();
    const wd = spawn(driverBin, [`--port=${port}`], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(wd);
    const url = `http://127.0.0.1:${port}`;
    await waitForDriver(url);
    driver = await new Builder()
      .usingServer(url)
      .withCapabilities({
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: browserBin, args: ['--automation'] },
      })
      .build();
    // Size the window so the viewport matches the other engines'.
    await driver.get('about:blank');
    const [w, h] = await driver.executeScript('return [innerWidth, innerHeight]');
    const rect = await driver.manage().window().getRect();
    if (w !== VIEWPORT.width || h !== VIEWPORT.height) {
      await driver.manage().window().setRect({
        width: rect.width + VIEWPORT.width - w, height: rect.height + VIEWPORT.height - h,
      });
    }
  } catch (e) {
    await driver?.quit().catch(() => {});
    stopChildren();
    throw e;
  }
  const caps = await driver.getCapabilities();

  let records = { console: [], pageErrors: [] };
  /** Move the current page's records into `records` before it goes away. */
  async function harvest() {
    const got = await driver
      .executeScript('const r = window.__trickle; if (!r) return null; const out = { console: r.console.splice(0), pageErrors: r.pageErrors.splice(0) }; return out;')
      .catch(() => null);
    if (got) {
      records.console.push(...got.console);
      records.pageErrors.push(...got.pageErrors);
    }
  }

  return {
    name: 'webkit',
    version: `WebKitGTK ${caps.get('browserVersion')} (MiniBrowser)`,
    async goto(url) {
      await harvest();
      await driver.get(url);
    },
    async reload() {
      await harvest();
      await driver.navigate().refresh();
    },
    // Execute Script awaits a returned promise, as page.evaluate does.
    evaluate: (fn, arg) => driver.executeScript(`return (${fn}).apply(null, arguments)`, arg),
    mouseClick: (x, y) =>
      driver.actions({ async: true })
        .move({ x: Math.round(x), y: Math.round(y), origin: Origin.VIEWPORT })
        .click()
        .perform(),
    type: (text) => driver.actions({ async: true }).sendKeys(text).perform(),
    press: (key) => driver.actions({ async: true }).sendKeys(KEYS[key] ?? key).perform(),
    async screenshot(path) {
      writeFileSync(path, Buffer.from(await driver.takeScreenshot(), 'base64'));
    },
    async records() {
      await harvest();
      return records;
    },
    async reset() {
      await harvest();
      records = { console: [], pageErrors: [] };
    },
    async close() {
      await driver.quit().catch(() => {});
      stopChildren();
      process.removeListener('exit', stopChildren);
    },
  };
}
