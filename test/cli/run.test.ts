import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../support/backends.js';
import { distCli } from '../support/cli.js';
import { startEtcd } from '../support/etcd.js';
import {
  freePorts,
  hasBinary,
  startOnFreePorts,
  startProcess,
  waitFor,
  type Started,
} from '../support/processes.js';

/** `meshgen run <mesh> --as <name>` as a process (builds dist/ first). */
const root = path.resolve(import.meta.dirname, '..', '..');
const cli = distCli();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-run-'));
const meshFile = path.join(dir, 'mesh.yaml');
let app: TestBackend;
let proc: Started | undefined;
let port: number;

function mesh(abortStatus: number): string {
  return `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: r }
spec:
  namespace: r
  mtls: { mode: disabled }
  backends:
    - name: app
      port: 8080
      protocol: http
      versions: [{ name: v1, endpoints: ["${app.address}"] }]
  frontends:
    - { name: edge, address: 127.0.0.1, port: ${port}, protocol: http }
  routes:
    - name: broken
      parent: { frontend: edge }
      match: [{ path: { prefix: /broken } }]
      to: [{ backend: app }]
      fault: { abort: { status: ${abortStatus}, percent: 100 } }
    - name: app
      parent: { frontend: edge }
      match: [{ path: { prefix: / } }]
      to: [{ backend: app }]
`;
}

beforeAll(async () => {
  app = await startBackend('app', 'v1');
}, 120_000);
afterAll(async () => {
  await proc?.stop();
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const status = async (p: string) =>
  (await fetch(`http://127.0.0.1:${port}${p}`, { headers: { connection: 'close' } })).status;

describe('meshgen run', () => {
  it('serves a frontend from the mesh file and re-renders when it changes', async () => {
    // a mesh file names its ports (1-65535): picked, and picked again if one was taken meanwhile
    ({ proc } = await startOnFreePorts(
      2,
      ([frontend, admin]) => {
        port = frontend!;
        fs.writeFileSync(meshFile, mesh(418));
        return startProcess(process.execPath, [
          cli,
          'run',
          meshFile,
          '--as',
          'edge',
          '--set',
          `adminPort=${admin}`,
          '--drain-time',
          '1',
        ]);
      },
      { ready: ([frontend]) => [frontend!] },
    ));
    expect(await status('/ok')).toBe(200);
    expect(app.seen.at(-1)?.path).toBe('/ok');
    expect(await status('/broken')).toBe(418);
    fs.writeFileSync(meshFile, mesh(429));
    await waitFor(() => proc!.output().includes('re-rendered'), {
      what: 'meshgen run to re-render the changed mesh file',
    });
    expect(await status('/broken')).toBe(429);
    await proc.stop();
    expect(proc.child.exitCode).toBe(0);
  });

  it('names the choices when --as matches nothing', () => {
    fs.writeFileSync(meshFile, mesh(418));
    const r = spawnSync(process.execPath, [cli, 'run', meshFile, '--as', 'nope'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no frontend or backend named "nope"');
    expect(r.stderr).toContain('edge, app');
  });

  it('registers without loading the data plane', () => {
    const src = fs.readFileSync(path.join(root, 'src', 'cli', 'run.ts'), 'utf8');
    expect(src).not.toMatch(/from '\.\.\/dataplane/);
    expect(src).not.toMatch(/^import \{[^}]*\} from '\.\/run-action/m);
  });
});

describe.skipIf(!hasBinary('etcd'))('meshgen run --source etcd://', () => {
  it('serves an endpoint added in etcd without a restart', async () => {
    const etcd = await startEtcd();
    const second = await startBackend('app', 'v1');
    let run: Started | undefined;
    try {
      const [frontend, admin] = await freePorts(2);
      const doc = `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: r }
spec:
  namespace: r
  mtls: { mode: disabled }
  backends:
    - name: app
      port: 8080
      protocol: http
      versions: [{ name: v1 }]
  frontends:
    - { name: edge, address: 127.0.0.1, port: ${frontend}, protocol: http }
  routes:
    - name: app
      parent: { frontend: edge }
      to: [{ backend: app }]
`;
      await etcd.client.put('/shop/mesh').value(doc);
      await etcd.client.put('/shop/endpoints/app/v1/a').value(app.address);
      run = startProcess(process.execPath, [
        cli,
        'run',
        '--source',
        `etcd://${etcd.endpoint}/shop`,
        '--as',
        'edge',
        '--set',
        `adminPort=${admin}`,
        '--drain-time',
        '1',
      ]);
      await waitFor(() => run!.output().includes('serving edge from etcd://'), {
        what: 'meshgen run serving from etcd',
        timeoutMs: 30_000,
      });
      const ports = async (n: number) => {
        const seen = new Set<number>();
        for (let i = 0; i < n; i++) {
          const res = await fetch(`http://127.0.0.1:${frontend}/`, { headers: { connection: 'close' } });
          if (res.status === 200) seen.add(((await res.json()) as { port: number }).port);
        }
        return [...seen].sort();
      };
      expect(await ports(10)).toEqual([app.port]);
      const pid = run.child.pid;

      await etcd.client.put('/shop/endpoints/app/v1/b').value(second.address);
      await waitFor(() => run!.output().includes('re-rendered'), {
        what: 'meshgen run to re-render after the etcd write',
        timeoutMs: 30_000,
      });
      await waitFor(async () => (await ports(10)).includes(second.port), {
        what: 'the endpoint added in etcd served',
        timeoutMs: 20_000,
      });
      expect(await ports(20)).toEqual([app.port, second.port].sort());
      expect(run.child.pid).toBe(pid);
      expect(run.child.exitCode).toBeNull();
      await run.stop();
      expect(run.child.exitCode).toBe(0);
    } finally {
      await run?.stop();
      await second.close();
      await etcd.stop();
    }
  }, 120_000);
});
