import { describe, expect, it } from 'vitest';
import { render } from '../../src/render.js';
import { FEATURES, type Feature } from '../../src/model/features.js';
import type { Emitter, Fidelity } from '../../src/emitters/types.js';
import { diagnostic } from '../../src/model/diagnostics.js';
import { exampleMesh } from '../support/meshes.js';

function stub(target: string, unsupported: Feature[]): Emitter {
  const fidelity = Object.fromEntries(
    FEATURES.map((f) => [f, unsupported.includes(f) ? 'unsupported' : 'exact']),
  ) as Record<Feature, Fidelity>;
  return {
    target,
    summary: 'a test target',
    fidelity,
    emit: (mesh) => ({
      files: [{ path: 'names.txt', contents: mesh.backends.map((b) => b.name).join('\n') }],
      diagnostics: [diagnostic('MG3002', 'approximated something', { pointer: '/spec/routes/0' })],
    }),
  };
}

describe('render', () => {
  const mesh = exampleMesh('shop');

  it('warns wherever the mesh uses a feature the target marks unsupported, naming subject, feature and target', () => {
    const r = render(mesh, { targets: ['t'], emitters: [stub('t', ['mirror', 'fault-delay'])] });
    const fidelity = r.diagnostics.filter((d) => d.code === 'MG3001');
    expect(fidelity).toEqual([
      expect.objectContaining({
        severity: 'warning',
        target: 't',
        pointer: '/spec/routes/2/fault/delay',
        message: 'route "catalog-api" uses fault-delay, which the t target cannot express: it is left out',
      }),
      expect.objectContaining({
        pointer: '/spec/routes/2/mirror',
        message: expect.stringContaining('uses mirror'),
      }),
    ]);
    expect(r.outputs).toEqual([
      {
        target: 't',
        files: [{ path: 'names.txt', contents: 'web\ncatalog\npayments\ncheckout\norders-db' }],
      },
    ]);
  });

  it('tags the emitter diagnostics with the target and escalates warnings with strict', () => {
    const r = render(mesh, { targets: 'all', strict: true, emitters: [stub('a', []), stub('b', ['tcp'])] });
    expect(r.outputs.map((o) => o.target)).toEqual(['a', 'b']);
    expect(r.diagnostics.every((d) => d.severity === 'error')).toBe(true);
    expect(r.diagnostics.filter((d) => d.code === 'MG3002').map((d) => d.target)).toEqual(['a', 'b']);
    expect(r.diagnostics.filter((d) => d.code === 'MG3001').map((d) => d.pointer)).toEqual([
      '/spec/backends/4/protocol',
    ]);
  });

  it('reports an unknown target', () => {
    const r = render(mesh, { targets: ['nope'], emitters: [stub('a', [])] });
    expect(r.diagnostics).toMatchObject([
      { code: 'MG4002', message: 'unknown target "nope"', hint: 'targets: a' },
    ]);
  });
});
