import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/proxy.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { cluster, httpBootstrap, request, startProxy } from './helpers.js';

let backend: TestBackend;
const proxies: Proxy[] = [];

beforeAll(async () => {
  backend = await startBackend('b', 'v1');
});
afterAll(async () => {
  await backend.close();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  backend.reset();
});

/** A proxy routing everything to the backend, with its admin endpoint; both on ports the OS picked. */
async function proxy(): Promise<{ port: number; admin: number }> {
  const p = await startProxy(
    httpBootstrap(
      0,
      [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] }],
      [cluster('b', [backend.port])],
      { admin: 0 },
    ),
  );
  proxies.push(p);
  return { port: p.listenerPort('http')!, admin: p.adminPort! };
}

describe('admin /stats?filter=', () => {
  it('keeps the stats whose name the RE2 regex matches anywhere, in every format', async () => {
    const { port, admin } = await proxy();
    await request(port, '/');
    const text = (await request(admin, '/stats?filter=upstream_rq_2')).body;
    expect(text).toBe('cluster.b.upstream_rq_200: 1\ncluster.b.upstream_rq_2xx: 1\n');
    const json = JSON.parse((await request(admin, '/stats?format=json&filter=rq_2xx$')).body);
    expect(json.stats.map((s: { name: string }) => s.name)).toEqual([
      'cluster.b.upstream_rq_2xx',
      'http.ingress.downstream_rq_2xx',
    ]);
    const prom = (await request(admin, '/stats/prometheus?filter=^cluster\\.b\\.upstream_rq_total$')).body;
    expect(prom).toBe(
      '# TYPE envoy_cluster_upstream_rq_total counter\nenvoy_cluster_upstream_rq_total{envoy_cluster_name="b"} 1\n',
    );
  });

  it('answers 400 naming the error for a regex RE2 cannot parse, and keeps serving', async () => {
    const { port, admin } = await proxy();
    const r = await request(admin, `/stats?filter=${encodeURIComponent('(')}`);
    expect(r.status).toBe(400);
    expect(r.body).toBe('Invalid re2 regex: error parsing regexp: missing closing ): `(`\n');
    const look = await request(admin, `/stats?filter=${encodeURIComponent('(?=cluster)')}`);
    expect(look.status).toBe(400);
    expect(look.body).toContain('has no lookahead, lookbehind or backreferences');
    expect((await request(port, '/')).status).toBe(200);
    expect((await request(admin, '/ready')).status).toBe(200);
  });
});
