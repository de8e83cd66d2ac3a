// Benchmark: `meshgen validate` against js-yaml alone loading the same file, side by side in one run.
// Both run as fresh node processes (startup included on both sides); each is measured several
// times, interleaved, and the median is kept, because this machine is shared and noisy.
// Usage: npm run build && node bench/validate.mjs [sizes...]   (default 1000 10000 20000)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMesh } from './gen-mesh.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli.js');
const jsyamlOnly = `require(${JSON.stringify(path.join(root, 'node_modules/js-yaml'))}).load(require('fs').readFileSync(process.argv[1], 'utf8'))`;
const sizes = process.argv.slice(2).map(Number);
const runs = Number(process.env.RUNS ?? 5);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-bench-'));

function time(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, status: r.status, stderr: r.stderr };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

if (!fs.existsSync(cli)) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const rows = [];
try {
  for (const n of sizes.length ? sizes : [1000, 10000, 20000]) {
    const file = path.join(dir, `mesh-${n}.yaml`);
    fs.writeFileSync(file, generateMesh(n));
    // the same file with one error near its end: validation must still point at it exactly
    const bad = path.join(dir, `mesh-${n}-bad.yaml`);
    fs.writeFileSync(
      bad,
      generateMesh(n).replace(/weight: 10 \}\n(?![\s\S]*weight: 10 \}\n)/, 'weight: 11 }\n'),
    );
    const base = [];
    const ours = [];
    const oursBad = [];
    let badOut = '';
    for (let i = 0; i < runs; i++) {
      base.push(time(['-e', jsyamlOnly, file]).ms);
      const r = time([cli, 'validate', file]);
      if (r.status !== 0) throw new Error(`validate failed on ${file}: ${r.stderr}`);
      ours.push(r.ms);
      const b = time([cli, 'validate', bad]);
      if (b.status !== 1) throw new Error(`validate did not reject ${bad}`);
      badOut = b.stderr.split('\n')[0];
      oursBad.push(b.ms);
    }
    rows.push({
      backends: n,
      mb: fs.statSync(file).size / 1e6,
      jsyaml: median(base),
      validate: median(ours),
      withError: median(oursBad),
      badOut,
    });
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`median of ${runs} runs each, interleaved; times include node startup on both sides`);
console.log('backends    size   js-yaml load   meshgen validate  ratio   with one error  ratio');
for (const r of rows)
  console.log(
    `${String(r.backends).padStart(8)} ${r.mb.toFixed(1).padStart(5)}MB ${(r.jsyaml / 1000).toFixed(2).padStart(10)}s ${(r.validate / 1000).toFixed(2).padStart(14)}s ${(r.validate / r.jsyaml).toFixed(2).padStart(7)} ${(r.withError / 1000).toFixed(2).padStart(14)}s ${(r.withError / r.jsyaml).toFixed(2).padStart(6)}`,
  );
const at = (n) => rows.find((r) => r.backends === n);
if (at(10000) && at(20000))
  console.log(
    `scaling: validate 20,000 / 10,000 = ${(at(20000).validate / at(10000).validate).toFixed(2)} (goal <= 2.2)`,
  );
if (at(10000))
  console.log(
    `goal: validate 10,000 <= 1.5 x js-yaml load: ${(at(10000).validate / at(10000).jsyaml).toFixed(2)}`,
  );
for (const r of rows) console.log(`  ${r.backends}: ${r.badOut}`);
