// The demo page (trunk's release build in dist/demo) against the real collector: a
// visitor answers in the corner and sees the collector's profile change beside it,
// and, in "What the CRM received", the signed webhook the collector forwarded to the
// demo's webhook receiver (the collector crate's webhook-receiver example, started
// here as scripts/demo.sh starts it, behind the page's /crm/ like Trunk.toml's proxy).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT, eventually, newPage, stack } from './harness.mjs';

const SECRET = 'whsec_' + Buffer.from('demo e2e webhook key, 32 bytes!!').toString('base64');

// Next to the collector binary startCollector runs: `cargo test -p trickle-collector`
// (scripts/test.sh) and `cargo build --profile server --example webhook-receiver` build it.
const RECEIVER_BIN = process.env.TRICKLE_WEBHOOK_RECEIVER_BIN || join(
  dirname(process.env.TRICKLE_COLLECTOR_BIN ||
    join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'server', 'trickle-collector')),
  'examples', 'webhook-receiver',
);

// Started before stack()'s hooks run: the collector's forward.json names its address.
const receiver = await (async () => {
  const receiver = {};
  assert.ok(existsSync(RECEIVER_BIN), `${RECEIVER_BIN} is not built (cargo build -p trickle-collector --example webhook-receiver)`);
  const child = spawn(RECEIVER_BIN, ['--listen', '127.0.0.1:0'], {
    env: { ...process.env, TRICKLE_WEBHOOK_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  receiver.url = await new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = out.match(/webhook-receiver listening on (http:\/\/\S+)/);
      if (m) ok(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`webhook-receiver exited with ${code}`)));
  });
  child.stdout.resume();
  receiver.stop = () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM'))));
  const dir = mkdtempSync(join(tmpdir(), 'trickle-demo-'));
  receiver.forward = join(dir, 'forward.json');
  writeFileSync(receiver.forward, JSON.stringify({
    webhooks: [{ url: `${receiver.url}/hooks/trickle`, secret: 'env:DEMO_WEBHOOK_SECRET' }],
  }));
  return receiver;
})();
after(() => receiver.stop());

const env = stack({
  collector: {
    config: join(ROOT, 'static', 'demo.config.json'),
    env: { DEMO_WEBHOOK_SECRET: SECRET },
    args: ['--forward', receiver.forward, '--forward-poll-ms', '100'],
  },
  mounts: { '/': join(ROOT, 'dist', 'demo') },
  proxies: { '/crm/': `${receiver.url}/` },
});

test('answering in the demo shows the answer in the collector panel and the CRM panel', async () => {
  const { page, context, records } = await newPage(env.browser, { viewport: { width: 1280, height: 800 } });
  await page.goto(env.server.url + '/');
  const crm = page.getByRole('region', { name: 'What the CRM received' });
  await crm.getByText('Nothing received yet.').waitFor();
  await page.getByRole('dialog', { name: 'What should we call you?' }).waitFor();
  await page.getByRole('textbox', { name: 'What should we call you?' }).fill('Ada Demo');
  await page.getByRole('button', { name: 'Save' }).click();
  const held = page.getByRole('region', { name: 'What the collector holds' });
  await held.getByText('"Ada Demo"').waitFor();

  // The collector forwards the stored answer; the receiver checks its signature and
  // the panel shows it: webhook-id, verified, user, field and value.
  const delivery = crm.getByRole('listitem').filter({ hasText: 'Ada Demo' });
  await delivery.waitFor();
  const text = await delivery.textContent();
  assert.match(text, /msg_[0-9a-f]{32}/);
  assert.match(text, /✓ signature verified/);
  assert.match(text, /user demo\|ada-1/);
  assert.match(text, /name Ada Demo/);
  const { deliveries } = await (await fetch(`${receiver.url}/received`)).json();
  assert.deepEqual(deliveries.map((d) => [d.verified, d.userId, d.answers[0].field]), [[true, 'demo|ada-1', 'name']]);
  await page.getByRole('dialog', { name: 'Which email should we write to?' }).waitFor();

  // The next login reaches the contact stage once basics are done; a purchase does too.
  await page.getByRole('textbox', { name: 'Which email should we write to?' }).fill('ada@example.com');
  await page.getByRole('button', { name: 'Save' }).click();
  await held.getByText('"ada@example.com"').waitFor();
  await crm.getByRole('listitem').filter({ hasText: 'ada@example.com' }).waitFor();
  assert.equal(await crm.getByRole('listitem').count(), 2);
  await page.getByRole('button', { name: 'Make a purchase' }).click();
  const invoices = page.getByRole('dialog', { name: 'Where should we send invoices?' });
  await invoices.waitFor();
  // The screenshots are for a human: taken once the popup's entry animation is over,
  // not halfway through its fade.
  await invoices.evaluate((d) => Promise.all(d.getAnimations().map((a) => a.finished)));
  mkdirSync(join(ROOT, 'e2e', '.out'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'e2e', '.out', 'demo.png') });
  await page.screenshot({ path: join(ROOT, 'e2e', '.out', 'demo-full.png'), fullPage: true });

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
  // Nothing was forwarded twice or unsigned.
  await eventually(async () => (await (await fetch(`${receiver.url}/received`)).json()).total === 2, 'two webhooks in all');
  const all = (await (await fetch(`${receiver.url}/received`)).json()).deliveries;
  assert.ok(all.every((d) => d.verified && !d.repeat), JSON.stringify(all));
  // The receiver does check: a body changed after signing is refused (401, which the
  // collector would treat as final) and the panel says so.
  const forged = await fetch(`${receiver.url}/hooks/trickle`, {
    method: 'POST',
    headers: { 'webhook-id': 'msg_forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') },
    body: JSON.stringify({ type: 'profile.updated', userId: 'demo|mallory', answers: [{ field: 'name', status: 'answered', value: 'Mallory' }] }),
  });
  assert.equal(forged.status, 401);
  await crm.getByRole('listitem').filter({ hasText: 'msg_forged' }).getByText('✗ not verified: no v1 signature matches').waitFor();
  assert.deepEqual(records.pageErrors, []);
  await context.close();
});
