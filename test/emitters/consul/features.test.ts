import { describe, expect, it } from 'vitest';
import { consul } from '../../../src/emitters/consul/index.js';
import { parse } from 'yaml';
import { render } from '../../../src/render.js';
import { validateObject } from '../../support/crds.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { emitConsul, entry, jsonEntries } from './helpers.js';

/** A mesh with backends `reviews` (v1, v2, v3) and `ratings`, plus whatever the test adds. */
function mesh(extra: string, spec = ''): ReturnType<typeof meshFrom> {
  return meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  namespace: shop
  mtls: { mode: strict }
${spec}
  backends:
    - name: reviews
      port: 9080
      versions:
        - { name: v1 }
        - { name: v2 }
        - { name: v3 }
    - name: ratings
      port: 9081
      versions:
        - { name: v1 }
${extra}
`);
}

describe('splits', () => {
  it('renders a 90/10 split as Weight 90/10 on the right ServiceSubset, via a virtual service of the route', () => {
    const m = exampleMesh('hello');
    expect(entry(m, 'service-splitter', 'web--hello').Splits).toEqual([
      { Weight: 90, Service: 'hello', ServiceSubset: 'v1' },
      { Weight: 10, Service: 'hello', ServiceSubset: 'v2' },
    ]);
    expect(entry(m, 'service-router', 'web--routes').Routes).toEqual([
      { Destination: { Service: 'web--hello' } },
    ]);
    expect(entry(m, 'service-resolver', 'hello').Subsets).toEqual({
      v1: { Filter: 'Service.Meta.version == "v1"' },
      v2: { Filter: 'Service.Meta.version == "v2"' },
    });
    // the virtual service needs an HTTP protocol of its own for Consul to accept a splitter
    expect(entry(m, 'service-defaults', 'web--hello').Protocol).toBe('http');
  });

  it('gives each route that splits differently its own virtual service, and never splits the backend itself', () => {
    const m = mesh(`  routes:
    - name: jason
      parent: { backend: reviews }
      match: [{ headers: { end-user: { exact: jason } } }]
      to:
        - { backend: reviews, version: v2, weight: 50 }
        - { backend: reviews, version: v3, weight: 50 }
    - name: rest
      parent: { backend: reviews }
      to:
        - { backend: reviews, version: v1, weight: 90 }
        - { backend: reviews, version: v3, weight: 10 }
    - name: ratings-calls
      parent: { backend: ratings }
      to: [{ backend: reviews }]`);
    const entries = jsonEntries(m);
    expect(entry(m, 'service-router', 'reviews').Routes).toEqual([
      {
        Match: { HTTP: { Header: [{ Name: 'end-user', Exact: 'jason' }] } },
        Destination: { Service: 'reviews--jason' },
      },
      { Destination: { Service: 'reviews--rest' } },
    ]);
    expect(entry(m, 'service-splitter', 'reviews--jason').Splits).toEqual([
      { Weight: 50, Service: 'reviews', ServiceSubset: 'v2' },
      { Weight: 50, Service: 'reviews', ServiceSubset: 'v3' },
    ]);
    expect(entry(m, 'service-splitter', 'reviews--rest').Splits).toEqual([
      { Weight: 90, Service: 'reviews', ServiceSubset: 'v1' },
      { Weight: 10, Service: 'reviews', ServiceSubset: 'v3' },
    ]);
    // a splitter named "reviews" would also split ratings' calls, which want all versions as one pool
    expect(entries.filter((e) => e.Kind === 'service-splitter').map((e) => e.Name)).toEqual([
      'reviews--jason',
      'reviews--rest',
    ]);
    expect(entry(m, 'service-router', 'ratings').Routes).toEqual([{ Destination: { Service: 'reviews' } }]);
  });
});

describe('router destinations', () => {
  it('counts retries as retries: attempts 3 is NumRetries 3, with the conditions split by kind', () => {
    const d = entry(exampleMesh('shop'), 'service-router', 'catalog').Routes[0].Destination;
    expect(d.NumRetries).toBe(3);
    expect(d.RetryOn).toEqual(['5xx', 'gateway-error']);
    expect(d.RetryOnConnectFailure).toBe(true);
    const s = entry(exampleMesh('shop'), 'service-router', 'public--routes').Routes[1].Destination;
    expect(s).toMatchObject({
      NumRetries: 2,
      RetryOn: ['reset'],
      RetryOnStatusCodes: [503],
      RetryOnConnectFailure: true,
    });
  });

  it('writes timeouts as Go durations in RequestTimeout', () => {
    expect(entry(exampleMesh('shop'), 'service-router', 'catalog').Routes[0].Destination.RequestTimeout).toBe(
      '3s',
    );
    const m = mesh(`  routes:
    - name: slow
      parent: { backend: ratings }
      to: [{ backend: ratings }]
      timeout: 1m30s
    - name: fast
      parent: { backend: reviews }
      to: [{ backend: reviews }]
      timeout: 250ms`);
    expect(entry(m, 'service-router', 'ratings').Routes[0].Destination.RequestTimeout).toBe('1m30s');
    expect(entry(m, 'service-router', 'reviews').Routes[0].Destination.RequestTimeout).toBe('250ms');
  });

  it('rewrites the matched prefix with PrefixRewrite', () => {
    const route = entry(exampleMesh('shop'), 'service-router', 'catalog').Routes[0];
    expect(route.Match.HTTP.PathPrefix).toBe('/api/');
    expect(route.Destination.PrefixRewrite).toBe('/v1/');
  });

  it('maps header set/add/remove onto RequestHeaders and ResponseHeaders', () => {
    const m = mesh(`  routes:
    - name: h
      parent: { backend: reviews }
      to: [{ backend: reviews, version: v1 }]
      headers:
        request: { set: { x-env: prod }, add: { x-via: meshgen }, remove: [x-debug] }
        response: { set: { x-served-by: reviews }, add: { x-trace: "1" }, remove: [server] }`);
    expect(entry(m, 'service-router', 'reviews').Routes[0].Destination).toEqual({
      Service: 'reviews',
      ServiceSubset: 'v1',
      RequestHeaders: { Add: { 'x-via': 'meshgen' }, Set: { 'x-env': 'prod' }, Remove: ['x-debug'] },
      ResponseHeaders: { Add: { 'x-trace': '1' }, Set: { 'x-served-by': 'reviews' }, Remove: ['server'] },
    });
  });

  it('keeps first-match order: one Consul route per match entry, conditions AND-ed inside', () => {
    const m = mesh(`  routes:
    - name: a
      parent: { backend: reviews }
      match:
        - path: { regex: "/r/[0-9]+" }
          method: GET
        - headers: { x-canary: { present: true } }
          queryParams: { tag: { prefix: "a.b" }, id: { exact: "7" } }
      to: [{ backend: reviews, version: v2 }]
    - name: b
      parent: { backend: reviews }
      match: [{ path: { exact: /x } }]
      to: [{ backend: reviews, version: v1 }]
    - name: c
      parent: { backend: reviews }
      to: [{ backend: reviews, version: v3 }]`);
    expect(entry(m, 'service-router', 'reviews').Routes).toEqual([
      {
        Match: { HTTP: { PathRegex: '/r/[0-9]+', Methods: ['GET'] } },
        Destination: { Service: 'reviews', ServiceSubset: 'v2' },
      },
      {
        Match: {
          HTTP: {
            Header: [{ Name: 'x-canary', Present: true }],
            // query parameters have no Prefix in Consul: an anchored, escaped regex instead
            QueryParam: [
              { Name: 'tag', Regex: 'a\\.b.*' },
              { Name: 'id', Exact: '7' },
            ],
          },
        },
        Destination: { Service: 'reviews', ServiceSubset: 'v2' },
      },
      { Match: { HTTP: { PathExact: '/x' } }, Destination: { Service: 'reviews', ServiceSubset: 'v1' } },
      { Destination: { Service: 'reviews', ServiceSubset: 'v3' } },
    ]);
    // the last route catches everything, so nothing falls through to Consul's default route
    expect(emitConsul(m).diagnostics.filter((d) => /not 404/.test(d.message))).toEqual([]);
  });

  it('says where unmatched requests go when the routes do not end with a catch-all', () => {
    const d = emitConsul(exampleMesh('shop')).diagnostics.find((x) =>
      /none of its routes match/.test(x.message),
    );
    expect(d).toMatchObject({ code: 'MG3002', severity: 'warning' });
    expect(d!.message).toContain('backend "catalog"');
  });
});

describe('intentions', () => {
  it('renders whole-service rules as L4 Action allow, and denies every other source', () => {
    expect(entry(exampleMesh('shop'), 'service-intentions', 'orders-db').Sources).toEqual([
      { Name: 'checkout', Action: 'allow' },
      { Name: 'payments', Action: 'allow' },
      { Name: '*', Action: 'deny' },
    ]);
  });

  it('renders paths and methods as L7 Permissions that end by denying everything else', () => {
    expect(entry(exampleMesh('shop'), 'service-intentions', 'payments').Sources).toEqual([
      {
        Name: 'checkout',
        Permissions: [
          { Action: 'allow', HTTP: { PathExact: '/pay', Methods: ['POST'] } },
          { Action: 'allow', HTTP: { PathPrefix: '/refund/', Methods: ['POST'] } },
          { Action: 'deny', HTTP: { PathPrefix: '/' } },
        ],
      },
      { Name: '*', Action: 'deny' },
    ]);
  });

  it('makes defaultAccess explicit: a * deny (or allow) intention for every backend no rule names', () => {
    const deny = mesh('', '  defaultAccess: deny');
    expect(entry(deny, 'service-intentions', 'ratings').Sources).toEqual([{ Name: '*', Action: 'deny' }]);
    const allow = mesh('', '  defaultAccess: allow');
    expect(entry(allow, 'service-intentions', 'ratings').Sources).toEqual([{ Name: '*', Action: 'allow' }]);
  });

  it('gives "*" rules to named callers too, since Consul prefers the exact source over *', () => {
    const m = mesh(`  frontends:
    - { name: gw, port: 8000, protocol: http }
  access:
    - backend: reviews
      allow:
        - from: ["*"]
          methods: [GET]
        - from: [ratings, gw]
          paths: [/admin/*]`);
    const get = { Action: 'allow', HTTP: { Methods: ['GET'] } };
    const admin = { Action: 'allow', HTTP: { PathPrefix: '/admin/' } };
    const rest = { Action: 'deny', HTTP: { PathPrefix: '/' } };
    expect(entry(m, 'service-intentions', 'reviews').Sources).toEqual([
      { Name: 'ratings', Permissions: [admin, get, rest] },
      { Name: 'gw', Permissions: [admin, get, rest] },
      { Name: '*', Permissions: [get, rest] },
    ]);
  });
});

describe('backends', () => {
  it('sets Protocol and MutualTLSMode on service-defaults', () => {
    const m = exampleMesh('shop');
    expect(entry(m, 'service-defaults', 'web')).toMatchObject({ Protocol: 'http', MutualTLSMode: 'strict' });
    expect(entry(m, 'service-defaults', 'orders-db')).toMatchObject({
      Protocol: 'tcp',
      MutualTLSMode: 'permissive',
    });
  });

  it('maps load balancers and hash policies onto the resolver', () => {
    const m = meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  backends:
    - { name: a, port: 80, loadBalancer: ring-hash, hashOn: { header: X-User }, versions: [{ name: v1 }] }
    - { name: b, port: 81, loadBalancer: ring-hash, hashOn: { sourceIp: true }, versions: [{ name: v1 }] }
    - { name: c, port: 82, loadBalancer: random, versions: [{ name: v1 }] }
    - { name: d, port: 83, versions: [{ name: v1 }] }`);
    expect(entry(m, 'service-resolver', 'a').LoadBalancer).toEqual({
      Policy: 'ring_hash',
      HashPolicies: [{ Field: 'header', FieldValue: 'x-user' }],
    });
    expect(entry(m, 'service-resolver', 'b').LoadBalancer).toEqual({
      Policy: 'ring_hash',
      HashPolicies: [{ SourceIP: true }],
    });
    expect(entry(m, 'service-resolver', 'c').LoadBalancer).toEqual({ Policy: 'random' });
    expect(entry(m, 'service-resolver', 'd').LoadBalancer).toBeUndefined();
  });

  it("puts circuit breakers and outlier detection in the callers' UpstreamConfig, per upstream name", () => {
    const upstream = entry(exampleMesh('shop'), 'service-defaults', 'checkout').UpstreamConfig;
    expect(upstream.Overrides).toEqual([
      {
        Name: 'web',
        PassiveHealthCheck: {
          Interval: '10s',
          MaxFailures: 5,
          MaxEjectionPercent: 50,
          BaseEjectionTime: '30s',
        },
      },
      {
        Name: 'catalog',
        Limits: { MaxConnections: 512, MaxPendingRequests: 64, MaxConcurrentRequests: 512 },
      },
    ]);
    // the gateway reaches only web, so its ingress service carries web's passive health check
    const svc = entry(exampleMesh('shop'), 'ingress-gateway', 'public').Listeners[0].Services[0];
    expect(svc.PassiveHealthCheck).toEqual(upstream.Overrides[0].PassiveHealthCheck);
  });

  it('uses UpstreamConfig.Defaults when every backend has the same settings, keeping output linear', () => {
    const m = meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  backends:
    - { name: a, port: 80, versions: [{ name: v1 }], circuitBreaker: { maxConnections: 10 } }
    - { name: b, port: 81, versions: [{ name: v1 }], circuitBreaker: { maxConnections: 10 } }`);
    expect(entry(m, 'service-defaults', 'a').UpstreamConfig).toEqual({
      Defaults: { Limits: { MaxConnections: 10 } },
    });
  });

  it('cannot split TCP: sends connections to the heaviest destination and says so', () => {
    const m = exampleMesh('tcp');
    expect(entry(m, 'service-resolver', 'postgres').DefaultSubset).toBe('pg15');
    expect(jsonEntries(m).some((e) => e.Kind === 'service-splitter')).toBe(false);
    const d = emitConsul(m).diagnostics.find((x) => x.pointer === '/spec/routes/0/to');
    expect(d?.message).toMatch(/cannot split TCP/);
  });
});

describe('frontends', () => {
  it('declares one ingress gateway per frontend, exposing its router virtual service on the hosts', () => {
    expect(entry(exampleMesh('shop'), 'ingress-gateway', 'public')).toMatchObject({
      TLS: { Enabled: true },
      Listeners: [
        { Port: 8443, Protocol: 'http', Services: [{ Name: 'public--routes', Hosts: ['shop.example.com'] }] },
      ],
    });
    expect(entry(exampleMesh('tcp'), 'service-resolver', 'db-public--routes').Redirect).toEqual({
      Service: 'postgres',
      ServiceSubset: 'pg15',
    });
  });

  it('gives hosts with different route lists their own router, since Consul routers cannot match hosts', () => {
    const m = mesh(`  frontends:
    - { name: gw, port: 8000, protocol: http, hosts: [a.example.com, b.example.com] }
  routes:
    - name: only-a
      parent: { frontend: gw, hosts: [a.example.com] }
      match: [{ path: { prefix: /a } }]
      to: [{ backend: ratings }]
    - name: all
      parent: { frontend: gw }
      to: [{ backend: reviews }]`);
    expect(entry(m, 'ingress-gateway', 'gw').Listeners[0].Services).toEqual([
      { Name: 'gw--routes-1', Hosts: ['a.example.com'] },
      { Name: 'gw--routes-2', Hosts: ['b.example.com'] },
    ]);
    expect(entry(m, 'service-router', 'gw--routes-1').Routes).toHaveLength(2);
    expect(entry(m, 'service-router', 'gw--routes-2').Routes).toEqual([
      { Destination: { Service: 'reviews' } },
    ]);
  });
});

describe('fidelity', () => {
  it('reports what Consul cannot express (fault, mirror, per-try timeout, health check) as MG3001', () => {
    const r = render(exampleMesh('shop'), { targets: ['consul'] });
    const unsupported = r.diagnostics.filter((d) => d.code === 'MG3001').map((d) => d.message);
    for (const f of ['fault-delay', 'mirror', 'per-try-timeout', 'health-check'])
      expect(unsupported.some((m) => m.includes(f))).toBe(true);
  });

  it('reports a generated name that collides with a backend as an error', () => {
    const m = mesh(`    - name: reviews--canary
      port: 9082
      versions: [{ name: v1 }]
  routes:
    - name: canary
      parent: { backend: reviews }
      to:
        - { backend: reviews, version: v1, weight: 50 }
        - { backend: reviews, version: v2, weight: 50 }`);
    const d = emitConsul(m).diagnostics.find((x) => x.code === 'MG3006');
    expect(d).toMatchObject({ severity: 'error', pointer: '/spec/routes/0' });
  });
});

describe('TCP frontends', () => {
  it("says when a frontend TCP route would follow the backend's own TCP route through the shared resolver", () => {
    const m = meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  backends:
    - { name: db, port: 5432, protocol: tcp, versions: [{ name: a }, { name: b }] }
  frontends:
    - { name: edge, port: 15432, protocol: tcp }
  routes:
    - { name: db-own, parent: { backend: db }, to: [{ backend: db, version: b }] }
    - { name: edge, parent: { frontend: edge }, to: [{ backend: db }] }`);
    expect(entry(m, 'service-resolver', 'db').DefaultSubset).toBe('b');
    expect(entry(m, 'service-resolver', 'edge--routes').Redirect).toEqual({ Service: 'db' });
    const d = emitConsul(m).diagnostics.find((x) => x.pointer === '/spec/routes/1/to');
    expect(d?.message).toMatch(/follow it/);
  });
});

describe('split destinations named twice', () => {
  it('adds up their weights, since Consul refuses a splitter that names a destination twice', () => {
    const m = mesh(`  routes:
    - name: r
      parent: { backend: reviews }
      to:
        - { backend: reviews, version: v1, weight: 30 }
        - { backend: reviews, version: v2, weight: 50 }
        - { backend: reviews, version: v1, weight: 20 }`);
    expect(entry(m, 'service-splitter', 'reviews--r').Splits).toEqual([
      { Weight: 50, Service: 'reviews', ServiceSubset: 'v1' },
      { Weight: 50, Service: 'reviews', ServiceSubset: 'v2' },
    ]);
  });
});

describe('HTTPS frontends', () => {
  it('serve Consul CA certificates by default, and the frontend secret through SDS when a cluster is given', () => {
    const shop = exampleMesh('shop');
    expect(entry(shop, 'ingress-gateway', 'public').TLS).toEqual({ Enabled: true });
    expect(emitConsul(shop).diagnostics.some((d) => d.pointer === '/spec/frontends/0/tls')).toBe(true);
    const sds = consul.emit(shop, { settings: { consulFormat: 'json', consulSdsCluster: 'sds-server' } });
    const gw = JSON.parse(sds.files.find((f) => f.path === '5-ingress-gateway-public.json')!.contents);
    expect(gw.TLS).toEqual({ Enabled: true, SDS: { ClusterName: 'sds-server', CertResource: 'shop-tls' } });
    expect(sds.diagnostics.some((d) => d.pointer === '/spec/frontends/0/tls')).toBe(false);
    const crd = consul.emit(shop, { settings: { consulSdsCluster: 'sds-server' } });
    const obj = parse(crd.files.find((f) => f.path === 'ingressgateway-shop-public.yaml')!.contents);
    expect(obj.spec.tls).toEqual({
      enabled: true,
      sds: { clusterName: 'sds-server', certResource: 'shop-tls' },
    });
    expect(validateObject(obj).errors).toEqual([]);
  });
});
