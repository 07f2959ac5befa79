// The other half of the Auth0 loop (docs/auth0.md): the post-login Action puts
// loginsCount, userHash and the user_metadata profile into ID-token claims; the
// npm package's fromAuth0User turns getUser()'s result into identify's argument;
// and the collector accepts the Action's HMAC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, startCollector } from './harness.mjs';
import { fromAuth0User, DEFAULT_NAMESPACE } from '../npm/auth0.js';

const require = createRequire(import.meta.url);
const action = require(join(ROOT, 'docs', 'auth0-action.cjs'));
const NS = DEFAULT_NAMESPACE;

/** Runs the Action against a fake event and api; returns the ID-token claims. */
async function runAction(event) {
  const claims = {};
  const api = { idToken: { setCustomClaim: (k, v) => { claims[k] = v; } } };
  await action.onExecutePostLogin(event, api);
  return claims;
}

function fakeEvent(secrets) {
  return {
    user: { user_id: 'auth0|5f7c8ec7b1d2', email: 'ada@acme.example', user_metadata: { name: 'Ada', company: { name: 'Acme' } } },
    stats: { logins_count: 3 },
    secrets,
  };
}

test('the Action sets loginsCount, userHash and profile claims, and the collector accepts the hash', async () => {
  const secret = 'action-secret-e2e';
  const claims = await runAction(fakeEvent({ TRICKLE_SECRET: secret }));
  assert.equal(claims[`${NS}loginsCount`], 3);
  assert.deepEqual(claims[`${NS}profile`], { name: 'Ada', company: { name: 'Acme' } });
  assert.match(claims[`${NS}userHash`], /^[0-9a-f]{64}$/);

  // What auth0-spa-js's getUser() returns: the ID token's claims.
  const user = fromAuth0User({ sub: 'auth0|5f7c8ec7b1d2', email: 'ada@acme.example', ...claims });
  assert.deepEqual(user, {
    id: 'auth0|5f7c8ec7b1d2',
    loginsCount: 3,
    userHash: claims[`${NS}userHash`],
    profile: { email: 'ada@acme.example', name: 'Ada', company: { name: 'Acme' } },
  });

  const collector = await startCollector({ env: { TRICKLE_SECRET: secret } });
  try {
    const post = (userHash) => fetch(`${collector.url}/v1/answers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        userId: user.id,
        userHash,
        answers: [{ id: '0b7e3c1a-1111-4222-8333-944455556666', questionId: 'role', stage: 'company', field: 'company.role',
          status: 'answered', value: 'senior', other: false, answeredAt: '2026-11-30T15:00:00.000Z', loginsCount: user.loginsCount }],
        context: { url: 'https://app.example.com/', locale: 'en', widget: 'trickle/0.1.0' },
      }),
    });
    assert.equal((await post(user.userHash)).status, 200, 'the Action\'s HMAC is accepted');
    assert.equal((await post('0'.repeat(64))).status, 401, 'another hash is refused');
    const read = await collector.profile(user.id, { 'X-Trickle-User-Hash': user.userHash });
    assert.equal(read.status, 200);
    assert.equal(read.body.profile.company.role, 'senior');
  } finally {
    await collector.stop();
  }
});

test('the Action honours a custom namespace and sets no hash without a secret', async () => {
  const claims = await runAction(fakeEvent({ TRICKLE_CLAIM_NAMESPACE: 'https://acme.example/' }));
  assert.equal(claims['https://acme.example/loginsCount'], 3);
  assert.equal(claims['https://acme.example/userHash'], undefined);
  const user = fromAuth0User({ sub: 'auth0|x', ...claims }, { namespace: 'https://acme.example/' });
  assert.deepEqual(user, { id: 'auth0|x', loginsCount: 3, profile: { name: 'Ada', company: { name: 'Acme' } } });
});

test('fromAuth0User: signed out is null, claims of the wrong type are left out, no sub throws', () => {
  assert.equal(fromAuth0User(undefined), null);
  assert.equal(fromAuth0User(null), null);
  assert.deepEqual(
    fromAuth0User({ sub: 'google-oauth2|1', [`${NS}loginsCount`]: '3', [`${NS}profile`]: [1], [`${NS}userHash`]: 7 }),
    { id: 'google-oauth2|1' },
  );
  assert.throws(() => fromAuth0User({ email: 'a@b.example' }), /no "sub"/);
});

test('fromAuth0User copies the sign-in email into the profile, unless the profile has one', () => {
  assert.deepEqual(fromAuth0User({ sub: 'auth0|e', email: 'grace@northwind.example' }), {
    id: 'auth0|e',
    profile: { email: 'grace@northwind.example' },
  });
  assert.deepEqual(
    fromAuth0User({ sub: 'auth0|e', email: 'grace@northwind.example', [`${NS}profile`]: { email: 'g@work.example' } }),
    { id: 'auth0|e', profile: { email: 'g@work.example' } },
  );
  assert.deepEqual(fromAuth0User({ sub: 'auth0|e', email: '' }), { id: 'auth0|e' });
});
