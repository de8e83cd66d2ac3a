import { describe, expect, it } from 'vitest';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { FULL_MESH } from './fixtures.js';
import { emitObjects, mesh } from './helpers.js';

let cached: ReturnType<typeof emitObjects> | undefined;
const full = () => (cached ??= emitObjects(meshFrom(FULL_MESH)));

describe('istio PeerAuthentication', () => {
  it('sets the mesh mode in every namespace the mesh uses', () => {
    const { find } = full();
    expect(find('PeerAuthentication', 'default', 'shop').spec).toEqual({ mtls: { mode: 'STRICT' } });
    expect(find('PeerAuthentication', 'default', 'data').spec).toEqual({ mtls: { mode: 'STRICT' } });
  });

  it('gives a backend that overrides the mode its own policy with a selector', () => {
    const { find, objects } = full();
    expect(find('PeerAuthentication', 'ratings', 'data').spec).toEqual({
      selector: { matchLabels: { app: 'ratings' } },
      mtls: { mode: 'PERMISSIVE' },
    });
    expect(find('PeerAuthentication', 'legacy', 'shop').spec.mtls).toEqual({ mode: 'DISABLE' });
    // backends that follow the mesh get none
    expect(objects.some((o) => o.kind === 'PeerAuthentication' && o.metadata.name === 'reviews')).toBe(false);
  });

  it('renders a permissive mesh as PERMISSIVE', () => {
    expect(
      emitObjects(exampleMesh('hello')).find('PeerAuthentication', 'default', 'hello').spec.mtls,
    ).toEqual({ mode: 'PERMISSIVE' });
  });
});

describe('istio AuthorizationPolicy', () => {
  it('allows the callers by principal, with their paths and methods', () => {
    const ap = emitObjects(exampleMesh('shop')).find('AuthorizationPolicy', 'payments');
    expect(ap.spec).toEqual({
      selector: { matchLabels: { app: 'payments' } },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/shop/sa/checkout'] } }],
          to: [{ operation: { paths: ['/pay', '/refund/*'], methods: ['POST'] } }],
        },
      ],
    });
  });

  it('uses the trust domain, namespace and service account of each caller, and "*" for any authenticated one', () => {
    const { find } = full();
    expect(find('AuthorizationPolicy', 'ratings', 'data').spec.rules).toEqual([
      {
        from: [
          { source: { principals: ['example.org/ns/shop/sa/reviews', 'example.org/ns/shop/sa/sticky'] } },
        ],
      },
    ]);
    const reviews = find('AuthorizationPolicy', 'reviews').spec.rules;
    expect(reviews[0].from[0].source.principals).toEqual([
      'example.org/ns/shop/sa/plain',
      'example.org/ns/shop/sa/public',
    ]);
    expect(reviews[0].to).toEqual([
      { operation: { paths: ['/reviews', '/reviews/*'], methods: ['GET', 'POST'] } },
    ]);
    expect(reviews[1]).toEqual({
      from: [{ source: { principals: ['*'] } }],
      to: [{ operation: { paths: ['/healthz'] } }],
    });
  });

  it('gives backends under defaultAccess: deny that no rule names an allow-nothing policy', () => {
    const { find } = full();
    expect(find('AuthorizationPolicy', 'sticky').spec).toEqual({
      selector: { matchLabels: { app: 'sticky' } },
    });
    expect(find('AuthorizationPolicy', 'legacy').spec).toEqual({
      selector: { matchLabels: { app: 'legacy' } },
    });
  });

  it('emits no policy for backends that defaultAccess: allow leaves open', () => {
    const { objects } = emitObjects(exampleMesh('shop'));
    expect(objects.filter((o) => o.kind === 'AuthorizationPolicy').map((o) => o.metadata.name)).toEqual([
      'orders-db',
      'payments',
    ]);
  });

  it('states which service account the gateway must run as when a frontend is a caller', () => {
    const { diagnostics } = emitObjects(exampleMesh('bookinfo'));
    const d = diagnostics.find((x) => x.code === 'MG3005' && x.pointer === '/spec/access/0/allow/0');
    expect(d?.message).toContain('cluster.local/ns/bookinfo/sa/bookinfo-gateway');
  });

  it('warns that Istio denies callers of a TCP backend whose rule names paths or methods', () => {
    const { diagnostics } = full();
    const d = diagnostics.find((x) => x.code === 'MG3002' && x.pointer === '/spec/access/2/allow/0');
    expect(d?.message).toMatch(/backend "db": access-l7 .*istio/);
  });

  it('warns once per backend that a path prefix rule needs DECODE_AND_MERGE_SLASHES against escaped slashes', () => {
    const m = mesh(`  mtls: { mode: strict }
  backends:
    - { name: pay, port: 81, versions: [{ name: v1 }] }
    - { name: shop, port: 82, versions: [{ name: v1 }] }
    - { name: exact, port: 83, versions: [{ name: v1 }] }
    - { name: db, port: 84, protocol: tcp, versions: [{ name: v1 }] }
  access:
    - backend: pay
      allow:
        - { from: [shop], paths: ["/refund*"], methods: [POST] }
        - { from: [exact], paths: [/pay/*] }
    - backend: exact
      allow: [{ from: [shop], paths: [/only] }]
    - backend: db
      allow: [{ from: [shop], paths: [/x/*] }]`);
    const found = emitObjects(m).diagnostics.filter((d) => d.code === 'MG3009');
    expect(found.map((d) => [d.severity, d.pointer])).toEqual([['warning', '/spec/access/0']]);
    expect(found[0]!.message).toContain('/refund/..%2fother passes the rule for /refund*');
    expect(found[0]!.hint).toContain('meshConfig.pathNormalization.normalization: DECODE_AND_MERGE_SLASHES');
  });

  it('deduplicates principals of callers sharing a service account', () => {
    const m = mesh(`  mtls: { mode: strict }
  backends:
    - { name: a, port: 81, versions: [{ name: v1 }] }
    - { name: b, port: 82, serviceAccount: shared, versions: [{ name: v1 }] }
    - { name: c, port: 83, serviceAccount: shared, versions: [{ name: v1 }] }
  access:
    - backend: a
      allow:
        - from: [b, c]`);
    expect(emitObjects(m).find('AuthorizationPolicy', 'a').spec.rules[0].from).toEqual([
      { source: { principals: ['cluster.local/ns/ns/sa/shared'] } },
    ]);
  });
});

describe('istio AuthorizationPolicy with --set gatewayServiceAccount', () => {
  it('grants frontend callers to the gateway service account instead', () => {
    const { find, diagnostics } = emitObjects(exampleMesh('bookinfo'), {
      settings: { gatewayServiceAccount: 'istio-system/istio-ingressgateway-service-account' },
    });
    expect(find('AuthorizationPolicy', 'productpage').spec.rules[0].from).toEqual([
      { source: { principals: ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'] } },
    ]);
    // backend callers keep their own identity
    expect(find('AuthorizationPolicy', 'details').spec.rules[0].from).toEqual([
      { source: { principals: ['cluster.local/ns/bookinfo/sa/productpage'] } },
    ]);
    expect(diagnostics.some((d) => d.pointer === '/spec/access/0/allow/0')).toBe(false);
  });

  it('reports a malformed value as an error diagnostic', () => {
    for (const bad of ['istio-system', 'a/b/c', 'Bad/x', '/x']) {
      const { diagnostics } = emitObjects(exampleMesh('bookinfo'), {
        settings: { gatewayServiceAccount: bad },
      });
      expect(diagnostics.find((d) => d.code === 'MG4003')?.severity, bad).toBe('error');
    }
  });
});
