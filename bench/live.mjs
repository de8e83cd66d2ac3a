#!/usr/bin/env node
// Propagation through `meshgen watch --target haproxy --run`: the time from an etcd write to HAProxy
// serving the change, for meshes of 100 and 1,000 backends with 3 instances each registered as
// endpoint keys. Two kinds of change: endpoint-only (backend 0's three instances replaced in one
// transaction by three others, timed until a request through backend 0's listener reaches the new
// instance) and a mesh change (a route timeout in the mesh key, timed until metrics.prom shows the
// new generation, i.e. checked, swapped and reloaded). The endpoint-only change again with
// `--set serverSlots=4`: applied over HAProxy's runtime API, no reload. Beside them, in the same run, a bare render of
// the same mesh to HAProxy in this process: the floor the watcher's load, render, check, write and
// reload are measured against.
//
//   npm run build && node bench/live.mjs [--sizes 100,1000] [--trials 10] [--base-port 31000]
//
// Needs etcd (Debian's etcd-server) and haproxy. Each backend has a local listener (the SmartStack
// layout) at base-port + i on 127.0.0.1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { parseMesh, render } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const sizes = opt('sizes', '100,1000').split(',').map(Number);
const trials = Number(opt('trials', '10'));
const basePort = Number(opt('base-port', '31000'));
const haproxyVersion = /HAProxy version (\d+\.\d+\.\d+)/.exec((await run('haproxy', ['-v'])).output)?.[1];

function run(cmd, argv) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => resolve({ status: 127, output: String(e) }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitFor(fn, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A backend answering its own name. */
async function stub(name) {
  const srv = http.createServer((req, res) => res.end(name));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { name, address: `127.0.0.1:${srv.address().port}`, close: () => srv.close() };
}

function get(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    });
    req.on('error', () => resolve(''));
  });
}

