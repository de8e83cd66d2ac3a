import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../src/dataplane/config/bootstrap.js';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import {
  cluster,
  envoyExample,
  boundPorts,
  closedPort,
  httpBootstrap,
  localize,
  request,
  startProxy,
  type Obj,
} from './helpers.js';

const CORS_FILTER = {
  name: 'envoy.filters.http.cors',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' },
};
const policy = (p: Obj) => ({
  'envoy.filters.http.cors': {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
    ...p,
  },
});
const SHOP = {
  allow_origin_string_match: [{ exact: 'https://shop.example' }, { suffix: '.trusted.example' }],
  allow_methods: 'GET, POST, PUT',
  allow_headers: 'content-type, x-token',
  expose_headers: 'x-total',
  max_age: '600',
  allow_credentials: true,
};

let backend: TestBackend;
const proxies: Proxy[] = [];
beforeAll(async () => {
  backend = await startBackend('api', 'v1');
});
afterAll(async () => {
  await backend.close();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  backend.reset();
});

async function proxy(vhost: Obj, filters: Obj[] = [CORS_FILTER]): Promise<{ port: number; p: Proxy }> {
  const p = await startProxy(
    httpBootstrap(0, [{ name: 'v', domains: ['*'], ...vhost }], [cluster('api', [backend.port])], {
      filters,
    }),
  );
  const port = boundPorts(p)[0]!;
  proxies.push(p);
  return { port, p };
}

const preflight = (origin: string, extra: Record<string, string> = {}) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'PUT', ...extra },
});

