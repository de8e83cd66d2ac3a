import { describe, expect, it } from 'vitest';
import { validateObject } from '../../support/crds.js';
import { EXAMPLES, exampleMesh, meshFrom } from '../../support/meshes.js';
import { FULL_MESH } from './fixtures.js';
import { emitObjects } from './helpers.js';

describe('istio objects against the official CRDs (unknown fields rejected)', () => {
  it.each(EXAMPLES)('every object of example %s validates', (example) => {
    const { objects } = emitObjects(exampleMesh(example));
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects)
      expect(validateObject(o), `${o.kind} ${o.metadata.name}`).toEqual({ ok: true, errors: [] });
  });

  it('every object of a mesh using every feature validates', () => {
    const { objects } = emitObjects(meshFrom(FULL_MESH));
    const kinds = new Set(objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual([
      'AuthorizationPolicy',
      'DestinationRule',
      'Gateway',
      'PeerAuthentication',
      'Service',
      'ServiceAccount',
      'VirtualService',
    ]);
    for (const o of objects)
      expect(validateObject(o), `${o.kind} ${o.metadata.name}`).toEqual({ ok: true, errors: [] });
  });

  it('fails validation when an emitted field is misspelt (mirrorPercentage -> mirrorPercentag)', () => {
    const { find } = emitObjects(exampleMesh('shop'));
    const vs = structuredClone(find('VirtualService', 'catalog'));
    const route = vs.spec.http[0];
    expect(route.mirrorPercentage).toEqual({ value: 5 });
    route.mirrorPercentag = route.mirrorPercentage;
    delete route.mirrorPercentage;
    const result = validateObject(vs);
    expect(result.ok).toBe(false);
    expect(result.errors.join('\n')).toContain('mirrorPercentag');
  });

  it('fails validation on a wrong type (retries.attempts as a string)', () => {
    const { find } = emitObjects(exampleMesh('shop'));
    const vs = structuredClone(find('VirtualService', 'checkout'));
    vs.spec.http[0].retries.attempts = 'zero';
    expect(validateObject(vs).ok).toBe(false);
  });

  it.each(EXAMPLES)('every object of example %s carries the mesh labels', (example) => {
    const mesh = exampleMesh(example);
    for (const o of emitObjects(mesh).objects) {
      expect(o.metadata.labels['app.kubernetes.io/managed-by'], `${o.kind} ${o.metadata.name}`).toBe(
        'meshgen',
      );
      expect(o.metadata.labels['meshgen.io/mesh']).toBe(mesh.name);
    }
  });

  it('renders the same bytes twice', () => {
    const mesh = meshFrom(FULL_MESH);
    expect(emitObjects(mesh).files).toEqual(emitObjects(mesh).files);
  });
});

describe('istio durations against the CRD rule duration(self) >= duration("1ms")', () => {
  // the validator does not run CEL rules: this checks the duration fields they guard
  const DURATION_FIELDS = new Set(['timeout', 'perTryTimeout', 'fixedDelay', 'interval', 'baseEjectionTime']);
  function durations(value: unknown, out: string[] = []): string[] {
    if (Array.isArray(value)) value.forEach((v) => durations(v, out));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) {
        if (DURATION_FIELDS.has(k) && typeof v === 'string') out.push(v);
        else durations(v, out);
      }
    return out;
  }

  it('writes every duration as seconds of at least 1ms', () => {
    const all = [...EXAMPLES.map(exampleMesh), meshFrom(FULL_MESH)].flatMap((m) =>
      emitObjects(m).objects.flatMap((o) => durations(o.spec)),
    );
    expect(all.length).toBeGreaterThan(10);
    for (const d of all) {
      expect(d).toMatch(/^\d+(\.\d{1,9})?s$/);
      expect(Number(d.slice(0, -1))).toBeGreaterThanOrEqual(0.001);
    }
  });
});