function mesh(n, timeout) {
  const lines = ['apiVersion: meshgen.io/v1alpha1', 'kind: Mesh', 'metadata: { name: bench }', 'spec:'];
  lines.push('  mtls: { mode: disabled }', '  backends:');
  for (let i = 0; i < n; i++)
    lines.push(`    - { name: b${i}, port: ${basePort + i}, protocol: http, versions: [{ name: v1 }] }`);
  lines.push(
    '  routes:',
    `    - { name: r0, parent: { backend: b0 }, to: [{ backend: b0 }], timeout: ${timeout}s }`,
  );
  return lines.join('\n') + '\n';
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-bench-live-'));
const [clientPort, peerPort] = [await freePort(), await freePort()];
const etcd = spawn(
  'etcd',
  [
    '--name=bench',
    `--data-dir=${dir}/etcd`,
    `--listen-client-urls=http://127.0.0.1:${clientPort}`,
    `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=bench=http://127.0.0.1:${peerPort}`,
    '--log-level=error',
  ],
  { stdio: 'ignore' },
);
const client = new Etcd3({ hosts: `http://127.0.0.1:${clientPort}` });
const stubs = await Promise.all(['old', 'new'].map(stub));
const rows = [];
try {
  await waitFor(
    () =>
      client.get('x').then(
        () => true,
        () => false,
      ),
    'etcd',
  );
  for (const n of sizes) {
    const prefix = `/bench${n}`;
    const text = mesh(n, 5);
    await client.put(`${prefix}/mesh`).value(text);
    // three instances per backend; backend 0's serve "old"
    for (let i = 0; i < n; i += 40) {
      const batch = client
        .if(`${prefix}/mesh`, 'Version', '>', 0)
        .then(
          ...Array.from({ length: Math.min(40, n - i) }, (_, k) => i + k).flatMap((b) =>
            [1, 2, 3].map((j) =>
              client
                .put(`${prefix}/endpoints/b${b}/v1/i${j}`)
                .value(b === 0 ? stubs[0].address : `127.0.0.1:${20000 + j}`),
            ),
          ),
        );
      await batch.commit();
    }
    /** `meshgen watch --run` on this prefix, writing to out<n><suffix>. */
    const startWatch = (suffix, extra) => {
      const out = path.join(dir, `out${n}${suffix}`);
      const child = spawn(
        process.execPath,
        [
          path.join(root, 'dist/cli.js'),
          'watch',
          '--source',
          `etcd://127.0.0.1:${clientPort}${prefix}`,
          '--target',
          'haproxy',
          '-o',
          out,
          '--run',
          '--debounce',
          '1ms',
          ...(haproxyVersion ? ['--set', `version=${haproxyVersion}`] : []),
          ...extra,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const w = { child, out, log: '' };
      child.stderr.on('data', (d) => (w.log += d));
      return w;
    };
    const stopWatch = async (w) => {
      w.child.kill('SIGTERM');
      if (w.child.exitCode === null) await new Promise((r) => w.child.once('exit', r));
    };
    /** Replaces backend 0's three instances by `to` in one transaction; resolves when it serves. */
    const endpointChange = async (to, w) => {
      const t0 = performance.now();
      await client
        .if(`${prefix}/mesh`, 'Version', '>', 0)
        .then(...[1, 2, 3].map((j) => client.put(`${prefix}/endpoints/b0/v1/i${j}`).value(to.address)))
        .commit();
      await waitFor(async () => (await get(basePort)) === to.name, 'the new instance serving', 180_000).catch(
        (e) => {
          throw new Error(`${e.message}\n${w.log}`);
        },
      );
      return performance.now() - t0;
    };
    let watch = startWatch('', []);
    const out = watch.out;
    let serving = 'old';
    const generation = () => {
      const m = /^meshgen_watch_generation (\d+)$/m.exec(
        fs.existsSync(`${out}/metrics.prom`) ? fs.readFileSync(`${out}/metrics.prom`, 'utf8') : '',
      );
      return m ? Number(m[1]) : 0;
    };
    try {
      await waitFor(
        async () => (await get(basePort)) === 'old',
        `backend 0 serving (${n} backends)\n${watch.log}`,
        120_000,
      );
      // the peer: a bare render of the same mesh with its endpoints, in this process
      const withEndpoints = text.replaceAll(
        'versions: [{ name: v1 }]',
        'versions: [{ name: v1, endpoints: ["127.0.0.1:20001", "127.0.0.1:20002", "127.0.0.1:20003"] }]',
      );
      const renders = [];
      for (let t = 0; t < trials; t++) {
        const t0 = performance.now();
        const loaded = parseMesh(withEndpoints);
        render(loaded.mesh, {
          targets: ['haproxy'],
          settings: haproxyVersion ? { version: haproxyVersion } : {},
        });
        renders.push(performance.now() - t0);
      }
      const endpointTimes = [];
      const meshTimes = [];
      for (let t = 0; t < trials; t++) {
        const to = stubs[(t + 1) % 2];
        const g0 = generation();
        endpointTimes.push(await endpointChange(to, watch));
        serving = to.name;
        // HAProxy may serve the new endpoint before metrics.prom says so: the mesh change is timed
        // from a settled generation
        await waitFor(() => generation() > g0, 'the endpoint generation in metrics.prom', 60_000);
        const before = generation();
        const t1 = performance.now();
        await client.put(`${prefix}/mesh`).value(mesh(n, 6 + t));
        await waitFor(() => generation() > before, 'the mesh change serving', 180_000);
        meshTimes.push(performance.now() - t1);
      }
      // the same endpoint changes with server slots: over HAProxy's runtime API, no reload
      await stopWatch(watch);
      watch = startWatch('-slots', ['--set', 'serverSlots=4']);
      await waitFor(
        async () => (await get(basePort)) === serving,
        `backend 0 serving with slots (${n} backends)\n${watch.log}`,
        120_000,
      );
      const runtimeTimes = [];
      for (let t = 0; t < trials; t++) {
        const to = stubs.find((s) => s.name !== serving);
        runtimeTimes.push(await endpointChange(to, watch));
        serving = to.name;
      }
      // metrics.prom is written after the swap, which follows the runtime commands
      const updates = () =>
        Number(
          /^meshgen_watch_runtime_updates_total (\d+)$/m.exec(
            fs.readFileSync(`${watch.out}/metrics.prom`, 'utf8'),
          )?.[1],
        );
      await waitFor(() => updates() === trials, `${trials} runtime updates\n${watch.log}`, 10_000);
      const r = (xs) => `${pct(xs, 50).toFixed(0)} / ${pct(xs, 99).toFixed(0)}`;
      rows.push([
        n,
        r(runtimeTimes),
        r(endpointTimes),
        r(meshTimes),
        r(renders),
        (pct(runtimeTimes, 50) / pct(renders, 50)).toFixed(2),
        (pct(endpointTimes, 50) / pct(renders, 50)).toFixed(1),
      ]);
    } finally {
      await stopWatch(watch);
    }
  }
} finally {
  client.close();
  etcd.kill('SIGTERM');
  stubs.forEach((s) => s.close());
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(
  `meshgen watch --target haproxy --run, HAProxy ${haproxyVersion ?? '?'}, ${trials} trials (p99 of ${trials} is about the maximum)`,
);
console.log(
  'backends | etcd write -> endpoint serving, runtime API (serverSlots=4) p50/p99 ms | etcd write -> endpoint serving, reload p50/p99 ms | mesh change -> reloaded p50/p99 ms | bare render p50/p99 ms | runtime p50 / render p50 | reload endpoint p50 / render p50',
);
for (const row of rows) console.log(row.join(' | '));
