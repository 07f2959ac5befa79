// Renames the wasm's function imports to short names ("a", "b", ... "a1", ...) and
// the matching keys of wasm-bindgen's import object in the JS glue, in place.
//
// Why: wasm-bindgen names each import like `__wbg_addEventListener_f2d27251d333a631`,
// and each name ships twice (wasm import section, glue object key). The hex hashes
// barely compress: for ~140 imports this was about 4 KB of brotli over both files.
// binaryen's --minify-imports only renames imports of the module "env".
//
// Usage: node scripts/minify-imports.mjs <bg.wasm> <glue.js>
// Fails (and so fails the build) if a name is not found exactly once in the glue.
import { readFileSync, writeFileSync } from 'node:fs';

const [wasmPath, gluePath] = process.argv.slice(2);
const bytes = readFileSync(wasmPath);
let glue = readFileSync(gluePath, 'utf8');

function uleb(pos) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, pos];
}

function encodeUleb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

function encodeName(text) {
  const utf8 = Buffer.from(text, 'utf8');
  return [...encodeUleb(utf8.length), ...utf8];
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const shortName = (i) => LETTERS[i % 52] + (i < 52 ? '' : String(Math.floor(i / 52)));

const out = [bytes.subarray(0, 8)];
const renamed = new Map();
let pos = 8;
while (pos < bytes.length) {
  const id = bytes[pos];
  const [size, start] = uleb(pos + 1);
  const end = start + size;
  if (id !== 2) {
    out.push(bytes.subarray(pos, end));
    pos = end;
    continue;
  }
  let [count, p] = uleb(start);
  const section = encodeUleb(count);
  while (count--) {
    const [moduleLen, m] = uleb(p);
    const module = bytes.subarray(m, m + moduleLen).toString('utf8');
    const [fieldLen, f] = uleb(m + moduleLen);
    const field = bytes.subarray(f, f + fieldLen).toString('utf8');
    const kind = bytes[f + fieldLen];
    // The import's description, copied as it is.
    let d = f + fieldLen + 1;
    if (kind === 0) {
      d = uleb(d)[1];
    } else if (kind === 1 || kind === 2) {
      if (kind === 1) d += 1;
      const flags = bytes[d];
      d = uleb(d + 1)[1];
      if (flags & 1) d = uleb(d)[1];
    } else if (kind === 3) {
      d += 2;
    } else {
      d = uleb(d + 1)[1];
    }
    let name = field;
    if (kind === 0) {
      if (!renamed.has(field)) renamed.set(field, shortName(renamed.size));
      name = renamed.get(field);
    }
    section.push(...encodeName(module), ...encodeName(name), ...bytes.subarray(f + fieldLen, d));
    p = d;
  }
  out.push(Buffer.from([2, ...encodeUleb(section.length), ...section]));
  pos = end;
}

for (const [from, to] of renamed) {
  const key = new RegExp(`(?<![\\w$])${from}(?=\\s*:)`, 'g');
  const hits = glue.match(key)?.length ?? 0;
  if (hits !== 1) {
    throw new Error(`minify-imports: ${from} appears ${hits} times as a key in ${gluePath}`);
  }
  glue = glue.replace(key, to);
}

writeFileSync(wasmPath, Buffer.concat(out));
writeFileSync(gluePath, glue);
console.log(`[minify-imports] ${renamed.size} imports renamed`);
