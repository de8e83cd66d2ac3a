// Benchmark: render meshes of 1,000, 10,000 and 20,000 backends to the three Kubernetes control-plane
// targets (istio, linkerd, consul), beside js-yaml alone loading the same input, in the same run.
// Each side runs in a fresh node process; "render" is the whole job (read, parse, validate,
// normalize, emit the three targets, serialise every file to text), not writing to disk, which the
// "render -o" column adds as the CLI does it. "CLI stdout" is `meshgen render --target
// istio,linkerd,consul <file>` as a user runs it: the YAML stream to stdout (a pipe this script
// drains, as `| kubectl apply -f -` would), the diagnostics to stderr (another pipe, drained).
// Medians of RUNS interleaved runs (default 3).
// Usage: npm run build && node bench/render.mjs [sizes...]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMesh } from './gen-mesh.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sizes = process.argv.slice(2).map(Number);
const runs = Number(process.env.RUNS ?? 3);
const withDisk = process.env.DISK !== '0';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-render-'));
const jsyamlOnly = `require(${JSON.stringify(path.join(root, 'node_modules/js-yaml'))}).load(require('fs').readFileSync(process.argv[1], 'utf8'))`;
const renderOnly = `
import { loadMesh, render } from ${JSON.stringify(path.join(root, 'dist/index.js'))};
const r = await loadMesh(process.argv[1]);
if (!r.mesh) { console.error(r.diagnostics.slice(0, 3)); process.exit(1); }
const out = render(r.mesh, { targets: ['istio', 'linkerd', 'consul'] });
let files = 0, bytes = 0;
for (const o of out.outputs) for (const f of o.files) { files++; bytes += f.contents.length; }
console.log(JSON.stringify({ files, bytes }));
`;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
function time(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, out: r.stdout };
}

/** Runs the CLI with stdout and stderr drained as a pipe's reader would; its wall time and bytes out. */
function timeCli(args) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (b) => (bytes += b.length));
    child.stderr.on('data', (b) => (err = (err + b).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, bytes })
        : reject(new Error(`meshgen ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

const rows = [];
try {
  for (const n of sizes.length ? sizes : [1000, 10000, 20000]) {
    const file = path.join(dir, `mesh-${n}.yaml`);
    fs.writeFileSync(file, generateMesh(n));
    const base = [];
    const ours = [];
    const disk = [];
    const cli = [];
    let info = {};
    for (let i = 0; i < runs; i++) {
      base.push(time(['-e', jsyamlOnly, file]).ms);
      const r = time(['--input-type=module', '-e', renderOnly, file]);
      info = JSON.parse(r.out);
      ours.push(r.ms);
      cli.push((await timeCli(['render', file, '--target', 'istio,linkerd,consul'])).ms);
      if (withDisk) {
        const out = path.join(dir, `out-${n}`);
        disk.push(
          time([
            path.join(root, 'dist/cli.js'),
            'render',
            file,
            '--target',
            'istio,linkerd,consul',
            '-o',
            out,
          ]).ms,
        );
        fs.rmSync(out, { recursive: true, force: true });
      }
    }
    rows.push({
      n,
      jsyaml: median(base),
      render: median(ours),
      cli: median(cli),
      disk: withDisk ? median(disk) : NaN,
      ...info,
    });
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`median of ${runs} interleaved runs; node startup included on both sides`);
console.log(
  'backends   js-yaml load   render 3 targets  ratio   CLI stdout  ratio    files   output MB   render -o (disk)',
);
for (const r of rows)
  console.log(
    `${String(r.n).padStart(8)} ${(r.jsyaml / 1000).toFixed(2).padStart(12)}s ${(r.render / 1000).toFixed(2).padStart(16)}s ${(r.render / r.jsyaml).toFixed(2).padStart(6)} ${(r.cli / 1000).toFixed(2).padStart(11)}s ${(r.cli / r.jsyaml).toFixed(2).padStart(6)} ${String(r.files).padStart(8)} ${(r.bytes / 1e6).toFixed(1).padStart(10)} ${Number.isNaN(r.disk) ? '-'.padStart(15) : `${(r.disk / 1000).toFixed(2).padStart(14)}s`}`,
  );
const at = (n) => rows.find((r) => r.n === n);
if (at(10000))
  console.log(
    `goal: render 10,000 <= 3 x js-yaml load: library ${(at(10000).render / at(10000).jsyaml).toFixed(2)}, CLI to stdout ${(at(10000).cli / at(10000).jsyaml).toFixed(2)}`,
  );
if (at(10000) && at(20000))
  console.log(`goal: render 20,000 / 10,000 <= 2.2: ${(at(20000).render / at(10000).render).toFixed(2)}`);
