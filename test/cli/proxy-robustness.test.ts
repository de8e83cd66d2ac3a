import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../support/backends.js';
import { distCli } from '../support/cli.js';
import { children, startProcess, waitFor, type Started } from '../support/processes.js';
import { tempDirsPerTest } from '../support/temp.js';
import { cluster, httpBootstrap } from '../dataplane/helpers.js';

/**
 * `meshgen proxy` as a process, where a crash or a blocked event loop shows: what an admin query
 * can do to it, and the primary of `--concurrency` restarting a worker that dies.
 */
const cli = distCli();
const tempDir = tempDirsPerTest('meshgen-proxy-robust');
let backend: TestBackend;
const procs: Started[] = [];

beforeAll(async () => {
  backend = await startBackend('b', 'v1');
});
afterAll(async () => {
  await backend.close();
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
});

/**
 * A bootstrap file routing to the backend, its listener on `port` (0: the OS picks), with an admin
 * endpoint on port 0 if asked (not with workers: listening on port 0 twice, worker 1 would hold
 * other ports than worker 2).
 */
function bootstrapFile(port = 0, admin = false): string {
  const f = path.join(tempDir(), 'bootstrap.json');
  const routes = [{ match: { prefix: '/' }, route: { cluster: 'b' } }];
  const boot = httpBootstrap(port, [{ name: 'v', domains: ['*'], routes }], [cluster('b', [backend.port])], {
    admin: admin ? 0 : undefined,
  });
  fs.writeFileSync(f, JSON.stringify(boot));
  return f;
}

function proxy(args: string[]): Started {
  const p = startProcess(process.execPath, [cli, 'proxy', ...args]);
  procs.push(p);
  return p;
}

/** The listener and admin ports of the serving line (the first worker's, with several). */
async function ports(p: Started): Promise<{ port: number; admin: number }> {
  const m = await waitFor(
    () => /serving .*?on 127\.0\.0\.1:(\d+)(?: \(admin on port (\d+)\))?/.exec(p.output()),
    {
      what: 'meshgen proxy to say where it serves',
      timeoutMs: 30_000,
    },
  );
  return { port: Number(m[1]), admin: Number(m[2]) };
}

/** GET with a deadline: a proxy that died or hangs fails the test instead of stalling it. */
async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    headers: { connection: 'close' },
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.text() };
}

describe('meshgen proxy admin queries', () => {
  it('answers 400 to a /stats filter RE2 cannot parse, and the process keeps serving', async () => {
    const p = proxy(['-c', bootstrapFile(0, true)]);
    const { port, admin } = await ports(p);
    const r = await get(admin, `/stats?filter=${encodeURIComponent('(')}`);
    expect(r).toEqual({
      status: 400,
      body: 'Invalid re2 regex: error parsing regexp: missing closing ): `(`\n',
    });
    expect((await get(port, '/')).status).toBe(200);
    expect(p.child.exitCode).toBeNull();
  });

  it('evaluates a catastrophic-backtracking /stats filter in linear time: the listeners keep answering', async () => {
    const p = proxy(['-c', bootstrapFile(0, true)]);
    const { port, admin } = await ports(p);
    expect((await get(port, '/')).status).toBe(200);
    const filtered = get(admin, `/stats?filter=${encodeURIComponent('^([a-z_.]+)+X')}`);
    // sent while the filter runs: with a backtracking engine the event loop never comes back to it
    const served = get(port, '/');
    expect(await filtered).toEqual({ status: 200, body: '' });
    expect((await served).status).toBe(200);
  });
});

describe('meshgen proxy --concurrency', () => {
  it('forks a worker again when one dies, and says so', async () => {
    const p = proxy(['-c', bootstrapFile(), '--concurrency', '2']);
    const { port } = await ports(p);
    const primary = p.child.pid!;
    // both listening: the port stays open while one of them is replaced
    await waitFor(() => p.output().match(/worker \d.*? serving on/g)?.length === 2, {
      what: 'both workers to serve',
      timeoutMs: 30_000,
    });
    const workers = children(primary);
    const first = workers[0]!;
    process.kill(first, 'SIGKILL');
    await waitFor(() => /worker \d exited \(signal SIGKILL\); restarting it/.test(p.output()), {
      what: 'the primary to restart the killed worker',
    });
    await waitFor(() => children(primary).length === 2 && !children(primary).includes(first), {
      what: 'a new worker in place of the killed one',
      timeoutMs: 30_000,
    });
    expect((await get(port, '/')).status).toBe(200);
  });

  it('gives up on workers that die at start: a bounded number of restarts, then exit 1', async () => {
    // the listener's port is taken, so every worker fails to start
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const p = proxy(['-c', bootstrapFile((taken.address() as net.AddressInfo).port), '--concurrency', '2']);
      await waitFor(() => p.child.exitCode !== null, { what: 'the primary to exit', timeoutMs: 50_000 });
      expect(p.child.exitCode).toBe(1);
      expect(p.output().match(/restarting it/g)).toHaveLength(5);
      expect(p.output()).toMatch(/5 restarts in 60 s, giving up/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
