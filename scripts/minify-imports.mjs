// Renames the wasm's function imports to short names ("a", "b", ... "a1", ...) and
// the matching keys of wasm-bindgen's import object in the JS glue, in place; and
// likewise the exports only the glue calls (wasm-bindgen's closure invokers such as
// `wasm_bindgen__convert__closures_____invoke__h4a96dd2f26cd2bb9`, and its
// `__wbindgen_*` / `__externref_*` helpers: names starting with "_" or "wasm_bindgen")
// to "_a", "_b", ..., and the glue's `wasm.<name>` uses of them. The API exports
// (`init`, `identify`, ...) and `memory` keep their names.
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
const exportsRenamed = new Map();
let pos = 8;
while (pos < bytes.length) {
  const id = bytes[pos];
  const [size, start] = uleb(pos + 1);
  const end = start + size;
  if (id === 7) {
    out.push(exportSection(start, end));
    pos = end;
    continue;
  }
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

// The export section with the glue-only exports renamed (into `exportsRenamed`).
function exportSection(start, end) {
  let [count, p] = uleb(start);
  const section = encodeUleb(count);
  while (count--) {
    const [nameLen, n] = uleb(p);
    let name = bytes.subarray(n, n + nameLen).toString('utf8');
    const d = uleb(n + nameLen + 1)[1];
    // Only exports the glue calls as `wasm.<name>` (others, like `__abort_handler`,
    // keep their names).
    if (/^(_|wasm_bindgen)/.test(name) && new RegExp(`(?<![\\w$])wasm\\.${name}(?![\\w$])`).test(glue)) {
      const short = `_${shortName(exportsRenamed.size)}`;
      exportsRenamed.set(name, short);
      name = short;
    }
    section.push(...encodeName(name), ...bytes.subarray(n + nameLen, d));
    p = d;
  }
  if (p !== end) throw new Error('minify-imports: the export section did not parse');
  return Buffer.from([7, ...encodeUleb(section.length), ...section]);
}

for (const [from, to] of exportsRenamed) {
  const use = new RegExp(`(?<![\\w$])wasm\\.${from}(?![\\w$])`, 'g');
  glue = glue.replace(use, `wasm.${to}`);
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
console.log(`[minify-imports] ${renamed.size} imports and ${exportsRenamed.size} exports renamed`);
