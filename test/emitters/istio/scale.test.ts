import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../../bench/gen-mesh.mjs';
import { istioObjects } from '../../../src/emitters/istio/index.js';
import { meshFrom } from '../../support/meshes.js';

/**
 * The fastest of a few runs (the least disturbed by other work on the machine) of the emitter's own
 * work, building the objects: serialising them is shared code, linear, and would hide a quadratic
 * step of the emitter behind its constant cost.
 */
function fastestEmit(n: number): { ms: number; files: number } {
  const mesh = meshFrom((generateMesh as (n: number) => string)(n));
  let best = Infinity;
  let files = 0;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    files = istioObjects(mesh, {}).objects.length;
    best = Math.min(best, performance.now() - start);
  }
  return { ms: best, files };
}

describe('istio rendering time', () => {
  it('grows linearly with the number of backends (4x the mesh, well under 16x the time)', () => {
    fastestEmit(100); // warm up the JIT
    const small = fastestEmit(500);
    const large = fastestEmit(2000);
    // the output itself grows linearly: 4 objects a backend, 1 policy every tenth, 1 namespace policy
    expect(small.files).toBe(500 * 4 + 50 + 1);
    expect(large.files).toBe(2000 * 4 + 200 + 1);
    // linear work gives a ratio near 4, quadratic work 16; the bound leaves room for a busy machine
    expect(large.ms / small.ms).toBeLessThan(9);
  }, 60_000);
});
