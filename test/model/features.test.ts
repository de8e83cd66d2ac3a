import { describe, expect, it } from 'vitest';
import { FEATURES, featureUses, type Feature } from '../../src/model/features.js';
import { render } from '../../src/render.js';
import { emitters } from '../../src/emitters/index.js';
import { exampleMesh } from '../support/meshes.js';

describe('featureUses', () => {
  it('names each use with its subject and pointer, in model order', () => {
    const uses = featureUses(exampleMesh('shop'));
    const split = uses.find((u) => u.feature === 'split')!;
    expect(split.subject).toMatch(/^route "[^"]+"$/);
    expect(split.pointer).toMatch(/^\/spec\/routes\/\d+\/to$/);
    expect(uses.some((u) => u.feature === 'mtls' && u.subject.startsWith('backend "'))).toBe(true);
    const routePointers = uses.filter((u) => u.pointer.startsWith('/spec/routes/')).map((u) => u.pointer);
    const index = (p: string) => Number(p.split('/')[3]);
    expect(routePointers.map(index)).toEqual([...routePointers.map(index)].sort((a, b) => a - b));
  });

  it('with `only`, gives exactly the uses of those features, in the same order', () => {
    for (const name of ['shop', 'bookinfo', 'tcp', 'hello']) {
      const mesh = exampleMesh(name);
      const all = featureUses(mesh);
      expect(all.length).toBeGreaterThan(0);
      for (const only of [
        ['split', 'timeout'],
        ['mtls', 'access', 'access-l7', 'tcp'],
        ['fault-delay', 'mirror', 'health-check', 'https-frontend'],
        [...FEATURES],
      ] as Feature[][]) {
        const wanted = new Set(only);
        expect(featureUses(mesh, only)).toEqual(all.filter((u) => wanted.has(u.feature)));
      }
      expect(featureUses(mesh, [])).toEqual([]);
    }
  });

  it('render reports MG3001 for every use of a feature a target marks unsupported, and no other', () => {
    const mesh = exampleMesh('shop');
    const all = featureUses(mesh);
    let checked = 0;
    for (const emitter of emitters) {
      const result = render(mesh, { targets: [emitter.target] });
      const reported = result.diagnostics
        .filter((d) => d.code === 'MG3001' && d.message.includes('cannot express: it is left out'))
        .filter((d) => all.some((u) => d.message.startsWith(`${u.subject} uses ${u.feature},`)));
      const expected = all.filter((u) => emitter.fidelity[u.feature] === 'unsupported');
      expect(reported.map((d) => d.pointer)).toEqual(expected.map((u) => u.pointer));
      checked += expected.length;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
