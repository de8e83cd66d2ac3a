import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../../bench/gen-mesh.mjs';
import { istioObjects } from '../../../src/emitters/istio/index.js';
import { meshFrom } from '../../support/meshes.js';

/** How the output grows is tested here; how the time grows is measured by bench/render.mjs (scaling). */
describe('istio output size', () => {
  it.each([500, 2000])('grows linearly with the number of backends (%i backends)', (n) => {
    const mesh = meshFrom((generateMesh as (n: number) => string)(n));
    // 4 objects a backend, 1 policy every tenth, 1 namespace policy
    expect(istioObjects(mesh, {}).objects.length).toBe(n * 4 + n / 10 + 1);
  });
});
