// Benchmark: the Envoy target's render time per byte of output as the mesh grows. The sidecars share
// their outbound side through two discovery files, so the output grows with the backends; the render
// must stay linear in its output. Beside each render, js-yaml loads the same output (the peer): a render that
// grows faster than its output shows as a rising ratio. Medians of RUNS runs (default 5), warm.
// Usage: npm run build && node bench/envoy-render.mjs [sizes...]   (default 40 80 160)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { generateMesh } from './gen-mesh.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { parseMesh, render } = await import(path.join(root, 'dist/index.js'));
const sizes = process.argv.slice(2).map(Number);
const runs = Number(process.env.RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (f) => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

const rows = [];
for (const n of sizes.length ? sizes : [40, 80, 160]) {
  const parsed = parseMesh(generateMesh(n), { file: `bench-${n}.yaml` });
  if (!parsed.mesh) throw new Error(`mesh of ${n} backends did not load`);
  let files = [];
  const emit = () => {
    const out = render(parsed.mesh, { targets: ['envoy'] });
    files = out.outputs.flatMap((o) => o.files);
  };
  const load = () => files.forEach((f) => f.path.endsWith('.yaml') && yaml.load(f.contents));
  emit(); // warm-up
  load();
  const r = [];
  const l = [];
  for (let i = 0; i < runs; i++) {
    r.push(ms(emit));
    l.push(ms(load));
  }
  const bytes = files.reduce((s, f) => s + f.contents.length, 0);
  rows.push({ n, bytes, render: median(r), load: median(l) });
}
const first = rows[0];
console.log('backends  output MB  render ms  js-yaml load ms  render/load  render ns/byte  vs smallest');
for (const x of rows) {
  const perByte = (x.render * 1e6) / x.bytes;
  const base = (first.render * 1e6) / first.bytes;
  console.log(
    `${String(x.n).padStart(8)}  ${(x.bytes / 1e6).toFixed(1).padStart(9)}  ${x.render.toFixed(0).padStart(9)}  ${x.load.toFixed(0).padStart(15)}  ${(x.render / x.load).toFixed(2).padStart(11)}  ${perByte.toFixed(1).padStart(14)}  ${(perByte / base).toFixed(2).padStart(11)}`,
  );
}
