import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../../bench/gen-mesh.mjs';
import { buildEntries } from '../../../src/emitters/consul/index.js';
import { meshFrom } from '../../support/meshes.js';

function medianMs(fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2]!;
}

describe('scale', () => {
  it(
    'builds entries in time linear in the mesh: 4x the backends costs far less than 16x',
    { timeout: 60_000 },
    () => {
      const small = meshFrom(generateMesh(1000) as string);
      const large = meshFrom(generateMesh(4000) as string);
      buildEntries(small);
      buildEntries(large);
      const ratio = medianMs(() => buildEntries(large)) / medianMs(() => buildEntries(small));
      // linear is 4; quadratic would be 16. The margin absorbs timer noise and the garbage collector,
      // whose young-generation copying grows with the live output (with --max-semi-space-size=64 the
      // ratio measures about 3.4).
      expect(ratio).toBeLessThan(12);
    },
  );

  it('keeps output linear when every backend has the same circuit breaker (UpstreamConfig.Defaults)', () => {
    const out = buildEntries(meshFrom(generateMesh(300) as string));
    const defaults = out.built.filter((b) => b.entry.Kind === 'service-defaults' && b.entry.UpstreamConfig);
    for (const d of defaults) expect(Object.keys(d.entry.UpstreamConfig as object)).toEqual(['Defaults']);
  });
});
