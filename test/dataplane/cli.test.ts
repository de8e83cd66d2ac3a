import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../support/backends.js';
import { distCli } from '../support/cli.js';
import { startProcess, waitForPort, type Started } from '../support/processes.js';
import { cluster, freePort, httpBootstrap, request } from './helpers.js';

/** `meshgen proxy` as a process: signals, reload, drain, workers (dist/ is built by the global setup). */
const cli = distCli();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-proxy-cli-'));
let backend: TestBackend;
const procs: Started[] = [];

beforeAll(async () => {
  backend = await startBackend('b', 'v1');
}, 120_000);
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await backend.close();
});

function write(name: string, port: number, body: string | null): string {
  const f = path.join(dir, name);
  const routes =
    body === null
      ? [{ match: { prefix: '/' }, route: { cluster: 'b' } }]
      : [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } }];
  fs.writeFileSync(
    f,
    JSON.stringify(
      httpBootstrap(port, [{ name: 'v', domains: ['*'], routes }], [cluster('b', [backend.port])]),
    ),
  );
  return f;
}

async function until(fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

describe('meshgen proxy (process)', () => {
  it('reloads on SIGHUP, rejects a bad new configuration and keeps serving the old one', async () => {
    const port = await freePort();
    const f = write('reload.json', port, 'one');
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f]);
    procs.push(p);
    await waitForPort(port, '127.0.0.1', 20_000);
    expect((await request(port, '/')).body).toBe('one');
    write('reload.json', port, 'two');
    p.child.kill('SIGHUP');
    await until(async () => (await request(port, '/')).body === 'two');
    const good = fs.readFileSync(f, 'utf8');
    fs.writeFileSync(f, good.replace('"stat_prefix"', '"stat_prefixx"'));
    p.child.kill('SIGHUP');
    await until(async () => p.output().includes('reload rejected'));
    expect(p.output()).toContain('stat_prefixx');
    expect((await request(port, '/')).body).toBe('two');
  });

  it('drains on SIGTERM: the request in flight completes, then the process exits 0', async () => {
    const port = await freePort();
    const f = write('drain.json', port, null);
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f, '--drain-time-s', '5']);
    procs.push(p);
    await waitForPort(port, '127.0.0.1', 20_000);
    backend.behave({ delayMs: 700 });
    const inflight = request(port, '/slow');
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
    p.child.kill('SIGTERM');
    expect((await inflight).status).toBe(200);
    expect(await exited).toBe(0);
    backend.reset();
  });

  it('--concurrency 2 serves from two worker processes', async () => {
    const port = await freePort();
    const f = write('workers.json', port, null);
    const p = startProcess(process.execPath, [cli, 'proxy', '-c', f, '--concurrency', '2']);
    procs.push(p);
    await waitForPort(port, '127.0.0.1', 30_000);
    await until(async () => p.output().includes('2 workers'));
    const results = await Promise.all(Array.from({ length: 20 }, () => request(port, '/')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await p.stop();
  });
});
