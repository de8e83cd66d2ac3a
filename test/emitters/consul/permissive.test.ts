/**
 * The entries a stock Consul accepts, written in file order as `consul config write` does; the
 * server's checks are modelled in test/support/consul-store.ts from hashicorp/consul
 * agent/consul/state/config_entry.go (checkMutualTLSMode) and agent/consul/discoverychain/compile.go.
 */
import { describe, expect, it } from 'vitest';
import { consul } from '../../../src/emitters/consul/index.js';
import { expandHeaderValue } from '../../../src/dataplane/http/headers.js';
import { writeEntries } from '../../support/consul-store.js';
import { envoyHeaderFormatError } from '../../support/istio-validation.js';
import { validateObject } from '../../support/crds.js';
import { EXAMPLES, exampleMesh, meshFrom } from '../../support/meshes.js';
import { crdObjects, emitConsul, jsonEntries } from './helpers.js';
import type { ResolvedMesh } from '../../../src/model/types.js';

/** The JSON entries in the order of their files, which is the order they are written in. */
function written(mesh: ResolvedMesh, settings: Record<string, string> = {}) {
  const r = consul.emit(mesh, { settings: { consulFormat: 'json', ...settings } });
  return {
    entries: r.files.map((f) => JSON.parse(f.contents) as Record<string, any>),
    paths: r.files.map((f) => f.path),
    diagnostics: r.diagnostics,
  };
}

describe('consul: MutualTLSMode permissive on a stock Consul', () => {
  it('hello (mtls permissive by default) is accepted: the mesh entry comes first and allows it', () => {
    const { entries, paths } = written(exampleMesh('hello'));
    expect(paths[0]).toBe('0-mesh-mesh.json');
    expect(entries[0]).toEqual({ Kind: 'mesh', AllowEnablingPermissiveMutualTLS: true });
    expect(entries.some((e) => e.Kind === 'service-defaults' && e.MutualTLSMode === 'permissive')).toBe(true);
    expect(writeEntries(entries)).toEqual([]);
  });

  it('without the mesh entry, the service-defaults is refused and the router and splitter after it', () => {
    const { entries } = written(exampleMesh('hello'));
    const refused = writeEntries(entries.filter((e) => e.Kind !== 'mesh'));
    expect(refused.map((r) => r.kind)).toContain('service-defaults');
    // the splitter that sends to "hello" (now tcp) is refused in turn
    expect(
      refused.some((r) => r.kind === 'service-splitter' && /inconsistent protocols/.test(r.reason)),
    ).toBe(true);
  });

  it.each(EXAMPLES)('every entry of example %s is accepted in file order', (example) => {
    expect(writeEntries(written(exampleMesh(example)).entries)).toEqual([]);
  });

  it('writes no mesh entry for a strict mesh', () => {
    const { entries } = written(exampleMesh('tcp'));
    expect(entries.filter((e) => e.Kind === 'mesh')).toEqual([]);
  });

  it('with --set consulMeshEntry=false writes none and says what the cluster must set (MG3009)', () => {
    const { entries, diagnostics } = written(exampleMesh('hello'), { consulMeshEntry: 'false' });
    expect(entries.filter((e) => e.Kind === 'mesh')).toEqual([]);
    const d = diagnostics.filter((x) => x.code === 'MG3009');
    expect(d).toHaveLength(1);
    expect(d[0]!.hint).toContain('AllowEnablingPermissiveMutualTLS = true');
    expect(
      written(exampleMesh('hello'), { consulMeshEntry: 'maybe' }).diagnostics.map((x) => x.code),
    ).toContain('MG4003');
  });

  it('as a custom resource: a Mesh named "mesh" that the consul-k8s CRD accepts', () => {
    const meshes = crdObjects(exampleMesh('hello')).filter((o) => o.kind === 'Mesh');
    expect(meshes).toHaveLength(1);
    const m = meshes[0] as { metadata: { name: string }; spec: unknown };
    // consul-k8s control-plane/api/v1alpha1/mesh_webhook.go refuses any other name
    expect(m.metadata.name).toBe('mesh');
    expect(m.spec).toEqual({ allowEnablingPermissiveMutualTLS: true });
    expect(validateObject(m as Record<string, unknown>).errors).toEqual([]);
  });

  it('as HCL: Kind and the field, without a Name (the mesh entry has none: api/config_entry_mesh.go)', () => {
    const hcl = emitConsul(exampleMesh('hello'), 'hcl').files.find((f) => f.path === '0-mesh-mesh.hcl')!;
    expect(hcl.contents).toBe('Kind = "mesh"\nAllowEnablingPermissiveMutualTLS = true\n');
  });
});

describe('consul: header values with %', () => {
  const values = ['100%', '%START_TIME%', 'a%%b', '%'];
  const mesh = meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  mtls: { mode: strict }
  backends:
    - name: app
      port: 8080
      versions: [{ name: v1 }, { name: v2 }]
  routes:
    - name: r
      parent: { backend: app }
      to: [{ backend: app, version: v1 }]
      headers:
        request: { set: { x-a: "${values[0]}", x-b: "${values[1]}" }, add: { x-c: "${values[2]}" } }
        response: { set: { x-d: "${values[3]}" } }`);

  it('writes % as %%: Envoy reads the value Consul hands it as a format string (agent/xds/routes.go)', () => {
    const router = jsonEntries(mesh).find((e) => e.Kind === 'service-router')!;
    const d = router.Routes[0].Destination;
    const got = [
      d.RequestHeaders.Set['x-a'],
      d.RequestHeaders.Set['x-b'],
      d.RequestHeaders.Add['x-c'],
      d.ResponseHeaders.Set['x-d'],
    ];
    expect(got[0]).toBe('100%%');
    for (const v of got) expect(envoyHeaderFormatError(v), v).toBeUndefined();
    const ctx = { start: 0, upstreamHost: '', protocol: 'HTTP/1.1', conn: { remoteIp: '', socket: {} } };
    expect(got.map((v) => expandHeaderValue(v, ctx))).toEqual(values);
  });
});
