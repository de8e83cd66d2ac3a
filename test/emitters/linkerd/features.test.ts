import { describe, expect, it } from 'vitest';
import { FEATURES } from '../../../src/model/features.js';
import { findEmitter } from '../../../src/emitters/index.js';
import { render } from '../../../src/render.js';
import { linkerd } from '../../../src/emitters/linkerd/index.js';
import { meshFrom } from '../../support/meshes.js';
import { TWO_VERSIONS, find, meshYaml, renderLinkerd } from './support.js';

const route = (body: string) =>
  meshFrom(
    meshYaml({
      backends: TWO_VERSIONS,
      routes: `    - name: r\n      parent: { backend: reviews }\n${body}`,
    }),
  );

describe('linkerd: splits', () => {
  it('sends a 90/10 split to the per-version Services with backendRefs weights 90 and 10', () => {
    const { objects } = renderLinkerd(
      route(
        `      to:\n        - { backend: reviews, version: v1, weight: 90 }\n        - { backend: reviews, version: v2, weight: 10 }`,
      ),
    );
    const r = find(objects, 'HTTPRoute', 'reviews', 'gateway.networking.k8s.io/v1');
    expect(r.spec!.parentRefs).toEqual([{ group: '', kind: 'Service', name: 'reviews', port: 9080 }]);
    expect(r.spec!.rules![0]!.backendRefs).toEqual([
      { name: 'reviews-v1', port: 9080, weight: 90 },
      { name: 'reviews-v2', port: 9080, weight: 10 },
    ]);
    expect(find(objects, 'Service', 'reviews-v1').spec!.selector).toEqual({ app: 'reviews', version: 'v1' });
    expect(find(objects, 'Service', 'reviews-v2').spec!.selector).toEqual({ app: 'reviews', version: 'v2' });
    expect(find(objects, 'Service', 'reviews').spec!.selector).toEqual({ app: 'reviews' });
  });

  it('sends a destination without a version to the backend Service itself', () => {
    const { objects } = renderLinkerd(route(`      to:\n        - { backend: reviews }`));
    expect(find(objects, 'HTTPRoute', 'reviews').spec!.rules![0]!.backendRefs).toEqual([
      { name: 'reviews', port: 9080, weight: 100 },
    ]);
  });

  it('emits no HTTPRoute for a backend with only its implicit route', () => {
    const { objects } = renderLinkerd(meshFrom(meshYaml({ backends: TWO_VERSIONS })));
    expect(objects.filter((o) => o.kind === 'HTTPRoute')).toEqual([]);
  });
});

