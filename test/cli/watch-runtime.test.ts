import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoad } from '../../bench/steady-load.mjs';
import { startBackend, type TestBackend } from '../support/backends.js';
import { distCli, runCli } from '../support/cli.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import { children, freePorts, hasBinary, startProcess, waitFor } from '../support/processes.js';
import { mesh, metric, reached, stopStartedProxies } from '../support/watch.js';

/*
 * `meshgen watch --target haproxy --run --set serverSlots=3` with a real etcd: endpoint-only
 * changes go over HAProxy's runtime API (the same worker serves before and after, no reload), a
 * change beyond the slots and a route change reload; under steady load no request fails.
 */
describe.skipIf(!hasBinary('etcd') || !hasBinary('haproxy'))('meshgen watch: HAProxy runtime API', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  });

  it('applies endpoint-only changes without a reload while they fit the slots, reloads otherwise', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-rt-'));
    stops.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const etcd: TestEtcd = await startEtcd();
    stops.push(() => etcd.stop());
    const backends: TestBackend[] = [];
    for (let i = 0; i < 4; i++) backends.push(await startBackend('api', 'v1'));
    stops.push(() => Promise.all(backends.map((b) => b.close())));
    const [b1, b2, b3, b4] = backends as [TestBackend, TestBackend, TestBackend, TestBackend];
    const [port, service] = await freePorts(2);
    const key = (name: string) => `/live/endpoints/api/v1/${name}`;
    await etcd.client.put(key('a')).value(b1.address);
    await etcd.client.put(key('b')).value(b2.address);
    await etcd.client.put('/live/mesh').value(mesh(port!, service!));
    const out = path.join(dir, 'out');
    // after the watcher stopped (stops run last first): whatever proxy it left running
    stops.push(async () => stopStartedProxies(watch.output()));
    const watch = startProcess(process.execPath, [
      distCli(),
      'watch',
      '--source',
      `etcd://${etcd.endpoint}/live`,
      '--target',
      'haproxy',
      '-o',
      out,
      '--run',
      '--debounce',
      '100ms',
      '--set',
      'serverSlots=3',
    ]);
    stops.push(() => watch.stop());
    const generation = () => metric(out, 'meshgen_watch_generation') ?? 0;
    const reloads = () => metric(out, 'meshgen_watch_reloads_total');
    const runtime = () => metric(out, 'meshgen_watch_runtime_updates_total');
    const ports = async (want: TestBackend[]) => {
      const expected = want.map((b) => b.port).sort((x, y) => x - y);
      await waitFor(
        async () => String([...(await reached(port!, 20))].sort((x, y) => x - y)) === String(expected),
        {
          what: `traffic to exactly ${expected.join(', ')}`,
          timeoutMs: 10_000,
        },
      );
    };
    await waitFor(() => generation() === 1, { what: 'the first generation serving', timeoutMs: 30_000 });
    await ports([b1, b2]);
    const started = () =>
      [...watch.output().matchAll(/started haproxy \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    await waitFor(() => started().length === 1, { what: 'HAProxy started' });
    const master = started()[0]!;
    const workers = children(master);
    expect(workers.length).toBe(1);
    expect(fs.readFileSync(path.join(out, 'haproxy', 'haproxy.cfg'), 'utf8')).toContain(
      `stats socket unix@${path.resolve(out, 'haproxy.sock')} mode 600 level admin`,
    );

    const load = startLoad({ port: port!, connections: 4 });
    // an endpoint added: a spare slot takes it, the same worker serves it
    await etcd.client.put(key('c')).value(b3.address);
    await waitFor(() => runtime() === 1, { what: 'the first runtime update', timeoutMs: 20_000 });
    expect(generation()).toBe(2);
    expect(reloads()).toBe(1);
    await ports([b1, b2, b3]);
    expect(children(master)).toEqual(workers);
    await waitFor(() => watch.output().includes('applied over the runtime API, no reload'), {
      what: 'the runtime update in the log',
    });
    // the configuration on disk has the same servers, for a later reload
    expect(fs.readFileSync(path.join(out, 'haproxy', 'haproxy.cfg'), 'utf8')).toContain(b3.address);

    // an endpoint removed: its slot goes back to maintenance, no request reaches it any more
    await etcd.client.delete().key(key('a'));
    await waitFor(() => runtime() === 2, { what: 'the second runtime update', timeoutMs: 20_000 });
    await ports([b2, b3]);
    expect(reloads()).toBe(1);
    expect(children(master)).toEqual(workers);

    // the removed one back and taken away again, several times: every change a runtime update
    for (let i = 0; i < 6; i++) {
      const before = runtime()!;
      if (i % 2 === 0) await etcd.client.put(key('a')).value(b1.address);
      else await etcd.client.delete().key(key('a'));
      await waitFor(() => runtime() === before + 1, {
        what: `runtime update ${before + 1}`,
        timeoutMs: 20_000,
      });
    }
    await ports([b2, b3]);
    expect(reloads()).toBe(1);
    expect(children(master)).toEqual(workers);

    // beyond the slots: four endpoints for three slots, so the checked reload, and it says why
    await etcd.client
      .if('/live/mesh', 'Version', '>', 0)
      .then(etcd.client.put(key('a')).value(b1.address), etcd.client.put(key('d')).value(b4.address))
      .commit();
    await waitFor(() => reloads() === 2, { what: 'the reload beyond the slots', timeoutMs: 20_000 });
    expect(runtime()).toBe(8);
    await waitFor(() => watch.output().includes('api/v1 has 4 endpoints and 3 server slots: reloading'), {
      what: 'the reason in the log',
    });
    await ports([b1, b2, b3, b4]);
    expect(children(master)).not.toEqual(workers);

    // a route change reloads
    await etcd.client.put('/live/mesh').value(mesh(port!, service!, '7s'));
    await waitFor(() => reloads() === 3, { what: 'the reload for a route change', timeoutMs: 20_000 });
    expect(runtime()).toBe(8);
    await ports([b1, b2, b3, b4]);

    // after the reload the slots are as rendered (four, all full): a removal fits them again
    await etcd.client.delete().key(key('d'));
    await waitFor(() => runtime() === 9, { what: 'a runtime update after the reloads', timeoutMs: 20_000 });
    await ports([b1, b2, b3]);
    expect(reloads()).toBe(3);

    const counts = await load.stop();
    console.log(`haproxy runtime API: ${JSON.stringify(counts)} over ${generation()} generations`);
    expect(counts.ok).toBeGreaterThan(100);
    expect(counts.failed).toBe(0);
    expect(counts.dropped).toBe(0);
    expect(started()).toEqual([master]);
  }, 150_000);

  it('refuses a runtime socket path too long for a UNIX socket (MG4033)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-rt-'));
    stops.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), mesh(8080, 9000));
    const r = runCli([
      'watch',
      '--source',
      path.join(dir, 'mesh.yaml'),
      '--target',
      'haproxy',
      '-o',
      path.join(dir, 'o'.repeat(120)),
      '--set',
      'serverSlots=2',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error MG4033: the runtime socket');
    expect(r.stderr).toContain('is longer than a UNIX socket path can be (107 bytes)');
  });
});
