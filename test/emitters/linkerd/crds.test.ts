import { describe, expect, it } from 'vitest';
import { validateObject } from '../../support/crds.js';
import { EXAMPLES, exampleMesh, meshFrom } from '../../support/meshes.js';
import { find, meshYaml, renderLinkerd } from './support.js';

/** Uses every feature the linkerd target renders, so every object shape meets its CRD. */
export const KITCHEN_SINK = meshYaml({
  spec: '  trustDomain: example.org\n  mtls: { mode: strict }\n  defaultAccess: deny',
  backends: `
    - name: api
      port: 8080
      protocol: http2
      versions:
        - { name: v1, labels: { version: v1 } }
        - { name: v2, labels: { version: v2 } }
      outlierDetection: { consecutiveErrors: 3, interval: 5s, baseEjectionTime: 1500ms, maxEjectionPercent: 50 }
    - name: users
      namespace: people
      serviceAccount: users-sa
      port: 8081
      protocol: grpc
      versions:
        - { name: v1, labels: { track: stable } }
      mtls: { mode: permissive }
    - name: legacy
      port: 8082
      versions:
        - { name: v1 }
      mtls: { mode: disabled }
    - name: db
      port: 5432
      protocol: tcp
      versions:
        - { name: a, labels: { release: a } }
        - { name: b, labels: { release: b } }`,
  frontends: `
    - name: edge
      port: 443
      protocol: https
      hosts: [a.example.com, "*.example.org"]
      tls: { secretName: edge-tls, clientCa: certs/ca.crt }
    - name: plain
      port: 80
      protocol: http
    - name: sql
      port: 15432
      protocol: tcp
    - name: pass
      port: 8443
      protocol: tls-passthrough
      hosts: [secure.example.com]`,
  routes: `
    - name: api-regex
      parent: { backend: api }
      match:
        - path: { regex: "/items/[0-9]+" }
          headers: { x-user: { prefix: "adm" }, x-trace: { present: true } }
          queryParams: { debug: { exact: "1" }, v: { regex: "[a-z]+" } }
          method: PUT
      to:
        - { backend: api, version: v2 }
      timeout: 100001ms
      retries: { attempts: 2, perTryTimeout: 250ms, on: [retriable-4xx, "503"] }
      headers:
        request: { set: { x-a: "1" }, add: { x-b: "2" }, remove: [x-c] }
        response: { set: { x-d: "3" }, add: { x-e: "4" }, remove: [server] }
    - name: api-split
      parent: { backend: api }
      to:
        - { backend: api, version: v1, weight: 90 }
        - { backend: api, version: v2, weight: 10 }
      timeout: 1m30s
    - name: edge-users
      parent: { frontend: edge, hosts: [a.example.com] }
      match:
        - path: { prefix: /users/ }
      to:
        - { backend: users }
      rewrite: { pathPrefix: /, host: users.internal }
      timeout: 1h30m
      retries: { attempts: 3, perTryTimeout: 2s, on: [5xx, reset] }
    - name: plain-all
      parent: { frontend: plain }
      to:
        - { backend: api, version: v1 }
    - name: sql
      parent: { frontend: sql }
      to:
        - { backend: db, version: a, weight: 50 }
        - { backend: db, version: b, weight: 50 }
    - name: pass
      parent: { frontend: pass }
      to:
        - { backend: db }
    - name: db-split
      parent: { backend: db }
      to:
        - { backend: db, version: a, weight: 80 }
        - { backend: db, version: b, weight: 20 }`,
  access: `
    - backend: api
      allow:
        - from: [plain]
        - from: [users]
          paths: [/admin/*, /status]
          methods: [GET, POST]
        - from: ["*"]
          paths: [/admin/reports/*]
          methods: [GET]
    - backend: db
      allow:
        - from: [api, sql]`,
});

function invalid(objects: ReturnType<typeof renderLinkerd>['objects']) {
  return objects
    .map((o) => ({ id: `${o.apiVersion} ${o.kind}/${o.metadata.name}`, r: validateObject(o) }))
    .filter((x) => !x.r.ok)
    .map((x) => `${x.id}: ${x.r.errors.join('; ')}`);
}

