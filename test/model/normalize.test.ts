import { describe, expect, it } from 'vitest';
import { exampleMesh, meshFrom } from '../support/meshes.js';

const sharedPorts = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: k8s }
spec:
  namespace: apps
  backends:
    - { name: a, port: 8080, versions: [{ name: v1, endpoints: ["127.0.0.1:1001"] }] }
    - { name: b, port: 8080, versions: [{ name: v1, endpoints: ["127.0.0.1:1002"] }] }
    - { name: c, port: 9090, versions: [{ name: v1, endpoints: ["127.0.0.1:1003"] }] }
`;

describe('normalizeMesh', () => {
  it('fills defaults, identities and durations', () => {
    const mesh = exampleMesh('shop');
    const catalog = mesh.backendsByName.get('catalog')!;
    expect(catalog.identity).toBe('spiffe://cluster.local/ns/shop/sa/catalog');
    expect(catalog.fqdn).toBe('catalog.shop.svc.cluster.local');
    expect(catalog.loadBalancer).toBe('round-robin');
    expect(catalog.mtlsMode).toBe('strict');
    expect(mesh.backendsByName.get('orders-db')!.mtlsMode).toBe('permissive');
    const route = catalog.routes[0]!;
    expect(route.timeoutMs).toBe(3000);
    expect(route.retries).toEqual({
      attempts: 3,
      perTryTimeoutMs: 1000,
      on: ['5xx', 'gateway-error', 'connect-failure'],
    });
    expect(route.fault).toEqual({ delay: { ms: 500, percent: 1 }, abort: undefined });
    expect(route.to.map((t) => [t.backend, t.version, t.weight])).toEqual([
      ['catalog', 'v1', 80],
      ['catalog', 'v2', 20],
    ]);
    expect(mesh.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'meshgen',
      'meshgen.io/mesh': 'shop',
    });
  });

  it('adds an implicit route to every version for a backend without routes', () => {
    const web = exampleMesh('shop').backendsByName.get('web')!;
    expect(web.routes).toHaveLength(1);
    expect(web.routes[0]).toMatchObject({
      implicit: true,
      matches: [],
      to: [{ backend: 'web', version: undefined, versions: ['v1', 'v2'], weight: 100 }],
    });
  });

  it('shares frozen empty lists and version lists between routes, which can only be read', () => {
    const mesh = exampleMesh('shop');
    const web = mesh.backendsByName.get('web')!.routes[0]!;
    const plain = mesh.routes.filter((r) => r.requestHeaders.set.length === 0);
    expect(plain.length).toBeGreaterThan(1);
    expect(plain[0]!.requestHeaders).toBe(plain[1]!.requestHeaders);
    expect(web.matches).toEqual([]);
    expect(Object.isFrozen(web.matches)).toBe(true);
    expect(Object.isFrozen(web.requestHeaders) && Object.isFrozen(web.requestHeaders.set)).toBe(true);
    expect(() => (web.requestHeaders.set as [string, string][]).push(['x', 'y'])).toThrow(TypeError);
    // a destination's versions: one list per backend, and one per version name
    const catalog = mesh.backendsByName.get('catalog')!.routes[0]!;
    expect(catalog.to[0]!.versions).toEqual(['v1']);
    expect(Object.isFrozen(catalog.to[0]!.versions)).toBe(true);
    const v1 = mesh.routes.flatMap((r) => r.to).filter((t) => t.version === 'v1');
    expect(v1.length).toBeGreaterThan(1);
    expect(new Set(v1.map((t) => t.versions)).size).toBe(1);
  });

  it('keeps frontend routes in first-match order', () => {
    const pub = exampleMesh('shop').frontendsByName.get('public')!;
    expect(pub.routes.map((r) => r.name)).toEqual(['storefront-beta', 'storefront']);
    expect(pub.routes[0]!.matches[0]!.headers).toEqual([
      { name: 'x-beta', match: { kind: 'exact', value: '1' } },
    ]);
  });

  it('resolves access: rules, or the default when no rule names a backend', () => {
    const mesh = exampleMesh('shop');
    const payments = mesh.backendsByName.get('payments')!.access;
    expect(payments.mode).toBe('rules');
    if (payments.mode !== 'rules') return;
    expect(payments.rules[0]!.from).toEqual([
      {
        kind: 'backend',
        name: 'checkout',
        namespace: 'shop',
        serviceAccount: 'checkout',
        identity: 'spiffe://cluster.local/ns/shop/sa/checkout',
      },
    ]);
    expect(payments.rules[0]!.paths).toEqual([
      { kind: 'exact', value: '/pay', pattern: '/pay' },
      { kind: 'prefix', value: '/refund/', pattern: '/refund/*' },
    ]);
    expect(mesh.backendsByName.get('web')!.access).toEqual({ mode: 'allow-all' });
    expect(exampleMesh('bookinfo').backendsByName.get('details')!.access.mode).toBe('rules');
  });

  it('gives backends that share a port their own stable loopback address', () => {
    const mesh = meshFrom(sharedPorts);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => mesh.backendsByName.get(n)!);
    expect(c!.localAddress).toBe('127.0.0.1');
    expect(c!.sharesPort).toBe(false);
    expect(a!.localAddress).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(a!.localAddress).not.toBe(b!.localAddress);
    expect(a!.localAddress).not.toBe('127.0.0.1');
    // stable: adding another backend does not move the others
    const more = meshFrom(
      sharedPorts +
        `    - { name: d, port: 8080, versions: [{ name: v1, endpoints: ["127.0.0.1:1004"] }] }\n`,
    );
    expect(more.backendsByName.get('a')!.localAddress).toBe(a!.localAddress);
    expect(more.backendsByName.get('b')!.localAddress).toBe(b!.localAddress);
  });
});
