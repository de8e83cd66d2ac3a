import { describe, expect, it } from 'vitest';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { FULL_MESH } from './fixtures.js';
import { emitObjects, mesh } from './helpers.js';

let cached: ReturnType<typeof emitObjects> | undefined;
const full = () => (cached ??= emitObjects(meshFrom(FULL_MESH)));
const httpRoute = (vsName: string, route: string, ns = 'shop') => {
  const vs = full().find('VirtualService', vsName, ns);
  const r = vs.spec.http.find((x: { name: string }) => x.name === route);
  if (!r) throw new Error(`no route ${route}`);
  return r;
};

describe('istio VirtualService for a backend (east-west)', () => {
  it('serves the backend FQDN to the mesh, routes in first-match order', () => {
    const vs = full().find('VirtualService', 'reviews');
    expect(vs.spec.hosts).toEqual(['reviews.shop.svc.cluster.local']);
    expect(vs.spec.gateways).toEqual(['mesh']);
    expect(vs.spec.http.map((r: { name: string }) => r.name)).toEqual([
      'reviews-jason',
      'reviews-canary',
      'reviews-rest',
    ]);
  });

  it('puts a 90/10 split on the right subsets with weights 90 and 10', () => {
    expect(httpRoute('reviews', 'reviews-canary').route).toEqual([
      {
        destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1', port: { number: 9080 } },
        weight: 90,
      },
      {
        destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v3', port: { number: 9080 } },
        weight: 10,
      },
    ]);
  });

  it('sends a to entry without version to a destination without subset', () => {
    const [all, v2] = httpRoute('reviews', 'reviews-rest').route;
    expect(all).toEqual({
      destination: { host: 'reviews.shop.svc.cluster.local', port: { number: 9080 } },
      weight: 70,
    });
    expect(v2.destination.subset).toBe('v2');
    expect(v2.weight).toBe(30);
  });

  it('writes no weight for a single destination', () => {
    expect(httpRoute('reviews', 'reviews-jason').route).toEqual([
      { destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v2', port: { number: 9080 } } },
    ]);
  });

  it('keeps attempts: 3, the per-try timeout and maps every retry condition', () => {
    expect(httpRoute('reviews', 'reviews-jason').retries).toEqual({
      attempts: 3,
      perTryTimeout: '0.25s',
      retryOn: '5xx,gateway-error,connect-failure,reset,retriable-4xx,503',
    });
  });

  it('says attempts: 0 on a route without retries, because Istio retries twice by default', () => {
    expect(httpRoute('reviews', 'reviews-canary').retries).toEqual({ attempts: 0 });
    // the implicit route of a backend without routes too
    expect(full().find('VirtualService', 'sticky').spec.http).toEqual([
      {
        name: 'sticky',
        route: [{ destination: { host: 'sticky.shop.svc.cluster.local', port: { number: 8001 } } }],
        retries: { attempts: 0 },
      },
    ]);
  });

  it('keeps the timeout, and leaves it out when there is none', () => {
    expect(httpRoute('reviews', 'reviews-jason').timeout).toBe('2s');
    expect(httpRoute('reviews', 'reviews-canary').timeout).toBeUndefined();
    expect(
      emitObjects(exampleMesh('tcp')).find('VirtualService', 'api').spec.http[0].timeout,
    ).toBeUndefined();
  });

  it('renders the fault delay and abort with their percentages', () => {
    expect(httpRoute('reviews', 'reviews-rest').fault).toEqual({
      delay: { fixedDelay: '2s', percentage: { value: 5 } },
      abort: { httpStatus: 503, percentage: { value: 1.5 } },
    });
  });

  it('mirrors to the subset with mirrorPercentage', () => {
    const r = httpRoute('reviews', 'reviews-canary');
    expect(r.mirror).toEqual({
      host: 'reviews.shop.svc.cluster.local',
      subset: 'v2',
      port: { number: 9080 },
    });
    expect(r.mirrorPercentage).toEqual({ value: 12.5 });
  });

  it('rewrites the matched prefix and the authority', () => {
    const r = httpRoute('ratings', 'ratings-api', 'data');
    expect(r.match).toEqual([{ uri: { prefix: '/old/' } }]);
    expect(r.rewrite).toEqual({ uri: '/new/', authority: 'ratings.internal' });
  });

  it('renders request and response header set/add/remove', () => {
    expect(httpRoute('reviews', 'reviews-canary').headers).toEqual({
      request: { set: { 'x-env': 'prod' }, add: { 'x-via': 'meshgen' }, remove: ['x-debug'] },
      response: { set: { 'x-served-by': 'reviews' }, add: { 'x-extra': '1' }, remove: ['server'] },
    });
  });

  it('renders uri, headers, query parameters and method matches', () => {
    expect(httpRoute('reviews', 'reviews-jason').match).toEqual([
      {
        uri: { regex: '/reviews/[0-9]+' },
        headers: {
          'end-user': { exact: 'jason' },
          'x-trace': { regex: '.*' },
          'x-env': { prefix: 'prod' },
          'x-re': { regex: 'a+' },
        },
        // Istio has no prefix match for query parameters: an equivalent RE2 pattern
        queryParams: {
          debug: { exact: '1' },
          lang: { regex: 'en.*' },
          v: { regex: '[0-9]+' },
          flag: { regex: '.*' },
        },
        method: { exact: 'POST' },
      },
    ]);
    expect(httpRoute('reviews', 'reviews-canary').match).toEqual([
      { uri: { prefix: '/reviews' } },
      { uri: { exact: '/reviews-all' } },
    ]);
  });

  it('escapes a query prefix into a literal regex', () => {
    const m = mesh(`  backends:
    - { name: a, port: 80, versions: [{ name: v1 }] }
  routes:
    - name: r
      parent: { backend: a }
      match:
        - queryParams: { q: { prefix: "a.b(c" } }
      to: [{ backend: a }]`);
    expect(emitObjects(m).find('VirtualService', 'a').spec.http[0].match[0].queryParams).toEqual({
      q: { regex: 'a\\.b\\(c.*' },
    });
  });

  it('puts a TCP backend route in the tcp section with its split', () => {
    const vs = full().find('VirtualService', 'db');
    expect(vs.spec.http).toBeUndefined();
    expect(vs.spec.tcp).toEqual([
      {
        route: [
          {
            destination: { host: 'db.shop.svc.cluster.local', subset: 'a', port: { number: 5432 } },
            weight: 80,
          },
          {
            destination: { host: 'db.shop.svc.cluster.local', subset: 'b', port: { number: 5432 } },
            weight: 20,
          },
        ],
      },
    ]);
  });
});

describe('istio VirtualService for a frontend (north-south)', () => {
  it('binds to <namespace>/<gateway> with the route hosts', () => {
    const vs = emitObjects(exampleMesh('bookinfo')).find('VirtualService', 'bookinfo-gateway');
    expect(vs.spec.gateways).toEqual(['bookinfo/bookinfo-gateway']);
    expect(vs.spec.hosts).toEqual(['bookinfo.example.com']);
    expect(vs.spec.http[0].match).toHaveLength(5);
    expect(vs.spec.http[0].route[0].destination).toEqual({
      host: 'productpage.bookinfo.svc.cluster.local',
      subset: 'v1',
      port: { number: 9080 },
    });
  });

  it('splits by host when routes serve different hosts, keeping first-match order and wildcards in each', () => {
    const { find } = full();
    const names = (vs: { spec: { http: { name: string }[] } }) => vs.spec.http.map((r) => r.name);
    const api = find('VirtualService', 'public-api-example-com');
    expect(api.spec.hosts).toEqual(['api.example.com']);
    expect(api.spec.gateways).toEqual(['shop/public']);
    expect(names(api)).toEqual(['shop-api', 'shop-all']);
    expect(names(find('VirtualService', 'public-shop-example-com'))).toEqual(['shop-all', 'shop-www']);
    const wild = find('VirtualService', 'public-wildcard-example-com');
    expect(wild.spec.hosts).toEqual(['*.example.com']);
    expect(names(wild)).toEqual(['shop-all']);
  });

  it('routes a TCP frontend in a tcp section matched on its port', () => {
    const vs = full().find('VirtualService', 'raw');
    expect(vs.spec.tcp).toEqual([
      {
        match: [{ port: 15432 }],
        route: [{ destination: { host: 'db.shop.svc.cluster.local', port: { number: 5432 } } }],
      },
    ]);
  });

  it('routes a TLS passthrough frontend by SNI in a tls section', () => {
    const vs = full().find('VirtualService', 'sni');
    expect(vs.spec.hosts).toEqual(['db.example.com']);
    expect(vs.spec.tls).toEqual([
      {
        match: [{ port: 9443, sniHosts: ['db.example.com'] }],
        route: [{ destination: { host: 'db.shop.svc.cluster.local', subset: 'b', port: { number: 5432 } } }],
      },
    ]);
  });

  it('emits no VirtualService for a frontend without routes (Istio answers 404)', () => {
    const m = mesh(`  backends:
    - { name: a, port: 80, versions: [{ name: v1 }] }
  frontends:
    - { name: edge, port: 8080, protocol: http }`);
    const { objects } = emitObjects(m);
    expect(objects.filter((o) => o.kind === 'VirtualService').map((o) => o.metadata.name)).toEqual(['a']);
    expect(objects.some((o) => o.kind === 'Gateway' && o.metadata.name === 'edge')).toBe(true);
  });

  it('names the frontend VirtualService apart when a backend in the namespace has the same name', () => {
    const m = mesh(`  backends:
    - { name: web, port: 80, versions: [{ name: v1 }] }
  frontends:
    - { name: web, port: 8080, protocol: http }
  routes:
    - name: in
      parent: { frontend: web }
      to: [{ backend: web }]`);
    const { find } = emitObjects(m);
    expect(find('VirtualService', 'web').spec.gateways).toEqual(['mesh']);
    expect(find('VirtualService', 'web-frontend').spec.gateways).toEqual(['ns/web']);
  });
});