describe('linkerd: retries and timeouts', () => {
  it('writes attempts: 3 as retry.linkerd.io/limit "3": Linkerd counts retries, as the mesh does', () => {
    const { objects } = renderLinkerd(
      route(
        `      to: [{ backend: reviews }]\n      retries: { attempts: 3, perTryTimeout: 2s, on: [gateway-error, "429"] }`,
      ),
    );
    expect(find(objects, 'HTTPRoute', 'reviews').metadata.annotations).toEqual({
      'retry.linkerd.io/http': 'gateway-error,429',
      'retry.linkerd.io/limit': '3',
      'retry.linkerd.io/timeout': '2s',
    });
  });

  it('reports connection-level retry conditions as approximate', () => {
    const { diagnostics } = renderLinkerd(
      route(`      to: [{ backend: reviews }]\n      retries: { attempts: 1, on: [connect-failure] }`),
    );
    expect(diagnostics.filter((d) => d.code === 'MG3002').map((d) => d.pointer)).toEqual([
      '/spec/routes/0/retries/on',
    ]);
  });

  it('reports that Linkerd retries a per-try timeout even when retries.on does not cover it', () => {
    const { diagnostics } = renderLinkerd(
      route(
        `      to: [{ backend: reviews }]\n      retries: { attempts: 1, perTryTimeout: 1s, on: ["503"] }`,
      ),
    );
    expect(diagnostics.filter((d) => d.code === 'MG3002').map((d) => d.pointer)).toEqual([
      '/spec/routes/0/retries/perTryTimeout',
    ]);
  });

  it('puts the whole-request timeout in the rule as timeouts.request, in a form Linkerd parses', () => {
    const { objects } = renderLinkerd(route(`      to: [{ backend: reviews }]\n      timeout: 1m30s`));
    expect(find(objects, 'HTTPRoute', 'reviews').spec!.rules![0]!.timeouts).toEqual({ request: '90s' });
  });

  it('falls back to timeout.linkerd.io/request when no single-unit Gateway duration fits', () => {
    const { objects } = renderLinkerd(route(`      to: [{ backend: reviews }]\n      timeout: 100001ms`));
    const r = find(objects, 'HTTPRoute', 'reviews');
    expect(r.spec!.rules![0]!.timeouts).toBeUndefined();
    expect(r.metadata.annotations).toEqual({ 'timeout.linkerd.io/request': '100001ms' });
  });

  it('uses the Gateway API timeouts and retry fields on frontend routes', () => {
    const mesh = meshFrom(
      meshYaml({
        backends: TWO_VERSIONS,
        frontends: '    - { name: web, port: 80, protocol: http }',
        routes: `    - name: r\n      parent: { frontend: web }\n      to: [{ backend: reviews }]\n      timeout: 10s\n      retries: { attempts: 2, perTryTimeout: 3s, on: [gateway-error, retriable-4xx] }`,
      }),
    );
    const rule = find(renderLinkerd(mesh).objects, 'HTTPRoute', 'web').spec!.rules![0]!;
    expect(rule.timeouts).toEqual({ request: '10s', backendRequest: '3s' });
    expect(rule.retry).toEqual({ attempts: 2, codes: [409, 502, 503, 504] });
  });
});

