import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMesh } from '../../src/model/load.js';
import type { ResolvedMesh } from '../../src/model/types.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml')) // meshes, not their tests
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

/** Loads a mesh from YAML text, failing the test on any error diagnostic. */
export function meshFrom(text: string, file = 'test.yaml'): ResolvedMesh {
  const result = parseMesh(text, { file });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.mesh || errors.length)
    throw new Error(
      `mesh has errors:\n${errors.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n')}`,
    );
  return result.mesh;
}

export function exampleMesh(name: string): ResolvedMesh {
  return meshFrom(
    fs.readFileSync(path.join(ROOT, 'examples', `${name}.yaml`), 'utf8'),
    `examples/${name}.yaml`,
  );
}
