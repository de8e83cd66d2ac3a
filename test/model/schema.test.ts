import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMesh } from '../../src/model/load.js';
import { ROOT } from '../support/meshes.js';
// @ts-expect-error: a plain ESM script without types
import { generateTypes } from '../../scripts/gen-types.mjs';

const minimal = (extra = '') => `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: m }
spec:
  backends:
    - name: web
      port: 8080
      versions: [{ name: v1 }]
${extra}`;

describe('the schema', () => {
  it('is the source of the TypeScript types (npm run gen:types keeps them equal)', async () => {
    process.chdir(ROOT);
    const generated = (await generateTypes()) as string;
    expect(fs.readFileSync(path.join(ROOT, 'src/model/mesh.generated.ts'), 'utf8')).toBe(generated);
  });

  it('describes every property, so editors show hover docs', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/mesh.schema.json'), 'utf8'));
    const missing: string[] = [];
    const walk = (s: unknown, at: string) => {
      if (!s || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      for (const [k, v] of Object.entries((o.properties as object) ?? {})) {
        if (!(v as { description?: string }).description && !(v as { $ref?: string }).$ref)
          missing.push(`${at}/${k}`);
        walk(v, `${at}/${k}`);
      }
      for (const k of ['items', 'additionalProperties']) walk(o[k], `${at}/${k}`);
      for (const [k, v] of Object.entries((o.$defs as object) ?? {})) walk(v, `#/$defs/${k}`);
    };
    walk(schema, '#');
    expect(missing).toEqual([]);
  });

  it('suggests the field a typo meant', () => {
    const r = parseMesh(
      minimal('  routes:\n    - { name: r, parent: { backend: web }, to: [{ backend: web }], timout: 1s }\n'),
    );
    expect(r.diagnostics).toMatchObject([
      { code: 'MG1010', hint: 'did you mean "timeout"?', line: 10, column: 68 },
    ]);
  });

  it('says what a value must be, in the mesh terms', () => {
    const r = parseMesh(minimal('  mtls: { mode: on }\n'));
    expect(r.diagnostics).toMatchObject([
      {
        code: 'MG1013',
        message: 'field "mtls.mode" must be one of "strict", "permissive", "disabled", not "on"',
      },
    ]);
  });

  it('reports a name that is not a DNS-1123 label', () => {
    const r = parseMesh(minimal().replace('name: web', 'name: Web_1'));
    expect(r.diagnostics).toMatchObject([
      { code: 'MG1014', message: 'backend "Web_1": name: "Web_1" is not a DNS-1123 label' },
    ]);
  });

  it('reports a list given where a mapping is expected once, not once per rule', () => {
    const r = parseMesh(minimal().replace('spec:\n  backends:', 'spec:\n  mtls: [strict]\n  backends:'));
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG1012']);
  });

  it('accepts a mesh with defaults left out', () => {
    const r = parseMesh(minimal());
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.mesh?.namespace).toBe('default');
    expect(r.mesh?.backends[0]!.versions[0]!.labels).toEqual({ version: 'v1' });
  });
});
