import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildEntries } from '../../../src/emitters/consul/index.js';
import { CRD_SPEC_KEYS, crdObject, crdSource } from '../../../src/emitters/consul/crd.js';
import { ObjectFileSink } from '../../../src/kubernetes/objects.js';
import { toYamlString } from '../../../src/yaml/writer.js';
import type { ResolvedMesh } from '../../../src/model/types.js';
import { EXAMPLES, ROOT, exampleMesh, meshFrom } from '../../support/meshes.js';

/** Each custom resource as the emitter writes it (spec keys renamed while written) and as crdObject builds it. */
function both(mesh: ResolvedMesh): { written: string[]; reference: string[] } {
  const built = buildEntries(mesh).built;
  const sink = new ObjectFileSink();
  for (const b of built) sink.add(crdSource(mesh, b), CRD_SPEC_KEYS);
  const written = new Map(sink.files().map((f) => [f.path, f.contents]));
  const reference = built.map((b) => toYamlString(crdObject(mesh, b)));
  // files come back sorted by path: pair them by the path each object is written to
  const paths = built.map((b) => {
    const o = crdObject(mesh, b);
    return `${o.kind.toLowerCase()}-${o.metadata.namespace}-${o.metadata.name}.yaml`;
  });
  return { written: paths.map((p) => written.get(p)!), reference };
}

describe('consul CRD text', () => {
  it.each(EXAMPLES)('%s: renaming spec keys while writing gives the text of the renamed objects', (name) => {
    const { written, reference } = both(exampleMesh(name));
    expect(written.length).toBeGreaterThan(0);
    expect(written).toEqual(reference);
  });

  it('holds for characters beyond Latin-1 too (the string writer), in data maps and fields', () => {
    const shop = fs.readFileSync(path.join(ROOT, 'examples', 'shop.yaml'), 'utf8');
    const text = shop.replace('set: { x-mesh: shop }', 'set: { x-mesh: "shop ✓ é" }');
    expect(text).not.toBe(shop);
    const { written, reference } = both(meshFrom(text));
    expect(written.join('')).toContain('x-mesh: "shop ✓ é"');
    expect(written).toEqual(reference);
  });
});
