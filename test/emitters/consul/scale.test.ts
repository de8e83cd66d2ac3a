import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../../bench/gen-mesh.mjs';
import { buildEntries } from '../../../src/emitters/consul/index.js';
import { meshFrom } from '../../support/meshes.js';

describe('scale', () => {
  // how the time grows is measured side by side by bench/render.mjs (its scaling figure), not here
  it('builds a number of entries linear in the mesh', () => {
    const count = (n: number) => buildEntries(meshFrom(generateMesh(n) as string)).built.length;
    const small = count(1000);
    expect(count(4000)).toBe(4 * small);
  });

  it('keeps output linear when every backend has the same circuit breaker (UpstreamConfig.Defaults)', () => {
    const out = buildEntries(meshFrom(generateMesh(300) as string));
    const defaults = out.built.filter((b) => b.entry.Kind === 'service-defaults' && b.entry.UpstreamConfig);
    for (const d of defaults) expect(Object.keys(d.entry.UpstreamConfig as object)).toEqual(['Defaults']);
  });
});
