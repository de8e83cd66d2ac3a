import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../support/backends.js';
import { distCli } from '../support/cli.js';
import { startProcess, waitFor, type Started } from '../support/processes.js';
import { cluster, httpBootstrap, request } from './helpers.js';

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
