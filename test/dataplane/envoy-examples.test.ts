import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBootstrap } from '../../src/dataplane/config/bootstrap.js';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { boundPorts, envoyExample, localize, raw, request, startProxy } from './helpers.js';
import { waitFor } from '../support/processes.js';

let backend: TestBackend;
const proxies: Proxy[] = [];
beforeAll(async () => {
  backend = await startBackend('service', 'v1');
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await backend.close();
});

describe('Envoy examples the proxy implements run with traffic', () => {
  it('front-proxy/service-envoy.yaml: prefix route to a STRICT_DNS cluster, admin', async () => {
    const { boot } = localize(envoyExample('front-proxy_service-envoy.yaml'), backend.port);
    const p = await startProxy(boot);
    const ports = boundPorts(p);
    proxies.push(p);
    const r = await request(ports[0]!, '/service/1/x');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).path).toBe('/service/1/x');
    expect((await request(ports[0]!, '/other')).status).toBe(404);
    expect((await request(p.adminPort!, '/ready')).body).toBe('LIVE\n');
  });

  it('csrf/crosssite/envoy.yaml: catch-all route with a stdout access log', async () => {
    const { boot } = localize(envoyExample('csrf_crosssite_envoy.yaml'), backend.port);
    const p = await startProxy(boot);
    const ports = boundPorts(p);
    proxies.push(p);
    expect((await request(ports[0]!, '/anything')).status).toBe(200);
  });

  it('tls/envoy-https-passthrough.yaml: tcp_proxy passes bytes through', async () => {
    const { boot } = localize(envoyExample('tls_envoy-https-passthrough.yaml'), backend.port);
    const p = await startProxy(boot);
    const ports = boundPorts(p);
    proxies.push(p);
    const out = await raw(ports[0]!, 'GET /through-tcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(out).toContain('"path":"/through-tcp"');
    expect(p.stats.get('tcp.https_passthrough.downstream_cx_total')).toBe(1);
  });
});

it('tls/envoy-https-http.yaml: terminates TLS with its inline certificate', async () => {
  const { boot } = localize(envoyExample('tls_envoy-https-http.yaml'), backend.port);
  const p = await startProxy(boot);
  const ports = boundPorts(p);
  proxies.push(p);
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: ports[0], path: '/tls', rejectUnauthorized: false, agent: false },
      (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).headers['x-forwarded-proto']).toBe('https');
});

it('tls-inspector/envoy.yaml: the ClientHello ALPN (or plaintext) chooses the tcp_proxy chain', async () => {
  // one TCP server per TLS cluster records that it was reached; the plaintext cluster is the test backend
  const reached: Record<string, number> = {};
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const portOf: Record<string, number> = { 'service-http': backend.port };
  for (const name of ['service-https0', 'service-https1']) {
    const server = net.createServer((s) => {
      sockets.add(s);
      s.once('data', (d) => (reached[name] = d[0]!)); // the first byte: 0x16, a TLS record
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    portOf[name] = (server.address() as net.AddressInfo).port;
  }
  try {
    const { boot } = localize(envoyExample('tls-inspector_envoy.yaml'), backend.port);
    for (const c of boot.static_resources.clusters)
      c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value =
        portOf[c.name];
    const p = await startProxy(boot);
    const ports = boundPorts(p);
    proxies.push(p);
    // waits for the chosen server to get the ClientHello, or (no chain) for the proxy to close
    const hello = async (alpn: string[] | undefined, reaches?: string) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: ports[0]!,
        servername: 'example.com',
        ALPNProtocols: alpn,
      });
      s.on('error', () => {});
      if (reaches)
        await waitFor(() => reached[reaches] !== undefined, { what: `the ClientHello at ${reaches}` });
      else await new Promise((r) => s.once('close', r));
      s.destroy();
    };
    await hello(['h2'], 'service-https1');
    expect(reached).toEqual({ 'service-https1': 0x16 });
    await hello(['http/1.1'], 'service-https0');
    expect(reached).toEqual({ 'service-https1': 0x16, 'service-https0': 0x16 });
    // plaintext takes the chain without criteria
    const out = await raw(ports[0]!, 'GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(out).toContain('"path":"/plain"');
    // TLS without ALPN: the tls branch has no chain for it, and Envoy does not fall back
    const before = p.stats.get(`listener.127.0.0.1:${ports[0]}.no_filter_chain_match`);
    await hello(undefined);
    expect(p.stats.get(`listener.127.0.0.1:${ports[0]}.no_filter_chain_match`)).toBe(before + 1);
    expect(Object.keys(reached)).toHaveLength(2);
  } finally {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
});

describe('Envoy examples using what the proxy does not implement are rejected, naming the field', () => {
  it.each([
    [
      'route-mirror_envoy.yaml',
      '/route_config/virtual_hosts/0/routes/1/route/request_mirror_policies/0/cluster_header',
      'cluster_header',
    ],
    [
      'rbac_envoy.yaml',
      '/http_filters/0/typed_config/matcher',
      'field matcher of envoy.extensions.filters.http.rbac.v3.RBAC',
    ],
    [
      'fault-injection_envoy.yaml',
      '/layered_runtime',
      'field layered_runtime of envoy.config.bootstrap.v3.Bootstrap',
    ],
    ['udp_envoy.yaml', '/address/socket_address/protocol', 'protocol UDP'],
  ])('%s', (file, pathEnd, message) => {
    const r = parseBootstrap(envoyExample(file), file);
    expect(r.config).toBeUndefined();
    expect(
      r.errors.some(
        (e) =>
          e.path.endsWith(pathEnd) &&
          e.message.includes(message) &&
          e.message.includes('not implemented by meshgen proxy'),
      ),
    ).toBe(true);
  });
});