describe('linkerd: matches and filters', () => {
  it('renders path, header, query and method matches', () => {
    const { objects } = renderLinkerd(
      route(`      match:
        - path: { exact: /a }
          headers: { x-exact: { exact: "1" }, x-pre: { prefix: "a.b" }, x-re: { regex: "[0-9]+" }, x-any: { present: true } }
          queryParams: { q: { exact: v } }
          method: POST
        - path: { regex: "/b/[a-z]+" }
        - path: { prefix: /c/ }
      to: [{ backend: reviews }]`),
    );
    expect(find(objects, 'HTTPRoute', 'reviews').spec!.rules![0]!.matches).toEqual([
      {
        path: { type: 'Exact', value: '/a' },
        headers: [
          { type: 'Exact', name: 'x-exact', value: '1' },
          { type: 'RegularExpression', name: 'x-pre', value: 'a\\.b.*' },
          { type: 'RegularExpression', name: 'x-re', value: '[0-9]+' },
          { type: 'RegularExpression', name: 'x-any', value: '.*' },
        ],
        queryParams: [{ type: 'Exact', name: 'q', value: 'v' }],
        method: 'POST',
      },
      { path: { type: 'RegularExpression', value: '/b/[a-z]+' } },
      { path: { type: 'PathPrefix', value: '/c/' } },
    ]);
  });

  it('reports that a PathPrefix matches whole segments', () => {
    const { diagnostics } = renderLinkerd(
      route(`      match: [{ path: { prefix: /static } }]\n      to: [{ backend: reviews }]`),
    );
    const d = diagnostics.find((x) => x.code === 'MG3002');
    expect(d?.message).toContain('not "/staticx"');
    expect(d?.pointer).toBe('/spec/routes/0/match/0/path');
  });

  it('renders request and response header operations as header modifier filters', () => {
    const { objects } = renderLinkerd(
      route(`      to: [{ backend: reviews }]
      headers:
        request: { set: { x-env: prod }, add: { x-via: meshgen }, remove: [x-debug] }
        response: { set: { x-served-by: reviews }, remove: [server] }`),
    );
    expect(find(objects, 'HTTPRoute', 'reviews').spec!.rules![0]!.filters).toEqual([
      {
        type: 'RequestHeaderModifier',
        requestHeaderModifier: {
          set: [{ name: 'x-env', value: 'prod' }],
          add: [{ name: 'x-via', value: 'meshgen' }],
          remove: ['x-debug'],
        },
      },
      {
        type: 'ResponseHeaderModifier',
        responseHeaderModifier: { set: [{ name: 'x-served-by', value: 'reviews' }], remove: ['server'] },
      },
    ]);
  });

  it('leaves rewrite out of a backend route with a diagnostic, and writes URLRewrite on a frontend route', () => {
    const east = renderLinkerd(
      route(
        `      match: [{ path: { prefix: /a/ } }]\n      to: [{ backend: reviews }]\n      rewrite: { pathPrefix: /b/ }`,
      ),
    );
    expect(east.diagnostics.some((d) => d.code === 'MG3001' && d.pointer === '/spec/routes/0/rewrite')).toBe(
      true,
    );
    expect(JSON.stringify(find(east.objects, 'HTTPRoute', 'reviews'))).not.toContain('URLRewrite');
    const north = renderLinkerd(
      meshFrom(
        meshYaml({
          backends: TWO_VERSIONS,
          frontends: '    - { name: web, port: 80, protocol: http }',
          routes: `    - name: r\n      parent: { frontend: web }\n      match: [{ path: { prefix: /a/ } }]\n      to: [{ backend: reviews }]\n      rewrite: { pathPrefix: /b/, host: x.internal }`,
        }),
      ),
    );
    expect(find(north.objects, 'HTTPRoute', 'web').spec!.rules![0]!.filters).toEqual([
      {
        type: 'URLRewrite',
        urlRewrite: {
          hostname: 'x.internal',
          path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b/' },
        },
      },
    ]);
  });

  it('reports fault injection and mirroring as unsupported (MG3001 from the fidelity table)', () => {
    const { diagnostics } = renderLinkerd(
      route(
        `      to: [{ backend: reviews, version: v1 }]\n      fault: { abort: { status: 503, percent: 5 } }\n      mirror: { backend: reviews, version: v2, percent: 10 }`,
      ),
    );
    expect(
      diagnostics
        .filter((d) => d.code === 'MG3001')
        .map((d) => d.pointer)
        .sort(),
    ).toEqual(['/spec/routes/0/fault/abort', '/spec/routes/0/mirror']);
  });
});

