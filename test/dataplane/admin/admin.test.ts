import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { redactBootstrap } from '../../../src/dataplane/admin/redact.js';
import { makeCa, makeLeaf } from '../certs.js';
import { cluster, httpBootstrap, request, startProxy, type Obj } from '../helpers.js';

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

describe('admin /config_dump', () => {
  it('prints private keys as [redacted], as Envoy does for the fields its protos mark sensitive', async () => {
    const ca = await makeCa('dump-ca');
    const leaf = await makeLeaf(ca, 'proxy', { dns: ['proxy'] });
    const boot = httpBootstrap(
      0,
      [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] }],
      [cluster('b', [backend.port])],
      { admin: 0 },
    );
    const certificate = (key: Obj) => ({ certificate_chain: { inline_string: leaf.cert }, ...key });
    boot.static_resources.listeners[0].filter_chains[0].transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        common_tls_context: { tls_certificates: [certificate({ private_key: { inline_string: leaf.key } })] },
      },
    };
    const keyBytes = Buffer.from(leaf.key).toString('base64');
    // camelCase, as a bootstrap may be written: the same fields, by their JSON names
    boot.static_resources.clusters[0].transportSocket = {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        commonTlsContext: {
          tlsCertificates: [
            { certificateChain: { inlineString: leaf.cert }, privateKey: { inlineBytes: keyBytes } },
          ],
        },
      },
    };
    const p = await startProxy(boot);
    proxies.push(p);
    const text = (await request(p.adminPort!, '/config_dump')).body;
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(keyBytes.slice(0, 40));
    const dumped = JSON.parse(text).configs[0].bootstrap.static_resources;
    expect(dumped.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context).toEqual({
      tls_certificates: [
        { certificate_chain: { inline_string: leaf.cert }, private_key: { inline_string: '[redacted]' } },
      ],
    });
    // bytes print as base64: Envoy's "[redacted]" bytes
    expect(
      dumped.clusters[0].transportSocket.typedConfig.commonTlsContext.tlsCertificates[0].privateKey,
    ).toEqual({
      inlineBytes: Buffer.from('[redacted]').toString('base64'),
    });
    // the running configuration keeps its keys
    expect(JSON.stringify(p.config.raw)).toContain(keyBytes);
  });

  it('redacts everything inside a sensitive field (the name of a key file too), and nothing else', () => {
    const tls = {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      common_tls_context: {
        tls_certificates: [
          {
            certificate_chain: { filename: '/etc/certs/chain.pem' },
            private_key: { filename: '/etc/certs/key.pem' },
            password: { inline_string: 'hunter2' },
          },
        ],
      },
      session_ticket_keys: { keys: [{ inline_bytes: 'c2VjcmV0' }] },
    };
    const chain = { filter_chains: [{ transport_socket: { name: 'tls', typed_config: tls } }] };
    const out = redactBootstrap({ static_resources: { listeners: [chain] } }) as Obj;
    expect(out.static_resources.listeners[0].filter_chains[0].transport_socket.typed_config).toEqual({
      '@type': tls['@type'],
      common_tls_context: {
        tls_certificates: [
          {
            certificate_chain: { filename: '/etc/certs/chain.pem' },
            private_key: { filename: '[redacted]' },
            password: { inline_string: '[redacted]' },
          },
        ],
      },
      session_ticket_keys: { keys: [{ inline_bytes: Buffer.from('[redacted]').toString('base64') }] },
    });
    expect(tls.common_tls_context.tls_certificates[0]!.password.inline_string).toBe('hunter2');
  });
});
