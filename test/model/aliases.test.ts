import path from 'node:path';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { allowedAliasRatio, excessiveAliasing, measureAliases } from '../../src/model/aliases.js';
import { parseYaml } from '../../src/model/yaml.js';
import { loadMesh, parseMesh } from '../../src/model/load.js';
import { laughs } from '../support/aliases.js';

const LAUGHS = laughs(1100);

const mesh = (extra: string): string => `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: aliased
spec:
  namespace: shop
  backends:
    - name: web
      port: 8080
      versions:
        - &v1 { name: v1, endpoints: &eps ["127.0.0.1:19101", "127.0.0.1:19102"] }
        - { name: v2, endpoints: *eps }
    - name: api
      port: 8080
      versions:
        - *v1
${extra}`;

describe('alias expansion', () => {
  it('counts nodes as a full walk would, measuring each anchored value once', () => {
    const value = jsyaml.load('a: &a [1, 2]\nb: [*a, *a]\n', { schema: jsyaml.CORE_SCHEMA });
    // root 1 + keys a, b 2 + a's list 3 + b's list 1 + two aliases of 3 each
    expect(measureAliases(value)).toEqual({
      decodeCount: 13,
      aliasCount: 6,
      worst: { pointer: '/a', aliases: 2, nodes: 3 },
    });
    expect(measureAliases({ a: [1], b: { c: 'd' } })).toEqual({ decodeCount: 8, aliasCount: 0 });
  });

  it("refuses by go-yaml's rule: more than 100 aliased nodes, 1,000 nodes in all, and a ratio above the allowed one", () => {
    expect(allowedAliasRatio(1000)).toBe(0.99);
    expect(allowedAliasRatio(400_000)).toBe(0.99);
    expect(allowedAliasRatio(2_200_000)).toBeCloseTo(0.545, 10);
    expect(allowedAliasRatio(4_000_000)).toBe(0.1);
    expect(allowedAliasRatio(1e12)).toBe(0.1);
    expect(excessiveAliasing({ decodeCount: 1000, aliasCount: 999 })).toBe(false);
    expect(excessiveAliasing({ decodeCount: 1001, aliasCount: 100 })).toBe(false);
    expect(excessiveAliasing({ decodeCount: 10_000, aliasCount: 9_901 })).toBe(true);
    expect(excessiveAliasing({ decodeCount: 10_000, aliasCount: 9_900 })).toBe(false);
    expect(excessiveAliasing({ decodeCount: 5_000_000, aliasCount: 500_001 })).toBe(true);
  });

  it('refuses a 31 KB file of nested aliases quickly, pointing at the anchored value that repeats most', async () => {
    expect(LAUGHS.length).toBeGreaterThan(30_000);
    expect(LAUGHS.length).toBeLessThan(32_000);
    // no stage walks the expansion (2.9 GB before the check): the test's time limit is the bound
    const result = parseMesh(LAUGHS, { file: 'laughs.yaml' });
    const loaded = parseYaml(LAUGHS, 'laughs.yaml');
    expect(loaded.value).toBeUndefined();
    for (const diagnostics of [loaded.diagnostics, result.diagnostics]) {
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]).toMatchObject({
        code: 'MG1006',
        severity: 'error',
        file: 'laughs.yaml',
        pointer: '/h',
        line: 8,
        column: 4,
      });
      expect(diagnostics[0]!.message).toMatch(
        /^YAML aliases expand the document to .* the anchored value at \/h /,
      );
      expect(diagnostics[0]!.hint).toMatch(/fewer aliases/);
    }
    expect(result.mesh).toBeUndefined();
  });

  it('refuses an anchored value that holds an alias of itself', () => {
    const { diagnostics, value } = parseYaml('a: 1\nb: &b [1, *b]\n', 'loop.yaml');
    expect(value).toBeUndefined();
    expect(diagnostics).toMatchObject([{ code: 'MG1006', pointer: '/b', line: 2, column: 4 }]);
    expect(diagnostics[0]!.message).toBe(
      'the YAML anchor at /b holds an alias of itself, so the document never ends',
    );
  });

  it('loads ordinary files with a few aliases, and aliased values as the values they name', async () => {
    const result = parseMesh(mesh(''), { file: 'aliased.yaml' });
    expect(result.diagnostics).toEqual([]);
    expect(result.mesh).toBeDefined();
    // 150 aliases of a small value: many aliases, but most of the document is its own
    const many = `  routes:\n${Array.from({ length: 150 }, (_, i) => `    - { name: r${i}, parent: { backend: web }, to: [{ backend: web }] }`).join('\n')}\n`;
    const big = parseYaml(
      mesh(many) + `x-shared: &s { a: 1 }\nx-uses: [${Array(150).fill('*s').join(', ')}]\n`,
    );
    expect(big.diagnostics).toEqual([]);
    expect(big.value).toBeDefined();
    // and the example meshes, which use none, still load
    const example = await loadMesh(path.join(import.meta.dirname, '../../examples/shop.yaml'));
    expect(example.mesh).toBeDefined();
  });
});
