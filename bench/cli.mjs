// The 10,000-backend figures through the CLI, as a user runs it, each command in a fresh node
// process, RUNS times (default 3), interleaved, with the wall time, CPU time (user + sys) and peak
// memory (maximum resident set size) of each run:
//   meshgen render m.yaml --target istio,linkerd,consul       the YAML stream to stdout (/dev/null)
//   meshgen render m.yaml --target all -o out                 every target's files written to disk
//   meshgen diff a.yaml b.yaml --target all                   every target rendered twice and compared
// beside js-yaml alone loading m.yaml (the peer the render goal is measured against). The load
// average is printed before and after: on a shared machine, compare figures within one run only.
// Usage: npm run build && RUNS=3 node bench/cli.mjs [backends]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateMesh } from './gen-mesh.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const n = Number(process.argv[2] ?? 10_000);
const runs = Number(process.env.RUNS ?? 3);
const cli = path.join(root, 'dist/cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-bench-cli-'));
// each child writes its peak RSS and CPU time when it exits
const probe =
  'data:text/javascript,' +
  encodeURIComponent(
    "import fs from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); " +
      'fs.writeFileSync(process.env.MESHGEN_BENCH_USAGE, JSON.stringify({ rssKb: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 })); });',
  );
const jsyamlOnly = `require(${JSON.stringify(path.join(root, 'node_modules/js-yaml'))}).load(require('fs').readFileSync(process.argv[1], 'utf8'))`;

/** One fresh node process: wall time, CPU time and peak RSS; stdout to /dev/null, stderr kept. */
function run(nodeArgs, expect) {
  const usage = path.join(dir, 'usage.json');
  fs.rmSync(usage, { force: true });
  const out = fs.openSync('/dev/null', 'w');
  const start = performance.now();
  const r = spawnSync(process.execPath, ['--import', probe, ...nodeArgs], {
    cwd: dir,
    stdio: ['ignore', out, 'pipe'],
    env: { ...process.env, NO_COLOR: '1', MESHGEN_BENCH_USAGE: usage },
    maxBuffer: 1 << 28,
  });
  const wall = performance.now() - start;
  fs.closeSync(out);
  if (!expect.includes(r.status))
    throw new Error(`node ${nodeArgs.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(-2000)}`);
  const u = JSON.parse(fs.readFileSync(usage, 'utf8'));
  return { wall, cpu: u.cpuMs, rssMb: u.rssKb / 1024 };
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;

const commands = [
  ['js-yaml load of m.yaml', () => run(['-e', jsyamlOnly, 'm.yaml'], [0])],
  [
    'render --target istio,linkerd,consul (stdout)',
    () => run([cli, 'render', 'm.yaml', '--target', 'istio,linkerd,consul'], [0]),
  ],
  [
    'render --target all -o out',
    () => {
      fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
      return run([cli, 'render', 'm.yaml', '--target', 'all', '-o', 'out'], [0]);
    },
  ],
  // a diff exits 1 when it finds changes (as diff(1)), 2 when a target could not be rendered
  ['diff a b --target all', () => run([cli, 'diff', 'm.yaml', 'b.yaml', '--target', 'all'], [1, 2])],
];

const results = commands.map(() => []);
try {
  fs.writeFileSync(path.join(dir, 'm.yaml'), generateMesh(n));
  // b: the weights of every 100th route changed
  fs.writeFileSync(path.join(dir, 'b.yaml'), generateMesh(n, { variant: 1, changedEvery: 100 }));
  console.log(`${n} backends; node ${process.version}; ${os.availableParallelism()} CPUs; load ${load()}`);
  for (let i = 0; i < runs; i++)
    commands.forEach(([label, fn], c) => {
      const r = fn();
      results[c].push(r);
      console.log(
        `run ${i + 1}  ${label.padEnd(46)} ${sec(r.wall).padStart(8)} wall ${sec(r.cpu).padStart(8)} CPU ${`${r.rssMb.toFixed(0)} MB`.padStart(8)} peak   load ${load()}`,
      );
    });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`\nmedians of ${runs} interleaved runs (node start-up included)`);
console.log(`${'command'.padEnd(52)} ${'wall'.padStart(8)} ${'CPU'.padStart(8)} ${'peak RSS'.padStart(9)}`);
commands.forEach(([label], c) => {
  const rs = results[c];
  console.log(
    `${label.padEnd(52)} ${sec(median(rs.map((r) => r.wall))).padStart(8)} ${sec(median(rs.map((r) => r.cpu))).padStart(8)} ${`${median(rs.map((r) => r.rssMb)).toFixed(0)} MB`.padStart(9)}`,
  );
});
const jsyaml = median(results[0].map((r) => r.wall));
const render = median(results[1].map((r) => r.wall));
console.log(`render 3 targets through the CLI / js-yaml load: ${(render / jsyaml).toFixed(2)} (goal <= 3)`);
