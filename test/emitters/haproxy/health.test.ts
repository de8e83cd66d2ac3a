import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { meshFrom } from '../../support/meshes.js';
import { hasBinary, startOnFreePorts, startProcess, waitFor, type Started } from '../../support/processes.js';
import { renderTo, request, tempDir } from '../../smartstack/live.js';

// Active health checks (HAProxy keeps them, exact): the proxy probes the path and stops sending
// to an endpoint that fails it.
(hasBinary('haproxy') ? describe : describe.skip)('haproxy health checks', () => {
  let good: TestBackend;
  let bad: TestBackend;
  let proxy: Started;
  let port: number;
  beforeAll(async () => {
    good = await startBackend('checked', 'good');
    bad = await startBackend('checked', 'bad');
    bad.behave({ status: 500 });
    const dir = tempDir('haproxy-health');
    const started = await startOnFreePorts(1, ([p]) => {
      const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: health }
spec:
  mtls: { mode: disabled }
  backends:
    - name: checked
      port: ${p}
      versions: [{ name: v1, endpoints: ["${good.address}", "${bad.address}"] }]
      healthCheck: { path: /healthz, interval: 100ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 1 }
`);
      renderTo(mesh, 'haproxy', dir);
      return startProcess('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { cwd: dir });
    });
    proxy = started.proc;
    port = started.ports[0]!;
  });
  afterAll(async () => {
    await proxy?.stop();
    await good?.close();
    await bad?.close();
  });

  it('probes the health check path and sends nothing more to an endpoint that fails it', async () => {
    // with unhealthyThreshold 1 the first failed probe marks the endpoint down, and HAProxy
    // schedules the next probe only once it has that result: a second probe means it is down
    const probes = () => bad.seen.filter((s) => s.path === '/healthz');
    await waitFor(() => probes().length >= 2, { what: 'two health check probes of the failing endpoint' });
    expect(probes().every((s) => s.method === 'GET')).toBe(true);
    const before = bad.seen.filter((s) => s.path !== '/healthz').length;
    for (let i = 0; i < 20; i++)
      expect((await request('127.0.0.1', port, `/work/${i}`)).json?.version).toBe('good');
    expect(bad.seen.filter((s) => s.path !== '/healthz').length).toBe(before);
  });
});
