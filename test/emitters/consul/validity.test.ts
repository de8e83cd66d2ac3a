import { describe, expect, it } from 'vitest';
import { validateObject } from '../../support/crds.js';
import { EXAMPLES, exampleMesh } from '../../support/meshes.js';
import { checkEntry } from './api-fields.js';
import { crdObjects, emitConsul, jsonEntries, parseHcl, type Loose } from './helpers.js';

describe.each(EXAMPLES)('example %s', (example) => {
  it('emits custom resources that the official consul-k8s CRDs accept (unknown fields rejected)', () => {
    const objects = crdObjects(exampleMesh(example));
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      const r = validateObject(o);
      expect(r.errors, `${String(o.kind)} ${JSON.stringify((o.metadata as { name: string }).name)}`).toEqual(
        [],
      );
    }
  });

  it('emits JSON config entries whose keys are fields of the Consul api structs', () => {
    const entries = jsonEntries(exampleMesh(example));
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(checkEntry(e), `${e.Kind} ${e.Name}`).toEqual([]);
  });

  it('emits HCL that reads back to the same entries as the JSON flavour', () => {
    const mesh = exampleMesh(example);
    const hcl = emitConsul(mesh, 'hcl').files;
    const json = emitConsul(mesh, 'json').files;
    expect(hcl.map((f) => f.path.replace(/\.hcl$/, ''))).toEqual(
      json.map((f) => f.path.replace(/\.json$/, '')),
    );
    hcl.forEach((f, i) => expect(parseHcl(f.contents), f.path).toEqual(JSON.parse(json[i]!.contents)));
  });

  it('gives the same diagnostics in every flavour', () => {
    const mesh = exampleMesh(example);
    const crd = emitConsul(mesh, 'crd').diagnostics;
    expect(emitConsul(mesh, 'hcl').diagnostics).toEqual(crd);
    expect(emitConsul(mesh, 'json').diagnostics).toEqual(crd);
  });
});

describe('the checks themselves', () => {
  it('reject a misspelt CRD field', () => {
    const router = crdObjects(exampleMesh('shop')).find((o) => o.kind === 'ServiceRouter') as Record<
      string,
      Loose
    >;
    expect(validateObject(router).ok).toBe(true);
    const bad = structuredClone(router);
    bad.spec.routes[0].destination.requestTimeOut = bad.spec.routes[0].destination.requestTimeout;
    delete bad.spec.routes[0].destination.requestTimeout;
    expect(validateObject(bad).ok).toBe(false);
    const pascal = structuredClone(router);
    pascal.spec.routes[0].Destination = pascal.spec.routes[0].destination;
    delete pascal.spec.routes[0].destination;
    expect(validateObject(pascal).ok).toBe(false);
  });

  it('reject a misspelt or camelCase config-entry key, and a duration that is not Go syntax', () => {
    const router = jsonEntries(exampleMesh('shop')).find((e) => e.Kind === 'service-router')!;
    expect(checkEntry(router)).toEqual([]);
    expect(checkEntry({ ...router, routes: router.Routes })).toContain('/routes: unknown field');
    const bad = structuredClone(router);
    bad.Routes[0].Destination.RequestTimeout = 3000;
    expect(checkEntry(bad).join()).toMatch(/RequestTimeout: expected a Go duration/);
  });

  it('validates the IngressGateway kind against its vendored CRD', () => {
    const gw = crdObjects(exampleMesh('shop')).find((o) => o.kind === 'IngressGateway') as Record<
      string,
      Loose
    >;
    expect(validateObject(gw).ok).toBe(true);
    gw.spec.listeners[0].service = gw.spec.listeners[0].services;
    expect(validateObject(gw).ok).toBe(false);
  });

  it('reports an unknown consul format instead of throwing', () => {
    const r = emitConsul(exampleMesh('hello'), 'yaml');
    expect(r.files).toEqual([]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG4003']);
  });
});
