// Forwarding's webhook signature, checked by an independent implementation: the
// `standardwebhooks` npm package verifies what trickle-collector --forward sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startCollector, eventually } from './harness.mjs';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

test('webhooks from the collector verify with the standardwebhooks package, retries keep their id', async () => {
  const received = [];
  let calls = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls += 1;
      // The first attempt fails: the retry must carry the same webhook-id.
      if (calls === 1) {
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'trickle-forward-'));
  const forward = join(dir, 'forward.json');
  writeFileSync(forward, JSON.stringify({
    webhooks: [{ url: `http://127.0.0.1:${receiver.address().port}/hook`, secret: 'env:E2E_HOOK_SECRET' }],
  }));
  const collector = await startCollector({
    env: { E2E_HOOK_SECRET: SECRET },
    args: ['--forward', forward, '--forward-first-retry-ms', '50', '--forward-poll-ms', '20'],
  });
  try {
    const answer = {
      id: '3f1c2a9e-5c1b-4e0a-9a55-1f6b2d7c9e10', questionId: 'role', stage: 'company', field: 'company.role',
      status: 'answered', value: 'senior', other: false, answeredAt: '2026-11-30T15:00:00.000Z', loginsCount: 3,
    };
    const r = await fetch(`${collector.url}/v1/answers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'auth0|e2e', answers: [answer], context: { url: 'https://app.example.com/', locale: 'en', widget: 'trickle/0.1.0' } }),
    });
    assert.equal(r.status, 200, await r.text());
    await eventually(() => received.length === 1, 'the webhook arrives after a 503');
    const [{ headers, body }] = received;
    const payload = new Webhook(SECRET).verify(body, {
      'webhook-id': headers['webhook-id'],
      'webhook-timestamp': headers['webhook-timestamp'],
      'webhook-signature': headers['webhook-signature'],
    });
    assert.equal(payload.type, 'profile.updated');
    assert.equal(payload.userId, 'auth0|e2e');
    assert.equal(payload.answers[0].id, answer.id);
    assert.deepEqual(payload.profile, { company: { role: 'senior' } });
    // A tampered body or another key is refused by the same library.
    assert.throws(() => new Webhook(SECRET).verify(body.replace('senior', 'junior'), headers));
    assert.throws(() => new Webhook('whsec_' + Buffer.from('another key of 24 bytes!').toString('base64')).verify(body, headers));
    assert.equal(calls, 2);
  } finally {
    await collector.stop();
    receiver.close();
  }
});
