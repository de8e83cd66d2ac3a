import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../../bench/gen-mesh.mjs';
import { render } from '../../../src/render.js';
import { meshFrom } from '../../support/meshes.js';

/** How the output grows is tested here; how the time grows is measured by bench/render.mjs (scaling). */
describe('linkerd output size', () => {
  it('grows linearly with the number of backends, in objects and in bytes', () => {
    const size = (n: number) => {
      const files = render(meshFrom((generateMesh as (n: number) => string)(n)), { targets: ['linkerd'] })
        .outputs[0]!.files;
      return { files: files.length, bytes: files.reduce((s, f) => s + f.contents.length, 0) };
    };
    const [a, b, c] = [500, 1000, 2000].map(size) as [
      ReturnType<typeof size>,
      ReturnType<typeof size>,
      ReturnType<typeof size>,
    ];
    // each further backend adds the same objects: f(2000) - f(1000) = 2 (f(1000) - f(500))
    expect(c.files - b.files).toBe(2 * (b.files - a.files));
    expect(b.files - a.files).toBeGreaterThan(500);
    // bytes: names grow by a digit now and then, so within 5% of linear
    expect((c.bytes - b.bytes) / (2 * (b.bytes - a.bytes))).toBeGreaterThan(0.95);
    expect((c.bytes - b.bytes) / (2 * (b.bytes - a.bytes))).toBeLessThan(1.05);
  }, 120_000);
});