describe('linkerd: identity and access', () => {
  const access = (rules: string, spec = '  mtls: { mode: strict }') =>
    meshFrom(
      meshYaml({
        spec,
        backends: `${TWO_VERSIONS}
    - { name: productpage, port: 9080, serviceAccount: bookinfo-productpage, versions: [{ name: v1 }] }
    - { name: admin, namespace: ops, port: 80, versions: [{ name: v1 }] }`,
        access: rules,
      }),
    );

  it('authorizes callers by Linkerd identity with a Server, an AuthorizationPolicy and a MeshTLSAuthentication', () => {
    const { objects } = renderLinkerd(
      access(
        `    - backend: reviews\n      allow:\n        - from: [productpage, admin]`,
        '  trustDomain: corp.example\n  mtls: { mode: strict }',
      ),
    );
    expect(find(objects, 'Server', 'reviews').spec).toEqual({
      podSelector: { matchLabels: { app: 'reviews' } },
      port: 9080,
      proxyProtocol: 'HTTP/1',
      accessPolicy: 'deny',
    });
    expect(find(objects, 'MeshTLSAuthentication', 'reviews-allow-0').spec).toEqual({
      identities: [
        'bookinfo-productpage.t.serviceaccount.identity.linkerd.corp.example',
        'admin.ops.serviceaccount.identity.linkerd.corp.example',
      ],
    });
    expect(find(objects, 'AuthorizationPolicy', 'reviews-allow-0').spec).toEqual({
      targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'reviews' },
      requiredAuthenticationRefs: [
        { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'reviews-allow-0' },
      ],
    });
  });

  it('authorizes paths and methods through a policy.linkerd.io HTTPRoute on the Server, with a catch-all route for 403s', () => {
    const { objects } = renderLinkerd(
      access(
        `    - backend: reviews\n      allow:\n        - from: [productpage]\n          paths: [/pay, /refund/*]\n          methods: [POST]`,
      ),
    );
    const r = find(objects, 'HTTPRoute', 'reviews-authz-0', 'policy.linkerd.io/v1beta3');
    expect(r.spec).toEqual({
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'reviews' }],
      rules: [
        {
          matches: [
            { path: { type: 'Exact', value: '/pay' }, method: 'POST' },
            { path: { type: 'PathPrefix', value: '/refund/' }, method: 'POST' },
          ],
        },
      ],
    });
    expect(find(objects, 'AuthorizationPolicy', 'reviews-allow-0').spec!.targetRef).toEqual({
      group: 'policy.linkerd.io',
      kind: 'HTTPRoute',
      name: 'reviews-authz-0',
    });
    expect(find(objects, 'HTTPRoute', 'reviews-authz-all', 'policy.linkerd.io/v1beta3').spec!.rules).toEqual([
      { matches: [{ path: { type: 'PathPrefix', value: '/' } }] },
    ]);
  });

  it('also authorizes an entry on the routes of entries it wholly covers, and reports partial overlaps', () => {
    const covering = renderLinkerd(
      access(`    - backend: reviews
      allow:
        - from: [productpage]
          paths: [/api/*]
        - from: [admin]
          paths: [/api/admin/*]`),
    );
    expect(
      find(covering.objects, 'AuthorizationPolicy', 'reviews-authz-1-from-0').spec!
        .requiredAuthenticationRefs,
    ).toEqual([{ group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'reviews-allow-0' }]);
    expect(covering.diagnostics.filter((d) => d.message.includes('overlap in part'))).toEqual([]);
    const partial = renderLinkerd(
      access(`    - backend: reviews
      allow:
        - from: [productpage]
          paths: [/api/*]
          methods: [GET]
        - from: [admin]
          paths: [/api/admin/*]`),
    );
    expect(
      partial.diagnostics.filter((d) => d.message.includes('overlap in part')).map((d) => d.pointer),
    ).toEqual(['/spec/access/0/allow/0']);
  });

  it('marks strict mTLS with the all-authenticated default inbound policy on the Namespace', () => {
    const { objects } = renderLinkerd(
      access(`    - backend: reviews\n      allow:\n        - from: [productpage]`),
    );
    expect(find(objects, 'Namespace', 't').metadata.annotations).toEqual({
      'linkerd.io/inject': 'enabled',
      'config.linkerd.io/default-inbound-policy': 'all-authenticated',
    });
    expect(find(objects, 'Server', 'productpage').spec!.accessPolicy).toBe('all-authenticated');
  });

  it('turns defaultAccess: deny into the deny default inbound policy', () => {
    const { objects } = renderLinkerd(
      access(`    - backend: reviews\n      allow:\n        - from: [productpage]`, '  defaultAccess: deny'),
    );
    expect(
      find(objects, 'Namespace', 't').metadata.annotations!['config.linkerd.io/default-inbound-policy'],
    ).toBe('deny');
    expect(find(objects, 'Server', 'productpage').spec!.accessPolicy).toBe('deny');
  });

  it('uses all-unauthenticated for permissive mTLS', () => {
    const { objects } = renderLinkerd(
      meshFrom(meshYaml({ spec: '  mtls: { mode: permissive }', backends: TWO_VERSIONS })),
    );
    expect(
      find(objects, 'Namespace', 't').metadata.annotations!['config.linkerd.io/default-inbound-policy'],
    ).toBe('all-unauthenticated');
  });
});

