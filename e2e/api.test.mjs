// The JavaScript API layer on its own (no browser): init's options are checked before
// anything loads, and the config fingerprint the idle gate compares.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApi, fingerprint } from '../src/embed/api.js';

const never = () => {
  throw new Error('the wasm must not be loaded for a refused call');
};

test('init refuses options that are not { wasmUrl } before loading anything', async () => {
  const api = createApi(never);
  for (const [options, message] of [
    ['trickle.wasm', /options must be an object/],
    [[1], /options must be an object/],
    [{ wasmUrl: 42 }, /wasmUrl must be a URL or a non-empty string/],
    [{ wasmUrl: '' }, /wasmUrl must be a URL or a non-empty string/],
  ]) {
    await assert.rejects(api.init({ endpoint: '/v1/answers' }, options), message);
  }
});

test('init passes wasmUrl to the loader', async () => {
  let seen;
  globalThis.localStorage ??= { getItem: () => null };
  const api = createApi((options) => {
    seen = options;
    return Promise.resolve({ init: () => undefined, stopped: () => false });
  });
  await api.init({ endpoint: '/v1/answers' }, { wasmUrl: 'https://cdn.example/trickle.wasm' });
  assert.deepEqual(seen, { wasmUrl: 'https://cdn.example/trickle.wasm' });
});

test('the fingerprint is FNV-1a over the JSON text, as the wasm computes it', () => {
  // The same values tests/runtime.rs checks on the Rust side.
  assert.equal(fingerprint({ a: 1, b: 'é' }), 'eb638026');
  assert.equal(fingerprint('{"x":1}'), 'e028e096');
  assert.notEqual(fingerprint({ a: 1 }), fingerprint({ a: 2 }));
});

test("init's config is read into the wasm ahead, then init runs with it, after the calls queued before it", async () => {
  globalThis.localStorage ??= { getItem: () => null };
  const seen = [];
  const wasm = {
    readAhead: (config) => seen.push(['readAhead', config]),
    identify: (user) => seen.push(['identify', user]),
    init: (config) => seen.push(['init', config]),
    stopped: () => false,
  };
  const api = createApi(() => Promise.resolve(wasm));
  const config = { endpoint: '/v1/answers' };
  api.identify({ id: 'u1' });
  await api.init(config);
  assert.deepEqual(seen, [['readAhead', config], ['identify', { id: 'u1' }], ['init', config]]);
});
