import fs from 'node:fs';
import path from 'node:path';
import jsyaml from 'js-yaml';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseYaml } from '../../src/model/yaml.js';
import { fastLoad } from '../../src/model/yaml-fast.js';
import { parseMesh } from '../../src/model/load.js';
import { ROOT } from '../support/meshes.js';

// watch parseYaml's calls to the fast loader (the real one still runs)
vi.mock('../../src/model/yaml-fast.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/model/yaml-fast.js')>();
  return { ...real, fastLoad: vi.fn(real.fastLoad) };
});
const spy = vi.mocked(fastLoad);

describe('parseYaml and the fast loader', () => {
  beforeEach(() => spy.mockClear());
  const shop = fs.readFileSync(path.join(ROOT, 'examples/shop.yaml'), 'utf8');

  it('takes the value from the fast loader for a mesh file', () => {
    const loaded = parseYaml(shop, 'shop.yaml');
    expect(spy).toHaveBeenCalledTimes(1);
    const given = spy.mock.results[0]!.value as { value: unknown };
    expect(given).toBeDefined();
    expect(loaded.value).toBe(given.value);
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.value).toEqual(jsyaml.load(shop, { schema: jsyaml.CORE_SCHEMA }));
  });

  it('hands the body without its byte order mark', () => {
    parseYaml('\uFEFFa: 1\n');
    expect(spy).toHaveBeenCalledWith('a: 1\n');
  });

  it('does not call it for an empty or binary file', () => {
    parseYaml('# nothing\n');
    parseYaml('a: \u0000');
    expect(spy).not.toHaveBeenCalled();
  });

  it('falls back to js-yaml when it gives up, with js-yaml diagnostics', () => {
    const loaded = parseYaml('a: 1\nb: [1,\n  2]\nc: {x: 1\n', 'bad.yaml');
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.results[0]!.value).toBeUndefined();
    expect(loaded.value).toBeUndefined();
    expect(loaded.diagnostics).toHaveLength(1);
    expect(loaded.diagnostics[0]).toMatchObject({ code: 'MG1003', file: 'bad.yaml', line: 5 });
    expect(loaded.diagnostics[0]!.message).toMatch(/^YAML syntax error: /);
  });

  it('falls back to js-yaml for YAML beyond its subset, which then reads it', () => {
    const loaded = parseYaml('a: &x {b: 1}\nc: *x\nd: >\n  folded\n  text\n');
    expect(spy.mock.results[0]!.value).toBeUndefined();
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.value).toEqual({ a: { b: 1 }, c: { b: 1 }, d: 'folded text\n' });
  });

  it('gives the same mesh and diagnostics through parseMesh either way', () => {
    // the same mesh with an anchor on its kind goes through js-yaml
    const viaFast = parseMesh(shop, { file: 'shop.yaml' });
    const viaJs = parseMesh(shop.replace('kind: Mesh', 'kind: &k Mesh'), { file: 'shop.yaml' });
    expect(spy.mock.results.map((r) => r.value === undefined)).toEqual([false, true]);
    expect(viaFast.mesh).toBeDefined();
    expect(viaFast.mesh).toEqual(viaJs.mesh);
    expect(viaFast.diagnostics).toEqual(viaJs.diagnostics);
  });
});
