import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import { HTTP_FILTERS } from '../../../src/dataplane/filters/registry.js';
import type { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { cluster, httpBootstrap, request, startProxy, type Obj } from '../helpers.js';

/**
 * The HTTP filter registry: one table by @type drives conversion, the "not implemented" check and
 * the chain at run time. Each registered filter has a case here (a filter added without one fails
 * the first test): its typed_config, a route that configures it, and what a request shows of it.
 */

const T = 'type.googleapis.com/';
const HTTP_FILTERS_PATH = '/static_resources/listeners/0/filter_chains/0/filters/0/typed_config/http_filters';

interface Case {
  /** The filter's typed_config (its @type added), or undefined for the router (always last). */
  config?: Obj;
  /** Extra fields of the one route. */
  route?: Obj;
  request: { method?: string; headers?: Record<string, string> };
  /** What the response shows of the filter, and the stat it counted (if any). */
  status: number;
  header?: [string, string];
  stat?: string;
}

const CASES: Record<string, Case> = {
  'envoy.extensions.filters.http.router.v3.Router': { request: {}, status: 200 },
  'envoy.extensions.filters.http.fault.v3.HTTPFault': {
    config: { abort: { http_status: 418, percentage: { numerator: 100 } } },
    request: {},
    status: 418,
    stat: 'http.ingress.fault.aborts_injected',
  },
  'envoy.extensions.filters.http.cors.v3.Cors': {
    config: {},
    route: {
      typed_per_filter_config: {
        'envoy.filters.http.cors': {
          '@type': `${T}envoy.extensions.filters.http.cors.v3.CorsPolicy`,
          allow_origin_string_match: [{ exact: 'https://shop.example' }],
          allow_methods: 'GET',
        },
      },
    },
    request: {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET' },
    },
    status: 200,
    header: ['access-control-allow-origin', 'https://shop.example'],
    stat: 'http.ingress.cors.origin_valid',
  },
  'envoy.extensions.filters.http.rbac.v3.RBAC': {
    config: {
      rules: {
        action: 'DENY',
        policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } },
      },
    },
    request: {},
    status: 403,
    stat: 'http.ingress.rbac.denied',
  },
};

function bootstrap(port: number, type: string, c: Case): Obj {
  const filters = c.config ? [{ name: type, typed_config: { '@type': `${T}${type}`, ...c.config } }] : [];
  const route = { match: { prefix: '/' }, route: { cluster: 'b' }, ...(c.route ?? {}) };
  return httpBootstrap(0, [{ name: 'v', domains: ['*'], routes: [route] }], [cluster('b', [port])], {
    filters,
  });
}

let backend: TestBackend;
let proxy: Proxy | undefined;
beforeAll(async () => {
  backend = await startBackend('b', 'v1');
});
afterAll(() => backend.close());
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

describe('HTTP filter registry', () => {
  it('has a case here for every registered filter, and each lists its own message', () => {
    expect([...HTTP_FILTERS.keys()].sort()).toEqual(Object.keys(CASES).sort());
    for (const [type, def] of HTTP_FILTERS) expect(def.supported[type]).toBeDefined();
  });

  it('refuses an HTTP filter @type it does not hold, with its path', () => {
    const b = bootstrap(1, 'envoy.extensions.filters.http.buffer.v3.Buffer', {
      config: { max_request_bytes: 1024 },
      request: {},
      status: 0,
    });
    const r = convertBootstrap(b);
    expect(r.config).toBeUndefined();
    expect(r.errors).toContainEqual({
      path: `${HTTP_FILTERS_PATH}/0/typed_config/@type`,
      message: 'envoy.extensions.filters.http.buffer.v3.Buffer is not implemented by meshgen proxy',
    });
  });

  it('refuses a field a registered filter does not implement, with its path', () => {
    const b = bootstrap(1, 'envoy.extensions.filters.http.fault.v3.HTTPFault', {
      config: { max_active_faults: 3 },
      request: {},
      status: 0,
    });
    const r = convertBootstrap(b);
    expect(r.errors).toContainEqual({
      path: `${HTTP_FILTERS_PATH}/0/typed_config/max_active_faults`,
      message: expect.stringMatching(/field max_active_faults of .*HTTPFault is not implemented/),
    });
  });

  for (const [type, c] of Object.entries(CASES))
    it(`${type.split('.').at(-1)}: converts and runs in the chain`, async () => {
      const r = convertBootstrap(bootstrap(backend.port, type, c));
      expect(r.errors).toEqual([]);
      const chain = r.config!.listeners[0]!.chains[0]!.network;
      expect(chain.kind === 'http' && chain.hcm.filters.map((f) => f.type)).toEqual(
        c.config ? [type, 'envoy.extensions.filters.http.router.v3.Router'] : [type],
      );
      proxy = await startProxy(bootstrap(backend.port, type, c));
      const res = await request(proxy.listenerPort('http')!, '/x', c.request);
      expect(res.status).toBe(c.status);
      if (c.header) expect(res.headers[c.header[0]]).toBe(c.header[1]);
      if (c.stat) expect(proxy.stats.get(c.stat)).toBe(1);
    });
});
