import { describe, expect, it } from 'vitest';
import { validateObject } from '../../support/crds.js';
import { EXAMPLES, exampleMesh, meshFrom } from '../../support/meshes.js';
import { KITCHEN_SINK } from './kitchen-sink.js';
import { find, meshYaml, renderLinkerd } from './support.js';

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
