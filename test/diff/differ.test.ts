import { describe, expect, it } from 'vitest';
import { diffMeshes } from '../../src/diff/differ.js';
import { describeChange } from '../../src/diff/describe.js';
import { backendSignature, buildTrafficTable, routeSignature } from '../../src/diff/traffic-table.js';
import type { ResolvedBackend, ResolvedRoute } from '../../src/model/types.js';
import { exampleMesh, meshFrom } from '../support/meshes.js';

/** A small mesh: web, checkout and payments; `extra` is appended to spec. */
function mesh({ routes = '', access = '', defaultAccess = 'allow' } = {}) {
  return meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  mtls: { mode: strict }
  defaultAccess: ${defaultAccess}
  backends:
    - { name: web, port: 8080, versions: [{ name: v1 }, { name: v2 }] }
    - { name: checkout, port: 8081, versions: [{ name: v1 }, { name: v2 }, { name: v3 }] }
    - { name: payments, port: 8082, versions: [{ name: v1 }] }
${routes ? `  routes:\n${routes}` : ''}
${access ? `  access:\n${access}` : ''}
`);
}

const split = (name: string, weights: [string, number][], match = '/') => `    - name: ${name}
      parent: { backend: checkout }
      match: [{ path: { prefix: ${match} } }]
      to:
${weights.map(([v, w]) => `        - { backend: checkout, version: ${v}, weight: ${w} }`).join('\n')}
`;

const lines = (a: Parameters<typeof diffMeshes>[0], b: Parameters<typeof diffMeshes>[1]) =>
  diffMeshes(a, b).map((c) => describeChange(c).line);

describe('traffic table', () => {
  it('lists each parent’s routes in first-match order with their distribution', () => {
    const table = buildTrafficTable(exampleMesh('shop'));
    const frontend = table.parents.get('frontend/public')!;
    expect(frontend.routes.map((r) => r.key)).toEqual(['storefront-beta', 'storefront']);
    expect(Object.fromEntries(frontend.routes[1]!.distribution)).toEqual({ 'web/v1': 90, 'web/v2': 10 });
    expect(frontend.routes[1]!.policies.timeout).toBe('15s');
    const catalog = table.parents.get('backend/catalog')!.routes[0]!;
    expect(catalog.matches).toEqual(['GET, path prefix /api/']);
    expect(catalog.policies.fault).toEqual({ delay: { duration: '500ms', percent: 1 } });
    // a backend without routes gets the implicit one: everything to all versions as one pool
    expect(
      table.parents.get('backend/payments')!.routes.map((r) => [r.key, Object.fromEntries(r.distribution)]),
    ).toEqual([['(implicit)', { payments: 100 }]]);
  });

  it('computes who may call whom from the access rules and the default', () => {
    const table = buildTrafficTable(exampleMesh('shop'));
    const payments = table.access.get('payments')!;
    expect(payments.others).toBeNull();
    expect(payments.named.get('checkout')).toEqual([{ methods: ['POST'], paths: ['/pay', '/refund/*'] }]);
    expect(table.access.get('web')).toMatchObject({ others: [{}], named: new Map() });
  });
});

describe('diffMeshes', () => {
  it('measures the share of a route’s traffic that lands somewhere else', () => {
    const [change] = diffMeshes(
      mesh({
        routes: split('canary', [
          ['v1', 90],
          ['v2', 10],
        ]),
      }),
      mesh({
        routes: split('canary', [
          ['v1', 50],
          ['v2', 50],
        ]),
      }),
    );
    expect(change).toEqual({
      kind: 'traffic-shifted',
      parent: 'backend/checkout',
      route: 'canary',
      shifted: 40,
      destinations: [
        { destination: 'checkout/v1', before: 90, after: 50 },
        { destination: 'checkout/v2', before: 10, after: 50 },
      ],
    });
    expect(describeChange(change!).line).toBe('route canary (backend checkout): 40% of its traffic moves');
  });

  it('counts traffic moved to a new version as shifted, even when the weights stay', () => {
    const [change] = diffMeshes(
      mesh({
        routes: split('canary', [
          ['v1', 70],
          ['v2', 30],
        ]),
      }),
      mesh({
        routes: split('canary', [
          ['v1', 70],
          ['v3', 30],
        ]),
      }),
    );
    expect(change).toMatchObject({ kind: 'traffic-shifted', shifted: 30 });
  });

  it('sees no change when only the order of a split’s destinations changes', () => {
    expect(
      diffMeshes(
        mesh({
          routes: split('canary', [
            ['v1', 70],
            ['v2', 30],
          ]),
        }),
        mesh({
          routes: split('canary', [
            ['v2', 30],
            ['v1', 70],
          ]),
        }),
      ),
    ).toEqual([]);
  });

  it('reports swapped routes of one parent as a change in behaviour', () => {
    const a = split('api', [['v1', 100]], '/api') + split('all', [['v2', 100]], '/');
    const b = split('all', [['v2', 100]], '/') + split('api', [['v1', 100]], '/api');
    expect(diffMeshes(mesh({ routes: a }), mesh({ routes: b }))).toEqual([
      {
        kind: 'route-order-changed',
        parent: 'backend/checkout',
        before: ['api', 'all'],
        after: ['all', 'api'],
      },
    ]);
  });

  it('reports a route inserted ahead of others by its position, not as a reorder', () => {
    const a = split('all', [['v2', 100]], '/');
    const b = split('api', [['v1', 100]], '/api') + a;
    const changes = diffMeshes(mesh({ routes: a }), mesh({ routes: b }));
    expect(changes).toEqual([
      {
        kind: 'route-added',
        parent: 'backend/checkout',
        route: 'api',
        position: 0,
        matches: ['path prefix /api'],
        to: { 'checkout/v1': 100 },
      },
    ]);
  });

  it('states gained and lost reachability as who may now or no longer call what', () => {
    const before = mesh({ access: '    - { backend: payments, allow: [{ from: [checkout] }] }\n' });
    const after = mesh({
      access: '    - { backend: payments, allow: [{ from: [web], methods: [POST], paths: [/pay] }] }\n',
    });
    expect(lines(before, after)).toEqual([
      'checkout may no longer call payments (was any request)',
      'web may now call payments (POST on /pay)',
    ]);
  });

  it('turns a change of defaultAccess into the reachability it changes', () => {
    const access = '    - { backend: payments, allow: [{ from: [checkout] }] }\n';
    expect(lines(mesh({ access }), mesh({ access, defaultAccess: 'deny' }))).toEqual([
      'mesh defaultAccess: allow -> deny',
      'any caller may no longer call checkout (was any request)',
      'any caller may no longer call web (was any request)',
    ]);
  });

  it('names the callers a wildcard change does not cover', () => {
    const before = mesh();
    const after = mesh({
      access: '    - { backend: web, allow: [{ from: ["*"], methods: [GET] }, { from: [checkout] }] }\n',
    });
    expect(lines(before, after)).toEqual(['any caller other than checkout may call web: any request -> GET']);
  });

  it('sees no change when access rules, from lists and methods are reordered', () => {
    const a =
      '    - { backend: payments, allow: [{ from: [checkout, web], methods: [POST, GET] }] }\n    - { backend: web, allow: [{ from: [checkout] }] }\n';
    const b =
      '    - { backend: web, allow: [{ from: [checkout] }] }\n    - { backend: payments, allow: [{ from: [web, checkout], methods: [GET, POST] }] }\n';
    expect(diffMeshes(mesh({ access: a }), mesh({ access: b }))).toEqual([]);
  });
});

describe('row signatures', () => {
  // the differ skips rows whose signatures agree: every detail the diff reports must change them
  const shop = exampleMesh('shop');
  const catalogApi = shop.routes.find((r) => r.name === 'catalog-api')!;
  const storefront = shop.routes.find((r) => r.name === 'storefront')!;
  const web = shop.backendsByName.get('web')!;
  const catalog = shop.backendsByName.get('catalog')!;

  it.each([
    ['timeout', { timeoutMs: 4000 }],
    ['retry attempts', { retries: { ...catalogApi.retries!, attempts: 1 } }],
    ['per-try timeout', { retries: { ...catalogApi.retries!, perTryTimeoutMs: 2 } }],
    ['retry conditions', { retries: { ...catalogApi.retries!, on: ['5xx'] } }],
    ['fault delay', { fault: { delay: { ms: 1, percent: 1 } } }],
    ['fault abort', { fault: { ...catalogApi.fault, abort: { status: 503, percent: 1 } } }],
    ['mirror percent', { mirror: { ...catalogApi.mirror!, percent: 6 } }],
    ['mirror version', { mirror: { ...catalogApi.mirror!, version: 'v1', versions: ['v1'] } }],
    ['rewrite prefix', { rewrite: { pathPrefix: '/v2/' } }],
    ['rewrite host', { rewrite: { pathPrefix: '/v1/', host: 'x' } }],
    ['request headers', { requestHeaders: { ...catalogApi.requestHeaders, add: [['a', 'b']] } }],
    ['response headers', { responseHeaders: { set: [], add: [], remove: ['server'] } }],
    ['match path', { matches: [{ ...catalogApi.matches[0]!, path: { kind: 'prefix', value: '/apx/' } }] }],
    ['match method', { matches: [{ ...catalogApi.matches[0]!, method: 'POST' }] }],
    [
      'match header',
      { matches: [{ ...catalogApi.matches[0]!, headers: [{ name: 'x', match: { kind: 'present' } }] }] },
    ],
    [
      'match query',
      {
        matches: [
          { ...catalogApi.matches[0]!, queryParams: [{ name: 'q', match: { kind: 'exact', value: '1' } }] },
        ],
      },
    ],
    [
      'weights',
      {
        to: [
          { ...catalogApi.to[0]!, weight: 79 },
          { ...catalogApi.to[1]!, weight: 21 },
        ],
      },
    ],
    ['destination version', { to: [catalogApi.to[0]!, { ...catalogApi.to[1]!, version: 'v3' }] }],
  ])('of a route change with its %s', (_, change) => {
    expect(routeSignature({ ...catalogApi, ...change } as ResolvedRoute)).not.toBe(
      routeSignature(catalogApi),
    );
  });

  it('of a route change with its hosts', () => {
    const moved = {
      ...storefront,
      parent: { kind: 'frontend', name: 'public', hosts: ['x.example.com'] },
    } as const;
    expect(routeSignature(moved)).not.toBe(routeSignature(storefront));
  });

  it.each([
    ['namespace', { namespace: 'other' }],
    ['service account', { serviceAccount: 'other' }],
    ['port', { port: 1 }],
    ['protocol', { protocol: 'grpc' }],
    ['load balancer', { loadBalancer: 'random' }],
    ['hash key', { loadBalancer: 'ring-hash', hashOn: { header: 'x' } }],
    ['health check', { healthCheck: { ...web.healthCheck!, path: '/ready' } }],
    ['outlier detection', { outlierDetection: { ...web.outlierDetection!, maxEjectionPercent: 10 } }],
    ['mTLS mode', { mtlsMode: 'permissive' }],
    ['version labels', { versions: [{ ...web.versions[0]!, labels: { version: 'x' } }, web.versions[1]!] }],
    [
      'endpoints',
      {
        versions: [{ ...web.versions[0]!, endpoints: web.versions[0]!.endpoints.slice(1) }, web.versions[1]!],
      },
    ],
    ['version names', { versions: [{ ...web.versions[0]!, name: 'v9' }, web.versions[1]!] }],
  ])('of a backend change with its %s', (_, change) => {
    expect(backendSignature({ ...web, ...change } as ResolvedBackend)).not.toBe(backendSignature(web));
  });

  it('of a backend change with its circuit breaker', () => {
    const cb = { ...catalog.circuitBreaker!, maxRetries: 4 };
    expect(backendSignature({ ...catalog, circuitBreaker: cb })).not.toBe(backendSignature(catalog));
  });
});
