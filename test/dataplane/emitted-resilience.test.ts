import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { meshFrom } from '../support/meshes.js';
import { waitFor } from '../support/processes.js';
import { request, startEmittedGateway } from './helpers.js';

/**
 * The resilience features of a mesh, rendered by the envoy target and run in meshgen proxy with
 * real backends: per-try timeouts, mirroring, outlier ejection and active health checks.
 */
let slow: TestBackend, primary: TestBackend, shadow: TestBackend;
let good: TestBackend, bad: TestBackend, hcGood: TestBackend, hcBad: TestBackend;
let proxy: Proxy;
let port: number;

beforeAll(async () => {
  [slow, primary, shadow, good, bad, hcGood, hcBad] = await Promise.all([
    startBackend('slow', 'v1'),
    startBackend('main', 'v1'),
    startBackend('main', 'v2'),
    startBackend('pool', 'good'),
    startBackend('pool', 'bad'),
    startBackend('checked', 'good'),
    startBackend('checked', 'bad'),
  ]);
  bad.behave({ status: 503 });
  hcBad.behave({ status: 503 }); // /healthz too
  const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  namespace: t
  mtls: { mode: disabled }
  backends:
    - name: slow
      port: 8080
      protocol: http
      versions: [{ name: v1, endpoints: ["${slow.address}"] }]
    - name: main
      port: 8081
      protocol: http
      versions:
        - { name: v1, endpoints: ["${primary.address}"] }
        - { name: v2, endpoints: ["${shadow.address}"] }
    - name: pool
      port: 8082
      protocol: http
      versions: [{ name: v1, endpoints: ["${good.address}", "${bad.address}"] }]
      outlierDetection: { consecutiveErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
    - name: checked
      port: 8083
      protocol: http
      versions: [{ name: v1, endpoints: ["${hcGood.address}", "${hcBad.address}"] }]
      healthCheck: { path: /healthz, interval: 1s, timeout: 500ms, healthyThreshold: 1, unhealthyThreshold: 1 }
  frontends:
    - name: edge
      address: 127.0.0.1
      port: 8000 # the proxy is moved to port 0
      protocol: http
  routes:
    - name: slow
      parent: { frontend: edge }
      match: [{ path: { prefix: /slow } }]
      to: [{ backend: slow }]
      timeout: 5s
      retries: { attempts: 1, perTryTimeout: 200ms, on: [5xx] }
    - name: mirrored
      parent: { frontend: edge }
      match: [{ path: { prefix: /main } }]
      to: [{ backend: main, version: v1 }]
      mirror: { backend: main, version: v2, percent: 100 }
    - name: pool
      parent: { frontend: edge }
      match: [{ path: { prefix: /pool } }]
      to: [{ backend: pool }]
    - name: checked
      parent: { frontend: edge }
      match: [{ path: { prefix: /checked } }]
      to: [{ backend: checked }]
`);
  proxy = await startEmittedGateway(mesh);
  port = proxy.listenerPort('edge')!;
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([slow, primary, shadow, good, bad, hcGood, hcBad].map((b) => b?.close()));
});

describe('resilience features of the emitted gateway in meshgen proxy', () => {
  it('per-try timeout: each try is cut at 200 ms and retried once, then 504', async () => {
    slow.behave({ delayMs: 2000 });
    const t0 = Date.now();
    const r = await request(port, '/slow/x');
    const took = Date.now() - t0;
    expect(r.status).toBe(504);
    expect(slow.seen.length).toBe(2);
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1500); // far below the 2 s the backend takes and the 5 s route timeout
  });

  it('mirrors every request to v2 with a -shadow host, answering from v1', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await request(port, '/main/m');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).version).toBe('v1');
    }
    await waitFor(() => shadow.seen.length >= 5, { what: 'the 5 mirrored requests to reach v2' });
    expect(shadow.seen.length).toBe(5);
    expect(shadow.seen.every((s) => /^127\.0\.0\.1-shadow(:\d+)?$/.test(String(s.headers.host)))).toBe(true);
  });

  it('ejects the endpoint that fails twice in a row and sends the rest to the other', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await request(port, '/pool/x')).status);
    // round robin: bad is tried until its second consecutive 503, then ejected for 30 s
    expect(bad.seen.length).toBe(2);
    expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    expect(statuses.slice(4).every((s) => s === 200)).toBe(true);
    expect(proxy.stats.get('cluster.edge|pool.outlier_detection.ejections_enforced_consecutive_5xx')).toBe(1);
  });

  it('active health checks keep traffic away from the endpoint failing /healthz', async () => {
    // the proxy has the result of a failed check (only hcBad fails) and counts one healthy host
    const stat = (name: string) => proxy.stats.get(`cluster.edge|checked.${name}`) ?? 0;
    await waitFor(() => stat('health_check.failure') >= 1 && stat('membership_healthy') === 1, {
      what: 'the health check to mark the endpoint failing /healthz down',
    });
    expect(hcBad.seen.some((s) => s.path === '/healthz')).toBe(true);
    hcGood.seen.length = 0;
    const before = hcBad.seen.filter((s) => s.path !== '/healthz').length;
    for (let i = 0; i < 10; i++) expect((await request(port, '/checked/x')).status).toBe(200);
    expect(hcBad.seen.filter((s) => s.path !== '/healthz').length).toBe(before);
    expect(hcGood.seen.filter((s) => s.path !== '/healthz').length).toBe(10);
  });
});
