import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../bench/steady-load.mjs';
import { startBackend, type TestBackend } from '../support/backends.js';
import { distCli } from '../support/cli.js';
import { startProcess, waitFor, type Started } from '../support/processes.js';
import { cluster, httpBootstrap, request } from './helpers.js';

/** `meshgen proxy` as a process: signals, reload, drain, workers (dist/ is built by the global setup). */
const cli = distCli();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-proxy-cli-'));
let backend: TestBackend;
/** Accepts connections and never answers: a health check against it lasts its whole timeout. */
let silent: net.Server;
let silentSeen = 0;
const procs: Started[] = [];

beforeAll(async () => {
  backend = await startBackend('b', 'v1');
  silent = net.createServer(() => silentSeen++);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
}, 120_000);
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await backend.close();
  silent.close();
});

/**
 * Writes a bootstrap answering `body` (null: proxying to the backend); `slow` adds a cluster whose
 * health check waits on the silent server, so that starting or reloading it lasts a second.
 */
function write(name: string, port: number, body: string | null, slow = false): string {
  const f = path.join(dir, name);
  const routes =
    body === null
      ? [{ match: { prefix: '/' }, route: { cluster: 'b' } }]
      : [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } }];
  const check = { timeout: '1s', interval: '10s', unhealthy_threshold: 1, healthy_threshold: 1 };
  const clusters = [cluster('b', [backend.port])];
  if (slow) {
    const silentPort = (silent.address() as net.AddressInfo).port;
    clusters.push(
      cluster('slow', [silentPort], { health_checks: [{ ...check, http_health_check: { path: '/' } }] }),
    );
  }
  fs.writeFileSync(f, JSON.stringify(httpBootstrap(port, [{ name: 'v', domains: ['*'], routes }], clusters)));
  return f;
}

/** How many times the output says `text`. */
const times = (p: Started, text: string) => p.output().split(text).length - 1;

/** Waits for `text` to appear n times in the output; fails at once if the process ended. */
async function saysTimes(p: Started, text: string, n: number): Promise<void> {
  await waitFor(
    () => {
      if (p.child.exitCode !== null || p.child.signalCode !== null)
        throw new Error(`the process ended (${p.child.signalCode ?? p.child.exitCode}):\n${p.output()}`);
      return times(p, text) >= n;
    },
    { what: `"${text}" ${n} times in:\n${p.output()}`, timeoutMs: 30_000 },
  );
}

async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(() => fn().catch(() => false), { what });
}

/** The port the proxy says it serves on (the bootstrap asks for port 0). */
async function servingPort(p: Started): Promise<number> {
  const m = await waitFor(() => /serving .*?on 127\.0\.0\.1:(\d+)/.exec(p.output()), {
    what: 'meshgen proxy to say where it serves',
    timeoutMs: 30_000,
  });
  return Number(m[1]);
}

