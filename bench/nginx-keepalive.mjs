#!/usr/bin/env node
// NGINX reloads under a steady load, with the nginx target's client keep-alive on (the default) and
// off (`--set clientKeepalive=off`), side by side in one run: the same mesh, the same backend, the
// same number of reloads (SIGHUP to the master, each once its new worker runs, `--gap-ms` apart).
// Prints, for each trial, the requests sent, answered, dropped (connection errors) and the
// connections the clients opened, and the requests per second of "off" as a share of "on" in the
// same run. The point: with keep-alive on NGINX before 1.27.4 resets a request written into an idle
// keep-alive connection at a reload; off, nothing is idle and nothing is reset, at the cost of a
// connection per request.
//
//   npm run build && node bench/nginx-keepalive.mjs [--reloads 20] [--trials 2] [--connections 4]
//     [--gap-ms 300] [--version <rendered for; default the installed nginx>]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoad } from './steady-load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const reloads = Number(opt('reloads', '20'));
const trials = Number(opt('trials', '2'));
const connections = Number(opt('connections', '4'));
const gapMs = Number(opt('gap-ms', '300'));
/** The NGINX binary on the PATH (Debian's nginx package). */
const NGINX = 'nginx';
const nginxVersion = /nginx\/(\d+\.\d+\.\d+)/.exec(
  spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr ?? '',
);
if (!nginxVersion) throw new Error('nginx is needed');
const version = opt('version', nginxVersion[1]);
const cli = path.join(root, 'dist', 'cli.js');
if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: npm run build');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-nginx-keepalive-'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function waitFor(what, fn, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
/** The pids of a process's children (NGINX's workers under its master). */
function children(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

const backend = http.createServer((_req, res) => res.end('ok\n'));
await new Promise((r) => backend.listen(0, '127.0.0.1', r));

/** One trial: render with `settings`, run NGINX, reload it `reloads` times under the load. */
async function trial(keepalive) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(tmp, `${keepalive}-`));
  fs.writeFileSync(
    path.join(dir, 'mesh.yaml'),
    `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: bench }
spec:
  mtls: { mode: disabled }
  backends:
    - name: api
      port: 9000
      protocol: http
      versions:
        - name: v1
          endpoints: ["127.0.0.1:${backend.address().port}"]
  frontends:
    - { name: edge, address: 127.0.0.1, port: ${port}, protocol: http }
  routes:
    - { name: all, parent: { frontend: edge }, to: [{ backend: api }], timeout: 5s }
`,
  );
  const out = path.join(dir, 'nginx');
  execFileSync(
    process.execPath,
    [
      cli,
      'render',
      path.join(dir, 'mesh.yaml'),
      '--target',
      'nginx',
      '-o',
      dir,
      '--set',
      `version=${version}`,
    ].concat(keepalive === 'off' ? ['--set', 'clientKeepalive=off'] : []),
    { stdio: 'ignore' },
  );
  const nginx = spawn(NGINX, ['-p', out, '-c', path.join(out, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  try {
    await waitFor('the NGINX workers', () => children(nginx.pid).length > 0);
    const load = startLoad({ port, connections });
    const t0 = Date.now();
    for (let i = 0; i < reloads; i++) {
      const before = children(nginx.pid);
      nginx.kill('SIGHUP');
      await waitFor(`reload ${i + 1}`, () => children(nginx.pid).some((p) => !before.includes(p)));
      await sleep(gapMs);
    }
    const counts = await load.stop();
    return { keepalive, counts, seconds: (Date.now() - t0) / 1000, opened: load.connectionsOpened };
  } finally {
    const exited = new Promise((r) => nginx.once('exit', r));
    nginx.kill('SIGTERM');
    await exited;
  }
}

const rows = [];
try {
  for (let t = 0; t < trials; t++) for (const k of ['on', 'off']) rows.push(await trial(k));
} finally {
  backend.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(
  `NGINX ${nginxVersion[1]} rendered for ${version}, ${reloads} reloads, ${connections} clients\n` +
    'clientKeepalive | requests | ok | dropped | connections | requests/s',
);
for (const r of rows)
  console.log(
    `${r.keepalive} | ${r.counts.sent} | ${r.counts.ok} | ${r.counts.dropped} ${JSON.stringify(r.counts.outcomes)} | ${r.opened} | ${Math.round(r.counts.sent / r.seconds)}`,
  );
const rate = (k) => {
  const of = rows.filter((r) => r.keepalive === k);
  return of.reduce((a, r) => a + r.counts.sent, 0) / of.reduce((a, r) => a + r.seconds, 0);
};
console.log(`requests/s with keep-alive off: ${(rate('off') / rate('on')).toFixed(2)} of on`);
