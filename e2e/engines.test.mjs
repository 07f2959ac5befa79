// The core flows in every engine: Chromium (playwright-core), Firefox ESR (puppeteer-core
// over WebDriver BiDi) and WebKitGTK (WebKitWebDriver under Xvfb). One scenario list,
// run by each engine through the driver interface of e2e/engines/index.mjs, against the
// real collector behind the fault-injecting server. A missing browser fails its engine
// with a setup hint; it is never skipped. Screenshots land in e2e/.out/engines-*.png.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ENGINES, launch } from './engines/index.mjs';
import { ROOT, SEED, startCollector, startServer } from './harness.mjs';

const OUT = join(ROOT, 'e2e', '.out');
const seed = JSON.parse(readFileSync(SEED, 'utf8'));
const NAME = 'What should we call you?';
const EMAIL = 'Which email should we write to?';
const KNOWN_CONTACT = {
  name: 'Ada', email: 'ada@example.com', address: '1 Main St', birthday: '1990-01-01', phone: '+1 555 0100',
};
const MARGIN = 16; // the popup's distance from its corner (src/ui/trickle.css)

const env = {};
/** The settled popup's box per engine and layout ('ltr', 'rtl'), compared at the end. */
const boxes = {};
before(async () => {
  mkdirSync(OUT, { recursive: true });
  env.collector = await startCollector();
  env.server = await startServer(env.collector, { mounts: { '/engines/': join(ROOT, 'e2e', 'engines', 'pages') } });
});
after(async () => {
  await env.server?.stop();
  await env.collector?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let users = 0;
const userId = (b, what) => `engines|${b.name}|${what}|${process.pid}-${++users}`;

function near(actual, expected, what, tolerance = 1.5) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected}`);
}

/** Init the widget on the loaded page with the seed config (patched) for `user`. */
async function start(b, user, patch = {}) {
  await b.waitUntil(() => b.evaluate(() => Boolean(window.Trickle)), 'window.Trickle');
  await b.evaluate((c) => window.Trickle.init(c), { ...seed, ...patch, user });
}

/** A clean start: fresh records and empty storage, then the host page and init. */
async function open(b, user, { patch, query = '' } = {}) {
  await b.reset();
  await b.goto(`${env.server.url}/engines/host.html${query}`);
  await b.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
  await b.reload();
  await start(b, user, patch);
}

/**
 * Wait out the popup's entry animation (0.18 s, translateY), so boxes and screenshots
 * are final: no running animation and the same box twice in a row. A fixed sleep was
 * not enough under Xvfb, where WebKit's first frame can come late.
 */
async function settle(b) {
  let last = '';
  await b.waitUntil(async () => {
    const now = await b.evaluate(() => {
      const d = document.querySelector('[data-trickle-host]')?.shadowRoot?.querySelector('[role=dialog]');
      if (!d || d.getAnimations().some((a) => a.playState !== 'finished')) return '';
      return JSON.stringify(d.getBoundingClientRect());
    });
    const same = now && now === last;
    last = now;
    return same;
  }, 'the popup to settle', 5000);
}

async function screenshot(b, what) {
  const path = join(OUT, `engines-${b.name}-${what}.png`);
  await b.screenshot(path);
  console.log(`${b.name} screenshot: ${relative(ROOT, path)}`);
}

/** The collector's stored profile of `id` (its HTTP API), once `ready(body)` holds. */
async function stored(b, id, ready, what) {
  return b.waitUntil(async () => {
    const { body } = await env.collector.profile(id);
    return body && ready(body) && body;
  }, `the collector to store ${what}`);
}

/** Click the name text box, type, and click Save: the answer's id from trickle:answered. */
async function answerNameByClick(b, value = 'Ada') {
  await b.click({ role: 'textbox', name: NAME });
  await b.type(value);
  await b.click({ role: 'button', name: 'Save' });
  const [answered] = await b.waitUntil(async () => {
    const e = await b.events('answered');
    return e.length && e;
  }, 'trickle:answered');
  return answered.detail.id;
}

async function noPageErrors(b) {
  assert.deepEqual((await b.records()).pageErrors, []);
}

const SCENARIOS = [
  ['the popup appears in its bottom-right corner as a dialog named by the prompt', async (b) => {
    await open(b, { id: userId(b, 'corner'), loginsCount: 1 });
    await b.waitFor({ role: 'dialog', name: NAME });
    await settle(b);
    const dialog = await b.find({ role: 'dialog', name: NAME });
    assert.equal(dialog.position, 'fixed');
    assert.equal(dialog.direction, 'ltr');
    near(dialog.rect.right, dialog.viewport.width - MARGIN, 'right edge');
    near(dialog.rect.bottom, dialog.viewport.height - MARGIN, 'bottom edge');
    near(dialog.rect.width, 360, 'width');
    assert.ok(await b.find({ role: 'textbox', name: NAME }), 'a text box named by the prompt');
    // The close button sits at the popup's inline end: the right in a left-to-right page.
    const close = await b.find({ role: 'button', name: 'Close' });
    assert.ok(close.rect.left > dialog.rect.left + dialog.rect.width / 2, JSON.stringify(close.rect));
    const [shown] = await b.events('shown');
    assert.deepEqual(shown?.detail, { questionId: 'name', stage: 'basics', field: 'name' });
    (boxes.ltr ??= {})[b.name] = dialog.rect;
    await screenshot(b, 'ltr');
    await noPageErrors(b);
  }],

  ['an answer given by clicking is posted to the collector', async (b) => {
    const id = userId(b, 'click');
    await open(b, { id, loginsCount: 1 });
    await b.waitFor({ role: 'dialog', name: NAME });
    await answerNameByClick(b, 'Ada Click');
    await b.waitFor({ role: 'dialog', name: EMAIL });
    const body = await stored(b, id, (p) => p.profile.name, 'the name');
    assert.equal(body.profile.name, 'Ada Click');
    await noPageErrors(b);
  }],

  ['answers given with Tab, Enter and Escape alone are posted to the collector', async (b) => {
    const id = userId(b, 'keys');
    await open(b, { id, loginsCount: 3, profile: KNOWN_CONTACT });
    await b.waitFor({ role: 'dialog', name: 'Which company do you work for?' });
    // From the host page, Tab into the popup up to its text box; type; Enter.
    await b.click({ host: '#host-button' });
    assert.equal(await b.focused(), 'button:host-button');
    await b.tabTo((f) => f.startsWith('input:'));
    await b.type('Acme Video');
    await b.press('Enter');
    // A choice: Tab to an option (a button) and press Enter.
    await b.waitFor({ role: 'dialog', name: 'How many people work there?' });
    await b.tabTo((f) => f === 'button:11 to 50');
    await b.press('Enter');
    // Escape closes the popup and counts as "Not now": the stage is snoozed.
    await b.waitFor({ role: 'dialog', name: 'Which industry are you in?' });
    await b.press('Escape');
    await b.waitGone({ role: 'dialog' });
    const answered = (await b.events('answered')).map((e) => [e.detail.field, e.detail.value]);
    assert.deepEqual(answered, [['company.name', 'Acme Video'], ['company.size', '11-50']]);
    const body = await stored(
      b, id, (p) => p.profile.company?.size && p.promptState.snoozed.length, 'two answers and a snooze',
    );
    assert.deepEqual(body.profile.company, { name: 'Acme Video', size: '11-50' });
    assert.deepEqual(body.promptState.snoozed.map((s) => s.stage), ['company']);
    await noPageErrors(b);
  }],

  ['a reload keeps the prompt state: answered and snoozed questions stay settled', async (b) => {
    const user = { id: userId(b, 'reload'), loginsCount: 1 };
    await open(b, user);
    await b.waitFor({ role: 'dialog', name: NAME });
    await answerNameByClick(b);
    await b.waitFor({ role: 'dialog', name: EMAIL });
    await b.reload();
    await start(b, user);
    await b.waitFor({ role: 'dialog', name: EMAIL }); // not the name again
    await b.click({ role: 'button', name: 'Not now' });
    await b.waitGone({ role: 'dialog' });
    await b.reload();
    await start(b, user);
    const explained = await b.evaluate(() => window.Trickle.explain());
    const reasons = Object.fromEntries(explained.questions.map((q) => [q.questionId, q.reason ?? 'open']));
    assert.equal(reasons.email, 'snoozed', JSON.stringify(reasons));
    await sleep(500);
    assert.equal(await b.find({ role: 'dialog' }), null, 'no popup after the snooze and a reload');
    await noPageErrors(b);
  }],

  ['a page hide flushes the queue with a beacon', async (b) => {
    const id = userId(b, 'beacon');
    await open(b, { id, loginsCount: 1 });
    await b.waitFor({ role: 'dialog', name: NAME });
    env.server.faults.plan = ['503'];
    try {
      const answerId = await answerNameByClick(b, 'Ada Beacon');
      const attempts = () => env.server.log.filter((r) => r.ids.includes(answerId));
      await b.waitUntil(() => attempts().length >= 1, 'the failed first send');
      await noPageErrors(b);
      await b.goto('about:blank');
      const body = await stored(b, id, (p) => p.answers.some((a) => a.id === answerId), 'the beaconed answer');
      assert.equal(body.profile.name, 'Ada Beacon');
      assert.ok(attempts().some((a) => a.contentType?.startsWith('text/plain')), JSON.stringify(attempts()));
    } finally {
      env.server.faults.plan = [];
    }
  }],

  ['under a strict CSP the popup works and no violation is reported', async (b) => {
    const id = userId(b, 'csp');
    await open(b, { id, loginsCount: 1 }, { query: '?csp' });
    await b.waitFor({ role: 'dialog', name: NAME });
    await answerNameByClick(b, 'Ada CSP');
    await b.waitFor({ role: 'dialog', name: EMAIL });
    await stored(b, id, (p) => p.profile.name === 'Ada CSP', 'the name');
    assert.deepEqual(await b.csp(), []);
    await noPageErrors(b);
    const logged = (await b.records()).console.filter((m) => /content.security.policy|refused/i.test(m.text));
    assert.deepEqual(logged, []);
    // The control: the recorder does see a violation in this engine (an inline style
    // attribute under style-src 'self').
    await b.evaluate(() => document.getElementById('host-text').setAttribute('style', 'color: red'));
    const seen = await b.waitUntil(async () => {
      const v = await b.csp();
      return v.length && v;
    }, 'the control violation');
    assert.match(seen.join(), /^style-src/);
  }],

  ['RTL (locale "ar") lays the popup out mirrored, in the bottom-left corner', async (b) => {
    await open(b, { id: userId(b, 'rtl'), loginsCount: 1 }, { patch: { locale: 'ar' } });
    await b.waitFor({ role: 'dialog' });
    await settle(b);
    const dialog = await b.find({ role: 'dialog' });
    assert.equal(dialog.direction, 'rtl');
    near(dialog.rect.left, MARGIN, 'left edge');
    near(dialog.rect.bottom, dialog.viewport.height - MARGIN, 'bottom edge');
    near(dialog.rect.width, 360, 'width');
    // Mirrored inside too: the close button and the submit button at the left.
    const middle = dialog.rect.left + dialog.rect.width / 2;
    const close = await b.find({ css: '.x' });
    const submit = await b.find({ css: '.s' });
    assert.ok(close.rect.right < middle, `close button ${JSON.stringify(close.rect)}`);
    assert.ok(submit.rect.right < middle, `submit button ${JSON.stringify(submit.rect)}`);
    assert.equal(submit.direction, 'rtl');
    (boxes.rtl ??= {})[b.name] = dialog.rect;
    await screenshot(b, 'rtl');
    await noPageErrors(b);
  }],
];

for (const engine of ENGINES) {
  describe(`engine: ${engine}`, () => {
    let b;
    let t0;
    before(async () => {
      t0 = Date.now();
      b = await launch(engine);
      console.log(`${engine}: ${b.version}, started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    });
    after(async () => {
      await b?.close();
      console.log(`${engine}: ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
    });
    for (const [name, run] of SCENARIOS) test(name, () => run(b));
  });
}

// Fonts differ between engines (and so may a line's height by a pixel or two); the
// layout must not: the same corner, the same width, about the same height.
describe('across engines', () => {
  for (const layout of ['ltr', 'rtl']) {
    test(`the ${layout} popup has the same box in every engine`, () => {
      const seen = boxes[layout] ?? {};
      assert.deepEqual(Object.keys(seen).sort(), [...ENGINES].sort(), 'every engine measured it');
      const [first, ...rest] = ENGINES;
      for (const engine of rest) {
        for (const side of ['left', 'right', 'bottom', 'width']) {
          near(seen[engine][side], seen[first][side], `${engine} ${layout} ${side} vs ${first}`);
        }
        near(seen[engine].height, seen[first].height, `${engine} ${layout} height vs ${first}`, 4);
      }
      console.log(`${layout} popup boxes: ${ENGINES.map((e) => {
        const r = seen[e];
        return `${e} ${r.left.toFixed(1)},${r.top.toFixed(1)} ${r.width.toFixed(1)}x${r.height.toFixed(1)}`;
      }).join('; ')}`);
    });
  }
});
