// The wasm's stack (256 KiB, scripts/build-embed.sh) against the deepest path found: a
// config whose user profile nests to serde_json's recursion limit, parsed, validated,
// stored and rendered. It must run without an internal error. This test fails on a
// stack of 32 KiB (built with TRICKLE_STACK_BYTES=32768: "memory access out of
// bounds" in init) and passes from 64 KiB.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SEED, events, eventually, newPage, stack } from './harness.mjs';

const env = stack();

/** An object nested `depth` levels: { a: { a: ... { a: 1 } } }. */
function nested(depth) {
  let value = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

test('a config nested to the JSON recursion limit runs without overflowing the stack', async () => {
  const config = JSON.parse(readFileSync(SEED, 'utf8'));
  config.user = { id: `stack|${process.pid}`, loginsCount: 1, profile: { deep: nested(120) } };
  const { page, context, records } = await newPage(env.browser);
  await page.goto(`${env.server.url}/pages/manual.html`);
  await page.waitForFunction(() => window.Trickle);
  // As JSON text: Playwright's own argument serializer gives up on such depth.
  await page.evaluate(
    (text) => window.Trickle.init(JSON.parse(text)).catch((e) => { window.__initError = String(e); }),
    JSON.stringify(config),
  );
  await page.getByRole('dialog', { name: 'What should we call you?' }).waitFor();
  await page.getByRole('textbox', { name: 'What should we call you?' }).fill('Deep');
  await page.getByRole('button', { name: 'Save' }).click();
  await eventually(() => events(page, 'delivered').then((e) => e.length), 'trickle:delivered');
  assert.deepEqual(await events(page, 'error'), []);
  assert.equal(await page.evaluate(() => window.__initError ?? null), null);
  assert.deepEqual(records.pageErrors, []);
  await context.close();
});
