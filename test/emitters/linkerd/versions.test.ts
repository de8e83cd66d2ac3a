/**
 * What the Linkerd target writes depends on the Linkerd release (`--set version=`), as the policy
 * controller of each release reads it (linkerd/linkerd2, tags version-2.16 to version-2.20).
 */
import { describe, expect, it } from 'vitest';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { validateObject } from '../../support/crds.js';
import { TWO_VERSIONS, find, meshYaml, renderLinkerd } from './support.js';

const timed = meshFrom(
  meshYaml({
    backends: TWO_VERSIONS,
    routes: `    - name: r\n      parent: { backend: reviews }\n      to: [{ backend: reviews, version: v1 }]\n      timeout: 3s`,
  }),
);

describe('linkerd versions: request timeouts', () => {
  // policy-controller/k8s/index/src/outbound/index/http.rs, convert_gateway_rule: until PR 14750
  // (edge-25.11.3, 2.20) the rule's timeouts are not read for a gateway.networking.k8s.io HTTPRoute on
  // a Service; parse_timeouts reads the timeout.linkerd.io/request annotation in every version.
  it.each(['2.16', '2.17', '2.18', '2.19', 'edge-25.11.2'])(
    'at %s writes the timeout.linkerd.io/request annotation, not rules[].timeouts',
    (version) => {
      const { objects, diagnostics } = renderLinkerd(timed, { version });
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const route = find(objects, 'HTTPRoute', 'reviews', 'gateway.networking.k8s.io/v1');
      expect(route.metadata.annotations).toEqual({ 'timeout.linkerd.io/request': '3s' });
      expect(route.spec!.rules![0]!.timeouts).toBeUndefined();
      for (const o of objects) expect(validateObject(o).errors, `${o.kind} ${o.metadata.name}`).toEqual([]);
    },
  );

  it.each(['2.20', 'edge-25.11.3', undefined])('at %s writes rules[].timeouts.request', (version) => {
    const { objects } = renderLinkerd(timed, version ? { version } : {});
    const route = find(objects, 'HTTPRoute', 'reviews', 'gateway.networking.k8s.io/v1');
    expect(route.spec!.rules![0]!.timeouts).toEqual({ request: '3s' });
    expect(route.metadata.annotations).toBeUndefined();
  });

  it('splits routes with different annotation timeouts into HTTPRoutes of their own before 2.20', () => {
    const mesh = meshFrom(
      meshYaml({
        backends: TWO_VERSIONS,
        routes: [
          '    - name: fast\n      parent: { backend: reviews }\n      match: [{ path: { prefix: /fast } }]\n      to: [{ backend: reviews }]\n      timeout: 1s',
          '    - name: slow\n      parent: { backend: reviews }\n      to: [{ backend: reviews }]\n      timeout: 9s',
        ].join('\n'),
      }),
    );
    const { objects } = renderLinkerd(mesh, { version: '2.19' });
    const routes = objects.filter((o) => o.kind === 'HTTPRoute' && o.apiVersion.startsWith('gateway'));
    expect(routes.map((r) => r.metadata.annotations?.['timeout.linkerd.io/request']).sort()).toEqual([
      '1s',
      '9s',
    ]);
  });
});