describe('linkerd: frontends', () => {
  const mesh = meshFrom(
    meshYaml({
      backends: TWO_VERSIONS,
      frontends:
        '    - { name: public, port: 8443, protocol: https, hosts: [shop.example.com], tls: { secretName: shop-tls } }',
      routes:
        '    - name: r\n      parent: { frontend: public }\n      to: [{ backend: reviews, version: v1 }]',
    }),
  );

  it('makes a Gateway of the class given by --set gatewayClass', () => {
    const g = find(renderLinkerd(mesh, { gatewayClass: 'istio' }).objects, 'Gateway', 'public');
    expect(g.spec).toEqual({
      gatewayClassName: 'istio',
      listeners: [
        {
          name: 'https',
          hostname: 'shop.example.com',
          port: 8443,
          protocol: 'HTTPS',
          tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'shop-tls' }] },
        },
      ],
    });
  });

  it('defaults the Gateway class to eg and says so', () => {
    const { objects, diagnostics } = renderLinkerd(mesh);
    expect(find(objects, 'Gateway', 'public').spec!.gatewayClassName).toBe('eg');
    expect(diagnostics.some((d) => d.code === 'MG3005' && d.message.includes('"eg"'))).toBe(true);
  });

  it('attaches the frontend routes to the Gateway with their hosts', () => {
    const r = find(renderLinkerd(mesh).objects, 'HTTPRoute', 'public');
    expect(r.spec!.parentRefs).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public' },
    ]);
    expect(r.spec!.hostnames).toEqual(['shop.example.com']);
  });
});

describe('linkerd: fidelity table', () => {
  it('declares every feature', () => {
    const e = findEmitter('linkerd')!;
    expect(Object.keys(e.fidelity).sort()).toEqual([...FEATURES].sort());
    expect(e.fidelity.mirror).toBe('unsupported');
    expect(e.fidelity['fault-delay']).toBe('unsupported');
    expect(e.fidelity['fault-abort']).toBe('unsupported');
  });

  it('renders the same bytes twice', () => {
    const m = route(
      `      to:\n        - { backend: reviews, version: v1, weight: 50 }\n        - { backend: reviews, version: v2, weight: 50 }`,
    );
    expect(renderLinkerd(m).files).toEqual(renderLinkerd(m).files);
  });
});

describe('linkerd: backends and protocols', () => {
  it('splits TCP connections with a TCPRoute on the Service and marks the port opaque', () => {
    const { objects } = renderLinkerd(
      meshFrom(
        meshYaml({
          backends: `    - name: db
      port: 5432
      protocol: tcp
      versions:
        - { name: a, labels: { release: a } }
        - { name: b, labels: { release: b } }`,
          routes: `    - name: db
      parent: { backend: db }
      to:
        - { backend: db, version: a, weight: 80 }
        - { backend: db, version: b, weight: 20 }`,
        }),
      ),
    );
    const r = find(objects, 'TCPRoute', 'db');
    expect(r.apiVersion).toBe('gateway.networking.k8s.io/v1alpha2');
    expect(r.spec).toEqual({
      parentRefs: [{ group: '', kind: 'Service', name: 'db', port: 5432 }],
      rules: [
        {
          backendRefs: [
            { name: 'db-a', port: 5432, weight: 80 },
            { name: 'db-b', port: 5432, weight: 20 },
          ],
        },
      ],
    });
    expect(find(objects, 'Service', 'db').metadata.annotations).toEqual({
      'config.linkerd.io/opaque-ports': '5432',
    });
    expect(find(objects, 'Server', 'db').spec!.proxyProtocol).toBe('opaque');
  });

  it('turns outlier detection into consecutive failure accrual on the Services', () => {
    const { objects, diagnostics } = renderLinkerd(
      meshFrom(
        meshYaml({
          backends: `${TWO_VERSIONS}
      outlierDetection: { consecutiveErrors: 7, interval: 10s, baseEjectionTime: 45s, maxEjectionPercent: 50 }`,
        }),
      ),
    );
    const expected = {
      'balancer.linkerd.io/failure-accrual': 'consecutive',
      'balancer.linkerd.io/failure-accrual-consecutive-max-failures': '7',
      'balancer.linkerd.io/failure-accrual-consecutive-min-penalty': '45s',
      'balancer.linkerd.io/failure-accrual-consecutive-max-penalty': '5m',
    };
    expect(find(objects, 'Service', 'reviews').metadata.annotations).toEqual(expected);
    expect(find(objects, 'Service', 'reviews-v2').metadata.annotations).toEqual(expected);
    expect(
      diagnostics.some((d) => d.code === 'MG3002' && d.pointer === '/spec/backends/0/outlierDetection'),
    ).toBe(true);
  });

  it('names a version Service apart when another backend holds <backend>-<version>', () => {
    const { objects } = renderLinkerd(
      meshFrom(
        meshYaml({
          backends: `${TWO_VERSIONS}
    - { name: reviews-v1, port: 80, versions: [{ name: v1 }] }`,
          routes: `    - name: r\n      parent: { backend: reviews }\n      to: [{ backend: reviews, version: v1 }]`,
        }),
      ),
    );
    expect(find(objects, 'Service', 'reviews-v1').spec!.selector).toEqual({ app: 'reviews-v1' });
    expect(find(objects, 'Service', 'reviews-version-v1').spec!.selector).toEqual({
      app: 'reviews',
      version: 'v1',
    });
    expect(find(objects, 'HTTPRoute', 'reviews').spec!.rules![0]!.backendRefs![0]!.name).toBe(
      'reviews-version-v1',
    );
  });
});

