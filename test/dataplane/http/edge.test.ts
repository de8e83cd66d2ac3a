import http2 from 'node:http2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type EchoReply, type TestBackend } from '../../support/backends.js';
import { cluster, httpBootstrap, request, startProxy, type Obj } from '../helpers.js';

/**
 * Envoy's request header sanitizing (ConnectionManagerUtility::mutateRequestHeaders): what a client
 * may not set reaches neither the filters nor the upstream.
 */

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

async function proxy(hcm: Obj, filters: Obj[] = []): Promise<number> {
  const routes = [{ match: { prefix: '/' }, route: { cluster: 'b' } }];
  const p = await startProxy(
    httpBootstrap(0, [{ name: 'v', domains: ['*'], routes }], [cluster('b', [backend.port])], {
      hcm,
      filters,
    }),
  );
  proxies.push(p);
  return p.listenerPort('http')!;
}

/** Headers a client sends to steer or fool the proxy and what is behind it. */
const FORGED: Record<string, string> = {
  'x-envoy-internal': 'true',
  'x-envoy-original-path': '/admin/secret',
  'x-envoy-retry-on': '5xx',
  'x-envoy-retry-grpc-on': 'cancelled',
  'x-envoy-max-retries': '100',
  'x-envoy-upstream-rq-timeout-ms': '1',
  'x-envoy-upstream-rq-per-try-timeout-ms': '1',
  'x-envoy-expected-rq-timeout-ms': '999999',
  'x-envoy-force-trace': 'true',
  'x-envoy-ip-tags': 'internal',
  'x-envoy-hedge-on-per-try-timeout': 'true',
  'x-envoy-decorator-operation': 'op',
  'x-envoy-downstream-service-cluster': 'trusted',
  'x-envoy-external-address': '10.0.0.1',
  'x-request-id': 'chosen-by-client',
  'x-forwarded-proto': 'https',
};

async function seen(port: number, headers: Record<string, string> = FORGED): Promise<EchoReply['headers']> {
  const r = await request(port, '/', { headers });
  expect(r.status).toBe(200);
  return (JSON.parse(r.body) as EchoReply).headers;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('an edge connection manager (use_remote_address: true)', () => {
  it("drops the client's x-envoy-* headers, sets x-forwarded-proto from the connection and x-envoy-external-address", async () => {
    const h = await seen(await proxy({ use_remote_address: true }));
    for (const name of Object.keys(FORGED))
      if (
        ![
          'x-envoy-expected-rq-timeout-ms',
          'x-request-id',
          'x-forwarded-proto',
          'x-envoy-external-address',
        ].includes(name)
      )
        expect(h[name], name).toBeUndefined();
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-envoy-external-address']).toBe('127.0.0.1');
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    // the proxy's own value (the route timeout), not the client's
    expect(h['x-envoy-expected-rq-timeout-ms']).toBe('15000');
  });

  it('generates x-request-id anew, unless preserve_external_request_id (or generate_request_id: false)', async () => {
    const fresh = await seen(await proxy({ use_remote_address: true }));
    expect(fresh['x-request-id']).toMatch(UUID);
    const kept = await seen(await proxy({ use_remote_address: true, preserve_external_request_id: true }));
    expect(kept['x-request-id']).toBe('chosen-by-client');
    const notGenerated = await seen(await proxy({ use_remote_address: true, generate_request_id: false }));
    expect(notGenerated['x-request-id']).toBe('chosen-by-client');
    const none = await seen(
      await proxy({ use_remote_address: true, preserve_external_request_id: true }),
      {},
    );
    expect(none['x-request-id']).toMatch(UUID);
  });

  it('sanitizes before the filters: an RBAC rule on x-envoy-internal cannot be met by a client', async () => {
    const rbac = {
      name: 'envoy.filters.http.rbac',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
        rules: {
          action: 'ALLOW',
          policies: {
            internal: {
              permissions: [{ any: true }],
              principals: [{ header: { name: 'x-envoy-internal', string_match: { exact: 'true' } } }],
            },
          },
        },
      },
    };
    const port = await proxy({ use_remote_address: true }, [rbac]);
    expect((await request(port, '/', { headers: { 'x-envoy-internal': 'true' } })).status).toBe(403);
    expect(backend.seen).toHaveLength(0);
  });

  it('does the same for HTTP/2 streams', async () => {
    const port = await proxy({ use_remote_address: true });
    const client = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const st = client.request({ ':path': '/', ...FORGED });
        let data = '';
        st.setEncoding('utf8');
        st.on('data', (d: string) => (data += d));
        st.on('end', () => resolve(data));
        st.on('error', reject);
      });
      const h = (JSON.parse(body) as EchoReply).headers;
      expect(h['x-envoy-internal']).toBeUndefined();
      expect(h['x-envoy-original-path']).toBeUndefined();
      expect(h['x-forwarded-proto']).toBe('http');
      expect(h['x-request-id']).toMatch(UUID);
    } finally {
      client.close();
    }
  });
});

describe('a connection manager that does not face clients (no use_remote_address)', () => {
  it('drops the x-envoy-* headers that steer the proxy, and keeps the edge ones and the request id', async () => {
    const h = await seen(await proxy({}));
    expect(h['x-envoy-internal']).toBeUndefined();
    expect(h['x-envoy-retry-on']).toBeUndefined();
    expect(h['x-envoy-upstream-rq-timeout-ms']).toBeUndefined();
    expect(h['x-envoy-expected-rq-timeout-ms']).toBe('15000');
    expect(h['x-envoy-original-path']).toBe('/admin/secret');
    expect(h['x-request-id']).toBe('chosen-by-client');
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-envoy-external-address']).toBe('10.0.0.1');
  });
});
