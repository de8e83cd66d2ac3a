import { describe, expect, it } from 'vitest';
import { emitEnvoy } from '../../../src/emitters/envoy/index.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { cluster, effective, listener, renderEnvoy } from './helpers.js';

describe('settings', () => {
  it('writes YAML by default and JSON with --output-format json', () => {
    const mesh = exampleMesh('hello');
    expect(renderEnvoy(mesh).texts['gateway.yaml']).toMatch(/^node:\n/);
    const json = renderEnvoy(mesh, { format: 'json' }).texts['gateway.json']!;
    expect(JSON.parse(json).node.id).toBe('hello-gateway');
  });

  it('rejects another output format with a diagnostic and writes nothing', () => {
    const r = emitEnvoy(exampleMesh('hello'), { format: 'toml' });
    expect(r.files).toEqual([]);
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([['MG4003', 'error']]);
  });

  it('takes certDir, adminPort, inboundPort and discoveryDir from --set', () => {
    const rendered = renderEnvoy(exampleMesh('shop'), {
      settings: {
        certDir: '/run/certs/',
        adminPort: '9901',
        inboundPort: '16006',
        discoveryDir: '/run/xds/',
      },
    });
    const web = effective(rendered, 'sidecar-web.yaml');
    expect(web.admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 9901 });
    expect(listener(web, 'inbound').address.socket_address.port_value).toBe(16006);
    expect(web.static_resources.secrets[0].tls_certificate.private_key.filename).toBe('/run/certs/web.key');
    const ctx = cluster(web, 'catalog|v1').transport_socket.typed_config.common_tls_context;
    expect(ctx.validation_context.trusted_ca.filename).toBe('/run/certs/ca.crt');
    const dynamic = rendered.boots['sidecar-web.yaml'].dynamic_resources;
    expect(dynamic.lds_config.path_config_source.path).toBe('/run/xds/outbound-listeners.yaml');
    expect(dynamic.cds_config.path_config_source.path).toBe('/run/xds/outbound-clusters.yaml');
  });

  it('puts the discovery files in /etc/envoy/meshgen by default', () => {
    const { boots } = renderEnvoy(exampleMesh('hello'), { format: 'json' });
    expect(boots['sidecar-hello.json'].dynamic_resources.lds_config.path_config_source.path).toBe(
      '/etc/envoy/meshgen/outbound-listeners.json',
    );
  });

  it.each([
    [{ adminPort: '0' }, /adminPort=0 is not a port/],
    [{ inboundPort: 'x' }, /inboundPort=x is not a port/],
    [{ adminPort: '15006' }, /both 15006/],
    [{ certDir: '' }, /certDir is empty/],
    [{ discoveryDir: 'xds' }, /discoveryDir="xds" is not an absolute folder/],
    [{ discoveryDir: '/a\nb' }, /discoveryDir="\/a\\nb" is not an absolute folder/],
  ])('reports a bad setting %o', (settings, message) => {
    const r = emitEnvoy(exampleMesh('hello'), { settings });
    expect(r.files).toEqual([]);
    expect(r.diagnostics[0]?.code).toBe('MG4003');
    expect(r.diagnostics[0]?.message).toMatch(message);
  });

  it('reports a backend port that collides with the inbound or admin port', () => {
    const r = emitEnvoy(exampleMesh('hello'), { settings: { inboundPort: '8080', adminPort: '8000' } });
    expect(r.files).toEqual([]);
    expect(r.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
      ['MG4003', '/spec/backends/0/port'],
      ['MG4003', '/spec/frontends/0/port'],
    ]);
  });

  it("reports an app port where its sidecar also listens for a backend's callers (MG3007)", () => {
    const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: clash }
spec:
  backends:
    - name: a
      port: 8080
      versions: [{ name: v1, endpoints: ["10.0.0.1:8080", "10.0.0.2:8080"] }]
    - name: b
      port: 9000
      versions: [{ name: v1, endpoints: ["10.0.0.3:7000"] }, { name: v2, endpoints: ["10.0.0.4:8080"] }]
`);
    const r = emitEnvoy(mesh, {});
    expect(r.files).toEqual([]);
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.pointer])).toEqual([
      ['MG3007', 'error', '/spec/backends/0/versions/0/endpoints/0'],
      ['MG3007', 'error', '/spec/backends/1/versions/1/endpoints/0'],
    ]);
    expect(r.diagnostics[0]!.message).toMatch(/backend "a" runs on port 8080/);
    expect(r.diagnostics[1]!.message).toMatch(
      /backend "b" runs on port 8080 .* backend "a" \(127\.0\.0\.1:8080\)/,
    );
  });

  it('warns, and writes the bootstraps, when the clashing listener has a loopback address of its own', () => {
    // both on 8080, as Kubernetes meshes often are: each gets its own 127.x address
    const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: shared }
spec:
  backends:
    - { name: a, port: 8080, versions: [{ name: v1, endpoints: ["10.0.0.1:8080"] }] }
    - { name: b, port: 8080, versions: [{ name: v1, endpoints: ["10.0.0.2:8080"] }] }
`);
    const r = emitEnvoy(mesh, {});
    const found = r.diagnostics.filter((d) => d.code === 'MG3007');
    expect(found.map((d) => [d.severity, d.pointer])).toEqual([
      ['warning', '/spec/backends/0/versions/0/endpoints/0'],
      ['warning', '/spec/backends/0/versions/0/endpoints/0'],
      ['warning', '/spec/backends/1/versions/0/endpoints/0'],
      ['warning', '/spec/backends/1/versions/0/endpoints/0'],
    ]);
    expect(found[0]!.message).toMatch(/must listen on 127\.0\.0\.1:8080 only/);
    expect(r.files.map((f) => f.path)).toEqual([
      'hosts',
      'outbound-clusters.yaml',
      'outbound-listeners.yaml',
      'sidecar-a.yaml',
      'sidecar-b.yaml',
    ]);
  });

  const withoutEndpoints = (to: string) =>
    meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: empty }
