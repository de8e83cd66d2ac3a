import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../../bench/gen-mesh.mjs';
import { render } from '../../../src/render.js';
import { meshFrom } from '../../support/meshes.js';

function timeRender(n: number): number {
  const mesh = meshFrom((generateMesh as (n: number) => string)(n));
  render(mesh, { targets: ['linkerd'] });
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    render(mesh, { targets: ['linkerd'] });
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

describe('linkerd: rendering time', () => {
  it('grows linearly with the mesh: 8x the backends take well under 64x (quadratic) the time', () => {
    const small = timeRender(250);
    const large = timeRender(2000);
    expect(large / small).toBeLessThan(20);
  }, 120_000);
});
