import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { meshFrom } from '../../support/meshes.js';
import { freePort, hasBinary, startProcess, waitForPort, type Started } from '../../support/processes.js';
import { renderTo, request, tempDir } from '../proxy/live.js';

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
    port = await freePort();
    const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: health }
spec:
  mtls: { mode: disabled }
  backends:
    - name: checked
      port: ${port}
      versions: [{ name: v1, endpoints: ["${good.address}", "${bad.address}"] }]
      healthCheck: { path: /healthz, interval: 100ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 1 }
`);
    const dir = tempDir('haproxy-health');
    renderTo(mesh, 'haproxy', dir);
    proxy = startProcess('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { cwd: dir });
    await waitForPort(port);
  });
  afterAll(async () => {
    await proxy?.stop();
    await good?.close();
    await bad?.close();
  });

  it('probes the health check path and sends nothing more to an endpoint that fails it', async () => {
    for (let i = 0; i < 50 && !bad.seen.some((s) => s.path === '/healthz'); i++)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 400));
    expect(bad.seen.some((s) => s.path === '/healthz' && s.method === 'GET')).toBe(true);
    const before = bad.seen.filter((s) => s.path !== '/healthz').length;
    for (let i = 0; i < 20; i++)
      expect((await request('127.0.0.1', port, `/work/${i}`)).json?.version).toBe('good');
    expect(bad.seen.filter((s) => s.path !== '/healthz').length).toBe(before);
  });
});