describe('linkerd objects against the official CRDs', () => {
  it.each(EXAMPLES)('every object of example %s validates with unknown fields rejected', (example) => {
    const { objects } = renderLinkerd(exampleMesh(example));
    expect(objects.length).toBeGreaterThan(0);
    expect(invalid(objects)).toEqual([]);
  });

  it('every object of a mesh using every rendered feature validates', () => {
    const { objects } = renderLinkerd(meshFrom(KITCHEN_SINK), { gatewayClass: 'istio' });
    const kinds = new Set(objects.map((o) => `${o.apiVersion}|${o.kind}`));
    expect([...kinds].sort()).toEqual([
      'gateway.networking.k8s.io/v1alpha2|TCPRoute',
      'gateway.networking.k8s.io/v1beta1|ReferenceGrant',
      'gateway.networking.k8s.io/v1|Gateway',
      'gateway.networking.k8s.io/v1|HTTPRoute',
      'policy.linkerd.io/v1alpha1|AuthorizationPolicy',
      'policy.linkerd.io/v1alpha1|MeshTLSAuthentication',
      'policy.linkerd.io/v1beta3|HTTPRoute',
      'policy.linkerd.io/v1beta3|Server',
      'v1|Namespace',
      'v1|Service',
    ]);
    expect(invalid(objects)).toEqual([]);
  });

  it('rejects a misspelt field, so the checks above can fail', () => {
    const { objects } = renderLinkerd(exampleMesh('shop'));
    const route = structuredClone(find(objects, 'HTTPRoute', 'catalog'));
    const ref = route.spec!.rules![0]!.backendRefs![0]! as unknown as Record<string, unknown>;
    ref.Weight = ref.weight;
    delete ref.weight;
    expect(validateObject(route).ok).toBe(false);
    const server = structuredClone(find(objects, 'Server', 'payments'));
    (server.spec as Record<string, unknown>).podSelectr = server.spec!.podSelector;
    expect(validateObject(server).ok).toBe(false);
  });
});

describe('linkerd objects within the CRDs limits', () => {
  it('splits 70 match entries into rules of at most 64 and 20 routes into HTTPRoutes of at most 16 rules', () => {
    const entries = Array.from({ length: 70 }, (_, i) => `        - path: { exact: /p${i} }`).join('\n');
    const many = Array.from(
      { length: 20 },
      (_, i) =>
        `    - name: r${i}\n      parent: { backend: api }\n      match: [{ headers: { x-r: { exact: "${i}" } } }]\n      to: [{ backend: api }]`,
    ).join('\n');
    const mesh = meshFrom(
      meshYaml({
        backends:
          '    - { name: api, port: 80, versions: [{ name: v1 }] }\n    - { name: big, port: 81, versions: [{ name: v1 }] }',
        routes: `    - name: big\n      parent: { backend: big }\n      match:\n${entries}\n      to: [{ backend: big }]\n${many}`,
      }),
    );
    const { objects } = renderLinkerd(mesh);
    expect(find(objects, 'HTTPRoute', 'big').spec!.rules!.map((r) => r.matches!.length)).toEqual([64, 6]);
    expect(find(objects, 'HTTPRoute', 'api').spec!.rules).toHaveLength(16);
    expect(find(objects, 'HTTPRoute', 'api-2').spec!.rules).toHaveLength(4);
    expect(invalid(objects)).toEqual([]);
  });

  it('gives each prefix its own rule when a frontend route rewrites with ReplacePrefixMatch', () => {
    const mesh = meshFrom(
      meshYaml({
        backends: '    - { name: api, port: 80, versions: [{ name: v1 }] }',
        frontends: '    - { name: web, port: 8080, protocol: http }',
        routes:
          '    - name: r\n      parent: { frontend: web }\n      match: [{ path: { prefix: /a/ } }, { path: { prefix: /b/ } }]\n      to: [{ backend: api }]\n      rewrite: { pathPrefix: /v2/ }',
      }),
    );
    const rules = find(renderLinkerd(mesh).objects, 'HTTPRoute', 'web').spec!.rules!;
    expect(rules.map((r) => r.matches)).toEqual([
      [{ path: { type: 'PathPrefix', value: '/a/' } }],
      [{ path: { type: 'PathPrefix', value: '/b/' } }],
    ]);
  });

  it('puts at most 8 matches in a rule of a policy.linkerd.io HTTPRoute', () => {
    const mesh = meshFrom(
      meshYaml({
        spec: '  mtls: { mode: strict }',
        backends:
          '    - { name: api, port: 80, versions: [{ name: v1 }] }\n    - { name: c, port: 81, versions: [{ name: v1 }] }',
        access:
          '    - backend: api\n      allow:\n        - from: [c]\n          paths: [/a, /b, /c, /d, /e/*]\n          methods: [GET, POST]',
      }),
    );
    const { objects } = renderLinkerd(mesh);
    expect(
      find(objects, 'HTTPRoute', 'api-authz-0', 'policy.linkerd.io/v1beta3').spec!.rules!.map(
        (r) => r.matches!.length,
      ),
    ).toEqual([8, 2]);
    expect(invalid(objects)).toEqual([]);
  });
});
