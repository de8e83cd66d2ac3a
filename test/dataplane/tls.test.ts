import https from 'node:https';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { makeCa, makeLeaf, type Pem } from './certs.js';
import { boundPorts, cluster, ROUTER, startProxy, type Obj } from './helpers.js';

let ca: Awaited<ReturnType<typeof makeCa>>, otherCa: Awaited<ReturnType<typeof makeCa>>;
let server: Pem, web: Pem, stranger: Pem, rogue: Pem;
let backend: TestBackend;
const proxies: Proxy[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  ca = await makeCa('mesh-ca');
  otherCa = await makeCa('other-ca');
  server = await makeLeaf(ca, 'proxy', {
    dns: ['a.test', 'b.test', 'localhost'],
    ip: ['127.0.0.1'],
    uri: ['spiffe://test/ns/shop/sa/proxy'],
  });
  web = await makeLeaf(ca, 'web', { uri: ['spiffe://test/ns/shop/sa/web'] });
  stranger = await makeLeaf(ca, 'stranger', { uri: ['spiffe://other/ns/x/sa/y'] });
  rogue = await makeLeaf(otherCa, 'web', { uri: ['spiffe://test/ns/shop/sa/web'] });
  backend = await startBackend('b', 'v1');
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  closers.forEach((c) => c());
  await backend.close();
});

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const DTLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UTLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

function hcm(prefix: string, routes: Obj[], filters: Obj[] = []): Obj {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM,
      stat_prefix: prefix,
      route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes }] },
      http_filters: [...filters, ROUTER],
    },
  };
}
function downstream(opts: { require?: boolean; sans?: Obj[] } = {}): Obj {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': DTLS,
      require_client_certificate: opts.require ?? false,
      common_tls_context: {
        tls_certificates: [
          { certificate_chain: { inline_string: server.cert }, private_key: { inline_string: server.key } },
        ],
        validation_context: {
          trusted_ca: { inline_string: ca.cert },
          ...(opts.sans ? { match_typed_subject_alt_names: opts.sans } : {}),
        },
      },
    },
  };
}
async function tlsProxy(chains: Obj[], clusters: Obj[] = [cluster('b', [backend.port])]): Promise<number> {
  const p = await startProxy({
    static_resources: {
      listeners: [
        {
          name: 'tls',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          listener_filters: [
            {
              name: 'envoy.filters.listener.tls_inspector',
              typed_config: {
                '@type':
                  'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
              },
            },
          ],
          filter_chains: chains,
        },
      ],
      clusters,
    },
  });
  const port = boundPorts(p)[0]!;
  proxies.push(p);
  return port;
}

function get(
  port: number,
  opts: { client?: Pem; servername?: string; path?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/',
        ca: ca.cert,
        cert: opts.client?.cert,
        key: opts.client?.key,
        servername: opts.servername ?? 'localhost',
        agent: false,
        headers: { connection: 'close' },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('downstream TLS', () => {
  it('mTLS: accepts a client certificate from the trusted CA with a matching SPIFFE SAN, rejects the others', async () => {
    const port = await tlsProxy([
      {
        transport_socket: downstream({
          require: true,
          sans: [{ san_type: 'URI', matcher: { prefix: 'spiffe://test/ns/shop/' } }],
        }),
        filters: [hcm('mtls', [{ match: { prefix: '/' }, route: { cluster: 'b' } }])],
      },
    ]);
    const ok = await get(port, { client: web });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).headers['x-forwarded-proto']).toBe('https');
    await expect(get(port)).rejects.toThrow();
    await expect(get(port, { client: rogue })).rejects.toThrow();
    await expect(get(port, { client: stranger })).rejects.toThrow();
  });

  it('RBAC matches the authenticated principal (URI SAN)', async () => {
    const port = await tlsProxy([
      {
        transport_socket: downstream(),
        filters: [
          hcm(
            'rbac',
            [{ match: { prefix: '/' }, route: { cluster: 'b' } }],
            [
              {
                name: 'envoy.filters.http.rbac',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
                  rules: {
                    action: 'ALLOW',
                    policies: {
                      web: {
                        permissions: [{ any: true }],
                        principals: [
                          { authenticated: { principal_name: { exact: 'spiffe://test/ns/shop/sa/web' } } },
                        ],
                      },
                    },
                  },
                },
              },
            ],
          ),
        ],
      },
    ]);
    expect((await get(port, { client: web })).status).toBe(200);
    expect((await get(port, { client: stranger })).status).toBe(403);
    expect((await get(port)).status).toBe(403);
  });

  it('chooses the filter chain by SNI (server_names)', async () => {
    const direct = (body: string) => [
      { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } },
    ];
    const port = await tlsProxy([
      {
        filter_chain_match: { server_names: ['a.test'] },
        transport_socket: downstream(),
        filters: [hcm('a', direct('chain a'))],
      },
      {
        filter_chain_match: { server_names: ['*.test'] },
        transport_socket: downstream(),
        filters: [hcm('b', direct('chain wildcard'))],
      },
      { transport_socket: downstream(), filters: [hcm('c', direct('chain default'))] },
    ]);
    expect((await get(port, { servername: 'a.test' })).body).toBe('chain a');
    expect((await get(port, { servername: 'b.test' })).body).toBe('chain wildcard');
    expect((await get(port, { servername: 'localhost' })).body).toBe('chain default');
  });
});

describe('upstream TLS', () => {
  it('originates TLS with SNI and verifies the upstream against trusted_ca and SANs', async () => {
    let sni = '';
    const tlsBackend = https.createServer({ cert: server.cert, key: server.key }, (req, res) =>
      res.end('secure backend'),
    );
    tlsBackend.on('secureConnection', (s) => (sni = (s as unknown as { servername: string }).servername));
    await new Promise<void>((r) => tlsBackend.listen(0, '127.0.0.1', () => r()));
    closers.push(() => tlsBackend.close());
    const bport = (tlsBackend.address() as net.AddressInfo).port;
    const upstream = (caPem: string, sanExact: string) => ({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': UTLS,
        sni: 'b.test',
        common_tls_context: {
          validation_context: {
            trusted_ca: { inline_string: caPem },
            match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: sanExact } }],
          },
        },
      },
    });
    const p = await startProxy({
      static_resources: {
        listeners: [
          {
            name: 'plain',
            address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
            filter_chains: [
              {
                filters: [
                  hcm('up', [
                    { match: { prefix: '/good' }, route: { cluster: 'good' } },
                    { match: { prefix: '/badca' }, route: { cluster: 'badca' } },
                    { match: { prefix: '/badsan' }, route: { cluster: 'badsan' } },
                  ]),
                ],
              },
            ],
          },
        ],
        clusters: [
          cluster('good', [bport], { transport_socket: upstream(ca.cert, 'spiffe://test/ns/shop/sa/proxy') }),
          cluster('badca', [bport], {
            transport_socket: upstream(otherCa.cert, 'spiffe://test/ns/shop/sa/proxy'),
          }),
          cluster('badsan', [bport], { transport_socket: upstream(ca.cert, 'spiffe://test/ns/other/sa/x') }),
        ],
      },
    });
    const port = boundPorts(p)[0]!;
    proxies.push(p);
    const res = await fetch(`http://127.0.0.1:${port}/good`);
    expect([res.status, await res.text()]).toEqual([200, 'secure backend']);
    expect(sni).toBe('b.test');
    expect((await fetch(`http://127.0.0.1:${port}/badca`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/badsan`)).status).toBe(503);
  });
});