describe('linkerd: frontend details', () => {
  const frontend = (f: string, route = '      to: [{ backend: reviews }]') =>
    meshFrom(
      meshYaml({
        backends: TWO_VERSIONS,
        frontends: `    - ${f}`,
        routes: `    - name: r\n      parent: { frontend: f }\n${route}`,
      }),
    );

  it('checks client certificates against a ConfigMap and says how to create it', () => {
    const { objects, diagnostics } = renderLinkerd(
      frontend('{ name: f, port: 443, protocol: https, tls: { secretName: s, clientCa: certs/ca.pem } }'),
    );
    expect(find(objects, 'Gateway', 'f').spec!.tls).toEqual({
      frontend: {
        default: {
          validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'f-client-ca' }] },
        },
      },
    });
    expect(
      diagnostics.find((d) => d.code === 'MG3005' && d.pointer === '/spec/frontends/0/tls/clientCa')?.hint,
    ).toBe('kubectl -n t create configmap f-client-ca --from-file=ca.crt=certs/ca.pem');
  });

  it('forwards tls-passthrough over a TCP listener and reports the unchecked SNI hosts', () => {
    const { objects, diagnostics } = renderLinkerd(
      meshFrom(
        meshYaml({
          backends: '    - { name: tls, port: 9443, protocol: tcp, versions: [{ name: v1 }] }',
          frontends: '    - { name: f, port: 8443, protocol: tls-passthrough, hosts: [a.example.com] }',
          routes: '    - { name: r, parent: { frontend: f }, to: [{ backend: tls }] }',
        }),
      ),
    );
    expect(find(objects, 'Gateway', 'f').spec!.listeners).toEqual([
      { name: 'tcp', port: 8443, protocol: 'TCP' },
    ]);
    expect(find(objects, 'TCPRoute', 'f').spec!.parentRefs).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'f' },
    ]);
    expect(diagnostics.some((d) => d.code === 'MG3002' && d.message.includes('a.example.com'))).toBe(true);
  });

  it('rejects a gatewayClass that is not a valid name with a diagnostic', () => {
    // refused by the setting's declaration before rendering, and by the emitter when called alone
    const mesh = frontend('{ name: f, port: 80, protocol: http }');
    const refused = render(mesh, { targets: ['linkerd'], settings: { gatewayClass: 'Not Valid' } });
    expect(refused.outputs).toEqual([]);
    expect(refused.diagnostics.map((d) => [d.code, d.severity])).toEqual([['MG4003', 'error']]);
    const alone = linkerd.emit(mesh, { settings: { gatewayClass: 'Not Valid' } });
    expect(alone.diagnostics.filter((d) => d.code === 'MG4003').map((d) => d.severity)).toEqual(['error']);
    expect(alone.files.some((f) => f.contents.includes('gatewayClassName: eg'))).toBe(true);
  });
});