describe('meshgen proxy (process)', () => {
  it('reloads on SIGHUP, rejects a bad new configuration and keeps serving the old one', async () => {
    const f = write('reload.json', 0, 'one');
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f]);
    procs.push(p);
    const port = await servingPort(p);
    expect((await request(port, '/')).body).toBe('one');
    write('reload.json', 0, 'two');
    p.child.kill('SIGHUP');
    await until(async () => (await request(port, '/')).body === 'two', 'the reloaded configuration');
    const good = fs.readFileSync(f, 'utf8');
    fs.writeFileSync(f, good.replace('"stat_prefix"', '"stat_prefixx"'));
    p.child.kill('SIGHUP');
    // the refusal comes first, then the error naming the field: wait for the last of them
    await until(async () => p.output().includes('stat_prefixx'), 'the error naming the bad field');
    expect(p.output()).toContain('reload rejected');
    expect((await request(port, '/')).body).toBe('two');
  });

  it('serves listeners from an LDS file, reloads when it is replaced by a rename, refuses a bad one', async () => {
    const lds = path.join(dir, 'lds.json');
    const cds = path.join(dir, 'cds.json');
    const listenerFile = (body: string) => {
      const [l] = httpBootstrap(0, [{ name: 'v', domains: ['*'], routes: routes(body) }], []).static_resources
        .listeners;
      return JSON.stringify({
        resources: [{ '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...l }],
      });
    };
    const routes = (body: string) => [
      { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } },
    ];
    // a new file beside the old one, renamed over it: the move Envoy watches for
    const replace = (file: string, text: string) => {
      fs.writeFileSync(`${file}.new`, text);
      fs.renameSync(`${file}.new`, file);
    };
    fs.writeFileSync(lds, listenerFile('one'));
    fs.writeFileSync(
      cds,
      JSON.stringify({
        resources: [
          { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster('b', [backend.port]) },
        ],
      }),
    );
    const source = (file: string) => ({ path_config_source: { path: file }, resource_api_version: 'V3' });
    const f = path.join(dir, 'dynamic.json');
    fs.writeFileSync(
      f,
      JSON.stringify({
        node: { id: 'n', cluster: 'c' },
        dynamic_resources: { lds_config: source(lds), cds_config: source(cds) },
      }),
    );
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f]);
    procs.push(p);
    const port = await servingPort(p);
    expect((await request(port, '/')).body).toBe('one');
    replace(lds, listenerFile('two'));
    await until(async () => (await request(port, '/')).body === 'two', 'the renamed LDS file to be served');
    await saysTimes(p, 'reloaded', 1);
    replace(lds, listenerFile('three').replace('"stat_prefix"', '"stat_prefixx"'));
    await until(async () => p.output().includes('stat_prefixx'), 'the error naming the bad field');
    expect(p.output()).toContain('reload rejected');
    // located in the LDS file, with its line under the message
    expect(p.output()).toContain(`${lds}:1:`);
    expect((await request(port, '/')).body).toBe('two');
  });

  it('drains on SIGTERM: the request in flight completes, then the process exits 0', async () => {
    const f = write('drain.json', 0, null);
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f, '--drain-time-s', '5']);
    procs.push(p);
    const port = await servingPort(p);
    backend.behave({ delayMs: 700 });
    const inflight = request(port, '/slow');
    await waitFor(() => backend.seen.some((s) => s.path === '/slow'), { what: '/slow to reach the backend' });
    const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
    p.child.kill('SIGTERM');
    expect((await inflight).status).toBe(200);
    expect(await exited).toBe(0);
    backend.reset();
  });

  it('applies a second SIGHUP that comes during a reload (the file may have changed again)', async () => {
    const f = write('twice.json', 0, 'one');
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f]);
    procs.push(p);
    const port = await servingPort(p);
    const seen = silentSeen;
    write('twice.json', 0, 'two', true);
    p.child.kill('SIGHUP');
    // the reload is under way (its health check waits on the silent server) when the file changes
    await waitFor(() => silentSeen > seen, { what: 'the reload to start its health check' });
    write('twice.json', 0, 'three');
    p.child.kill('SIGHUP');
    await saysTimes(p, 'reloaded', 2);
    expect((await request(port, '/')).body).toBe('three');
  });

  it('holds a SIGHUP that comes while it starts, and applies it once serving', async () => {
    const f = write('early.json', 0, 'one', true);
    const seen = silentSeen;
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f]);
    procs.push(p);
    // starting (its health check waits on the silent server) when the file changes
    await waitFor(() => silentSeen > seen, { what: 'the start to run its health check' });
    write('early.json', 0, 'two');
    p.child.kill('SIGHUP');
    await saysTimes(p, 'reloaded', 1);
    expect((await request(await servingPort(p), '/')).body).toBe('two');
  });

  it('--concurrency 2: a SIGHUP while the workers start ends none of them; each applies it once serving', async () => {
    const f = write('workers-early.json', 0, 'one');
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f, '--concurrency', '2']);
    procs.push(p);
    await saysTimes(p, 'with 2 workers', 1);
    p.child.kill('SIGHUP');
    await saysTimes(p, 'reloaded', 2);
    expect(times(p, ' serving on ')).toBe(2);
    expect((await request(await servingPort(p), '/')).body).toBe('one');
  });

  it('--concurrency 2: reloads under keep-alive load (and a broken file) lose no request', async () => {
    const f = write('workers-load.json', 0, 'gen 0');
    const p = startProcess(process.execPath, [
      cli,
      'proxy',
      '-c',
      f,
      '--concurrency',
      '2',
      '--drain-time-s',
      '1',
    ]);
    procs.push(p);
    await saysTimes(p, ' serving on ', 2);
    const load = startLoad({ port: await servingPort(p), connections: 16 });
    const answered = (n: number) =>
      waitFor(() => load.counts.ok + load.counts.failed + load.counts.dropped >= n, { what: `${n} answers` });
    try {
      for (let n = 1; n <= 4; n++) {
        await answered(n * 60);
        write('workers-load.json', 0, `gen ${n}`);
        p.child.kill('SIGHUP');
        await saysTimes(p, 'reloaded', 2 * n);
      }
      fs.writeFileSync(f, '{"static_resources": {"listeners": [{}]}}');
      p.child.kill('SIGHUP');
      await saysTimes(p, 'reload rejected', 2);
      await answered(300);
    } finally {
      await load.stop();
    }
    const c = load.counts;
    expect({ failed: c.failed, dropped: c.dropped, outcomes: c.outcomes }).toEqual({
      failed: 0,
      dropped: 0,
      outcomes: {},
    });
    expect((await request(await servingPort(p), '/')).body).toBe('gen 4');
  });

  it('--concurrency 2 serves from two worker processes', async () => {
    const f = write('workers.json', 0, null);
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f, '--concurrency', '2']);
    procs.push(p);
    const port = await servingPort(p);
    await until(async () => p.output().includes('2 workers'), 'the primary to start 2 workers');
    const results = await Promise.all(Array.from({ length: 20 }, () => request(port, '/')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await p.stop();
  });
});