describe('linkerd versions: TCP routes on backends', () => {
  // 2.16 does not index TCPRoutes for outbound policy; 2.17's policy-controller/grpc/src/outbound.rs
  // (to_proto) answers an opaque port with the default route only; PR 13948 (edge-25.4.4, 2.18)
  // reads TCPRoutes on opaque ports. The TCP backends meshgen writes are opaque
  // (config.linkerd.io/opaque-ports).
  it.each(['2.16', '2.17'])('at %s refuses a TCP split with MG3001 instead of a TCPRoute it ignores', (v) => {
    const { objects, diagnostics } = renderLinkerd(exampleMesh('tcp'), { version: v });
    const tcpRoutes = objects.filter((o) => o.kind === 'TCPRoute');
    // the frontend's TCPRoute is the Gateway implementation's to read: it stays
    expect(tcpRoutes.map((o) => o.metadata.name)).toEqual(['db-public']);
    const refused = diagnostics.filter((d) => d.code === 'MG3001' && d.pointer === '/spec/routes/0');
    expect(refused, JSON.stringify(diagnostics)).toHaveLength(1);
    expect(refused[0]!.message).toMatch(/postgres-upgrade.*split.*2\.18/);
    expect(refused[0]!.hint).toContain('--set linkerd.version=2.18');
  });

  it('at 2.18 writes the TCPRoute of the split', () => {
    const { objects, diagnostics } = renderLinkerd(exampleMesh('tcp'), { version: '2.18' });
    const route = find(objects, 'TCPRoute', 'postgres');
    expect(route.spec!.rules![0]!.backendRefs!.map((b) => b.weight)).toEqual([80, 20]);
    expect(diagnostics.filter((d) => d.pointer === '/spec/routes/0' && d.code === 'MG3001')).toEqual([]);
  });

  it('marks tcp approximate in the fidelity table before 2.18', async () => {
    const { linkerd } = await import('../../../src/emitters/linkerd/index.js');
    const at = (text: string) => linkerd.versions!.fidelity!(linkerd.versions!.parse!(text)!);
    expect(at('2.17').tcp).toBe('approximate');
    expect(at('2.18').tcp).toBe('exact');
    expect(linkerd.fidelity.tcp).toBe('exact');
  });
});

describe('linkerd: the identity of a frontend named by an access rule', () => {
  const mesh = exampleMesh('tcp');
  const identities = (settings: Record<string, string>) =>
    find(renderLinkerd(mesh, settings).objects, 'MeshTLSAuthentication', 'postgres-allow-0').spec!
      .identities as string[];

  it('warns that with the default class (Envoy Gateway) the assumed identity never matches (MG3009)', () => {
    const { diagnostics } = renderLinkerd(mesh);
    const warned = diagnostics.filter((d) => d.code === 'MG3009');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toMatch(/frontend "db-public".*envoy-data-db-public-<hash>.*never match/);
    expect(warned[0]!.hint).toContain('--set gatewayServiceAccount=');
    expect(identities({})).toContain('db-public.data.serviceaccount.identity.linkerd.cluster.local');
  });

  it('states the assumption for another class (MG3005)', () => {
    const { diagnostics } = renderLinkerd(mesh, { gatewayClass: 'istio' });
    expect(diagnostics.filter((d) => d.code === 'MG3009')).toEqual([]);
    expect(diagnostics.some((d) => d.code === 'MG3005' && /assumed to be/.test(d.message))).toBe(true);
  });

  it('takes the identity from --set gatewayServiceAccount, for all frontends or one', () => {
    const sa = 'envoy-gateway-system/envoy-data-db-public-6c4f2a1b';
    const want =
      'envoy-data-db-public-6c4f2a1b.envoy-gateway-system.serviceaccount.identity.linkerd.cluster.local';
    for (const value of [sa, `db-public:${sa}`]) {
      const { diagnostics } = renderLinkerd(mesh, { gatewayServiceAccount: value });
      expect(diagnostics.filter((d) => d.code === 'MG3009' || d.code === 'MG4003')).toEqual([]);
      expect(identities({ gatewayServiceAccount: value })).toEqual([
        'api.data.serviceaccount.identity.linkerd.cluster.local',
        want,
      ]);
    }
  });

  it('refuses a setting of neither form, or naming no frontend (MG4003)', () => {
    for (const value of ['just-a-name', 'nope:ns/sa', 'db-public:Bad_NS/sa'])
      expect(
        renderLinkerd(mesh, { gatewayServiceAccount: value }).diagnostics.map((d) => d.code),
        value,
      ).toContain('MG4003');
  });
});

describe('linkerd: frontend retries', () => {
  it('says that HTTPRoute retries on a Gateway need Envoy Gateway 1.3 or later', () => {
    const { diagnostics } = renderLinkerd(exampleMesh('shop'));
    const said = diagnostics.filter((d) => d.code === 'MG3005' && /retry field/.test(d.message));
    expect(said.length).toBeGreaterThan(0);
    expect(said[0]!.message).toContain('Envoy Gateway reads from 1.3 on');
  });
});