describe('CORS filter', () => {
  it('answers a matching preflight itself with the allow headers', async () => {
    const { port, p } = await proxy({
      routes: [{ match: { prefix: '/' }, route: { cluster: 'api' } }],
      typed_per_filter_config: policy(SHOP),
    });
    const r = await request(port, '/items', preflight('https://shop.example'));
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      'access-control-allow-origin': 'https://shop.example',
      'access-control-allow-methods': 'GET, POST, PUT',
      'access-control-allow-headers': 'content-type, x-token',
      'access-control-max-age': '600',
      'access-control-allow-credentials': 'true',
    });
    expect(backend.seen.length).toBe(0);
    const sub = await request(port, '/items', preflight('https://a.trusted.example'));
    expect(sub.headers['access-control-allow-origin']).toBe('https://a.trusted.example');
    expect(backend.seen.length).toBe(0);
    expect(p.stats.get('http.ingress.cors.origin_valid')).toBe(2);
  });

  it('forwards a preflight from an origin that does not match (Envoy continues the chain)', async () => {
    const { port, p } = await proxy({
      routes: [{ match: { prefix: '/' }, route: { cluster: 'api' } }],
      typed_per_filter_config: policy(SHOP),
    });
    const r = await request(port, '/items', preflight('https://evil.example'));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).method).toBe('OPTIONS');
    expect(backend.seen.length).toBe(1);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(p.stats.get('http.ingress.cors.origin_invalid')).toBe(1);
  });

  it('answers a non-matching preflight without allow-origin when forward_not_matching_preflights is false', async () => {
    const { port } = await proxy({
      routes: [{ match: { prefix: '/' }, route: { cluster: 'api' } }],
      typed_per_filter_config: policy({ ...SHOP, forward_not_matching_preflights: false }),
    });
    const r = await request(port, '/items', preflight('https://evil.example'));
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['access-control-allow-methods']).toBe('GET, POST, PUT');
    expect(backend.seen.length).toBe(0);
  });

  it('adds allow-origin, expose-headers and allow-credentials to a simple request from an allowed origin', async () => {
    backend.behave({ headers: { 'access-control-allow-origin': '*', 'x-total': '3' } });
    const { port } = await proxy({
      routes: [{ match: { prefix: '/' }, route: { cluster: 'api' } }],
      typed_per_filter_config: policy(SHOP),
    });
    const r = await request(port, '/items', { headers: { origin: 'https://shop.example' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).headers.origin).toBe('https://shop.example');
    // the upstream's own value is replaced, as Envoy's setInline does
    expect(r.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(r.headers['access-control-expose-headers']).toBe('x-total');
    expect(r.headers['access-control-allow-credentials']).toBe('true');
    const other = await request(port, '/items', { headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBe('*');
    expect(other.headers['access-control-expose-headers']).toBeUndefined();
    const none = await request(port, '/items');
    expect(none.headers['access-control-expose-headers']).toBeUndefined();
  });

  it("the proxy's own replies to a CORS request get the headers too (Envoy's encoder filters see local replies)", async () => {
    const dead = await closedPort();
    const p = await startProxy(
      httpBootstrap(
        0,
        [
          {
            name: 'v',
            domains: ['*'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'dead' } }],
            typed_per_filter_config: policy(SHOP),
          },
        ],
        [cluster('dead', [dead])],
        { filters: [CORS_FILTER] },
      ),
    );
    const port = boundPorts(p)[0]!;
    proxies.push(p);
    const r = await request(port, '/x', { headers: { origin: 'https://shop.example' } });
    expect(r.status).toBe(503);
    expect(r.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(r.headers['access-control-expose-headers']).toBe('x-total');
  });

  it('the route policy wins field by field over the virtual host one; "*" methods echo the request', async () => {
    const { port } = await proxy({
      typed_per_filter_config: policy(SHOP),
      routes: [
        {
          match: { prefix: '/open' },
          route: { cluster: 'api' },
          typed_per_filter_config: policy({
            allow_origin_string_match: [{ exact: '*' }],
            allow_methods: '*',
          }),
        },
        { match: { prefix: '/' }, route: { cluster: 'api' } },
      ],
    });
    const r = await request(port, '/open/x', preflight('https://anyone.example'));
    expect(r.headers['access-control-allow-origin']).toBe('https://anyone.example');
    expect(r.headers['access-control-allow-methods']).toBe('PUT');
    // from the virtual host's policy
    expect(r.headers['access-control-allow-headers']).toBe('content-type, x-token');
    expect(r.headers['access-control-max-age']).toBe('600');
    const shop = await request(port, '/x', preflight('https://anyone.example'));
    expect(shop.headers['access-control-allow-origin']).toBeUndefined();
    expect(backend.seen.length).toBe(1);
  });

  it('the deprecated cors field works without a per-filter policy; filter_enabled 0 turns it off', async () => {
    const { port } = await proxy({
      cors: SHOP,
      routes: [
        {
          match: { prefix: '/off' },
          route: { cluster: 'api', cors: { filter_enabled: { default_value: { numerator: 0 } } } },
        },
        { match: { prefix: '/' }, route: { cluster: 'api' } },
      ],
    });
    const r = await request(port, '/x', preflight('https://shop.example'));
    expect(r.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(backend.seen.length).toBe(0);
    const off = await request(port, '/off', preflight('https://shop.example'));
    expect(JSON.parse(off.body).method).toBe('OPTIONS');
    expect(off.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('shadow_enabled counts origins without acting', async () => {
    const { port, p } = await proxy({
      routes: [{ match: { prefix: '/' }, route: { cluster: 'api' } }],
      typed_per_filter_config: policy({
        ...SHOP,
        filter_enabled: { default_value: { numerator: 0 } },
        shadow_enabled: { default_value: { numerator: 100 } },
      }),
    });
    const r = await request(port, '/x', preflight('https://shop.example'));
    expect(JSON.parse(r.body).method).toBe('OPTIONS');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(p.stats.get('http.ingress.cors.origin_valid')).toBe(1);
  });

  it('without the cors filter in http_filters a policy has no effect', async () => {
    const { port } = await proxy(
      {
        routes: [{ match: { prefix: '/' }, route: { cluster: 'api' } }],
        typed_per_filter_config: policy(SHOP),
      },
      [],
    );
    const r = await request(port, '/x', preflight('https://shop.example'));
    expect(JSON.parse(r.body).method).toBe('OPTIONS');
  });

  it('refuses CorsPolicy fields it does not implement, naming them', () => {
    const boot = httpBootstrap(
      1,
      [
        {
          name: 'v',
          domains: ['*'],
          routes: [],
          typed_per_filter_config: policy({ allow_private_network_access: true }),
        },
      ],
      [cluster('api', [2])],
      { filters: [CORS_FILTER] },
    );
    const r = convertBootstrap(boot);
    expect(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n')).toMatch(
      /typed_per_filter_config\/envoy\.filters\.http\.cors\/allow_private_network_access: field allow_private_network_access .* not implemented by meshgen proxy/,
    );
  });

  it('refuses other per-filter configurations on a virtual host', () => {
    const boot = httpBootstrap(
      1,
      [
        {
          name: 'v',
          domains: ['*'],
          routes: [],
          typed_per_filter_config: {
            'envoy.filters.http.fault': {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
              abort: { http_status: 503, percentage: { numerator: 100 } },
            },
          },
        },
      ],
      [cluster('api', [2])],
    );
    const r = convertBootstrap(boot);
    expect(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n')).toMatch(
      /virtual_hosts\/0\/typed_per_filter_config\/envoy\.filters\.http\.fault: .*only for CORS/,
    );
  });

  it("Envoy's cors frontend example runs (the filter without policies changes nothing)", async () => {
    const { boot } = localize(envoyExample('cors_frontend_envoy.yaml'), backend.port);
    boot.static_resources.clusters[0].type = 'STATIC';
    delete boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log;
    const p = await startProxy(boot);
    proxies.push(p);
    const [port] = boundPorts(p);
    const r = await request(port!, '/', preflight('https://shop.example'));
    expect(JSON.parse(r.body).method).toBe('OPTIONS');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});