spec:
  backends:
    - name: a
      port: 80
      versions: [{ name: v1, endpoints: ["127.0.0.1:1080"] }, { name: v2 }]
  routes:
    - name: a
      parent: { backend: a }
      to: [${to}]
`);

  it('reports a version without endpoints that a route sends to (MG3003), once, and writes nothing', () => {
    const r = emitEnvoy(withoutEndpoints('{ backend: a, version: v2 }'), {});
    const errors = r.diagnostics.filter((d) => d.code === 'MG3003');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ severity: 'error', pointer: '/spec/backends/0/versions/1' });
    expect(errors[0]!.message).toMatch(/version "v2" of backend "a" has no endpoints/);
    expect(r.files).toEqual([]);
  });

  it('reports a version without endpoints even when no route names it (MG3003)', () => {
    const r = emitEnvoy(withoutEndpoints('{ backend: a, version: v1 }'), {});
    expect(r.diagnostics.filter((d) => d.code === 'MG3003').map((d) => d.pointer)).toEqual([
      '/spec/backends/0/versions/1',
    ]);
    expect(r.files).toEqual([]);
  });

  it('writes the bootstraps when every version has endpoints', () => {
    const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: full }
spec:
  backends:
    - name: a
      port: 80
      versions: [{ name: v1, endpoints: ["127.0.0.1:1080"] }]
`);
    const r = emitEnvoy(mesh, {});
    expect(r.diagnostics.filter((d) => d.code === 'MG3003')).toEqual([]);
    expect(r.files.map((f) => f.path)).toEqual([
      'hosts',
      'outbound-clusters.yaml',
      'outbound-listeners.yaml',
      'sidecar-a.yaml',
    ]);
  });
});

describe('sidecars setting and the output size', () => {
  it('writes the sidecars of the backends named in --set sidecars, and none when it is empty', () => {
    const mesh = exampleMesh('shop');
    const some = emitEnvoy(mesh, { settings: { sidecars: 'web, catalog' } });
    expect(some.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(some.files.map((f) => f.path)).toEqual([
      'gateway.yaml',
      'hosts',
      'outbound-clusters.yaml',
      'outbound-listeners.yaml',
      'sidecar-catalog.yaml',
      'sidecar-web.yaml',
    ]);
    // the same text as in a render of every sidecar
    const all = emitEnvoy(mesh, {});
    const text = (files: readonly { path: string; contents: string }[], path: string) =>
      files.find((f) => f.path === path)?.contents;
    for (const path of ['sidecar-web.yaml', 'outbound-listeners.yaml', 'outbound-clusters.yaml'])
      expect(text(some.files, path)).toBe(text(all.files, path));
    const none = emitEnvoy(mesh, { settings: { sidecars: '' } });
    expect(none.files.map((f) => f.path)).toEqual(['gateway.yaml', 'hosts']);
  });

  it('reports a name in --set sidecars that is not a backend, and writes nothing', () => {
    const r = emitEnvoy(exampleMesh('shop'), { settings: { sidecars: 'web,nope' } });
    expect(r.files).toEqual([]);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['MG4003']);
    expect(errors[0]!.message).toMatch(/"nope", which is not a backend/);
  });

  it('grows with the mesh, not with its square: each sidecar holds only its own side', async () => {
    const { generateMesh } = await import('../../../bench/gen-mesh.mjs');
    // 450 backends once made about 1.4 GB of text, every sidecar holding every backend (MG3008)
    const size = (n: number) => {
      const r = emitEnvoy(meshFrom(generateMesh(n)), {});
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const bytes = (prefix: string) =>
        r.files.filter((f) => f.path.startsWith(prefix)).reduce((sum, f) => sum + f.contents.length, 0);
      return { sidecars: bytes('sidecar-'), shared: bytes('outbound-') };
    };
    const small = size(50);
    const big = size(450);
    // nine times the backends: about nine times the text (the square would be 81 times)
    expect(big.sidecars / small.sidecars).toBeLessThan(12);
    expect(big.shared / small.shared).toBeLessThan(12);
    expect(big.sidecars + big.shared).toBeLessThan(50e6);
  });
});
