// Benchmark: the fast mesh YAML loader (src/model/yaml-fast.ts) beside js-yaml's core-schema load, on a
// generated mesh, in one process, interleaved. Checks first that both give the same value.
// Usage: npm run build && node bench/yaml-load.mjs [backends (default 10000)] [rounds (default 7)]
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsyaml from 'js-yaml';
import { generateMesh } from './gen-mesh.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { fastLoad } = await import(path.join(root, 'dist/model/yaml-fast.js'));

const n = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 7);
const text = generateMesh(n);

const viaJsYaml = () => jsyaml.loadAll(text, null, { schema: jsyaml.CORE_SCHEMA })[0];
const viaFast = () => {
  const r = fastLoad(text);
  if (!r) throw new Error('the fast loader gave up on the generated mesh');
  return r.value;
};
assert.deepStrictEqual(viaFast(), viaJsYaml());

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
function time(f) {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
// one warm-up round each, then interleaved rounds
time(viaJsYaml);
time(viaFast);
const slow = [];
const fast = [];
for (let i = 0; i < rounds; i++) {
  slow.push(time(viaJsYaml));
  fast.push(time(viaFast));
}
const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
console.log(`mesh: ${n} backends, ${(text.length / 1e6).toFixed(1)} MB, ${rounds} interleaved rounds`);
console.log(`js-yaml load (core schema): median ${median(slow).toFixed(0)} ms  [${fmt(slow)}]`);
console.log(`fastLoad:                   median ${median(fast).toFixed(0)} ms  [${fmt(fast)}]`);
console.log(`ratio js-yaml / fastLoad:   ${(median(slow) / median(fast)).toFixed(2)}x`);
