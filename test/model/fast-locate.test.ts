import fs from 'node:fs';
import path from 'node:path';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../src/model/source.js';
import { fastLocate } from '../../src/model/fast-locate.js';
import { joinPointer, splitPointer } from '../../src/model/diagnostics.js';
import { ROOT } from '../support/meshes.js';

/**
 * Every pointer to every node of a value, but empty ones (`filter_chain_match:` and nothing): the
 * scan points just past their colon, the parse, which records no node for them, at the next token.
 */
function pointers(v: unknown, at = ''): string[] {
  const out = v === null ? [] : [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pointers(x, joinPointer(at, i))));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...pointers(x, joinPointer(at, k)));
  return out;
}

const files = [
  ...fs.readdirSync(path.join(ROOT, 'examples')).map((f) => path.join(ROOT, 'examples', f)),
  // Envoy's example bootstraps: sequences at their key's indentation (`clusters:` then `- name:`)
  ...['invalid', 'warnings', 'envoy-examples'].flatMap((d) =>
    fs
      .readdirSync(path.join(ROOT, 'test/fixtures', d))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => path.join(ROOT, 'test/fixtures', d, f)),
  ),
].filter((f) => {
  try {
    const docs = jsyaml.loadAll(fs.readFileSync(f, 'utf8'));
    return docs.length === 1 && docs[0] !== null;
  } catch {
    return false;
  }
});

describe('fastLocate', () => {
  it.each([...files.map((f) => [path.relative(ROOT, f), f]), ['a generated 30-backend mesh', 'generated']])(
    'agrees with the full parse on every node of %s',
    async (_name, file) => {
      const text =
        file === 'generated'
          ? ((await import('../../bench/gen-mesh.mjs')) as { generateMesh(n: number): string }).generateMesh(
              30,
            )
          : fs.readFileSync(file, 'utf8');
      const src = new SourceFile('f', text);
      let quick = 0;
      for (const p of pointers(jsyaml.load(text))) {
        for (const key of [false, true]) {
          const found = fastLocate(text, splitPointer(p));
          if (!found) continue;
          quick++;
          const fast = new SourceFile('f', text).locate(p, { key }); // a fresh file: its first look-ups scan
          const slow = src.locateByParse(p, { key });
          expect({ p, key, line: fast?.line, column: fast?.column }).toEqual({
            p,
            key,
            line: slow?.line,
            column: slow?.column,
          });
        }
      }
      expect(quick).toBeGreaterThan(0);
    },
  );

  it.each([
    ['an anchor', 'a: &x\n  b: 1\n', ['a', 'b']],
    ['an alias', 'a: *x\n', ['a']],
    ['a tab', 'a:\n\tb: 1\n', ['a', 'b']],
    ['a block scalar on the way', 'a: |\n  text\n', ['a', 'b']],
  ])('gives up on %s', (_what, text, tokens) => {
    expect(fastLocate(text, tokens)).toBeUndefined();
  });

  it("steps over a sequence at its key's indentation to the next key", () => {
    const text = 'a:\n- x: 1\n  y: 2\n- 3\nb:\n  - 4\nc: 5\n';
    const c = fastLocate(text, ['c'])!;
    expect(text.slice(c.keyStart, c.keyEnd)).toBe('c');
    expect(text.slice(c.start, c.end)).toBe('5');
    const y = fastLocate(text, ['a', '0', 'y'])!;
    expect(text.slice(y.start, y.end)).toBe('2');
    const root = fastLocate(text, [])!;
    expect(text.slice(root.start, root.end)).toBe(text.trimEnd());
  });

  it('finds keys and values in nested flow collections', () => {
    const text = 'a:\n  - { b: [1, { c: "x, y" }], d: 2 }\n';
    const f = fastLocate(text, ['a', '0', 'b', '1', 'c'])!;
    expect(text.slice(f.start, f.end)).toBe('"x, y"');
    expect(text.slice(f.keyStart, f.keyEnd)).toBe('c');
    const d = fastLocate(text, ['a', '0', 'd'])!;
    expect(text.slice(d.start, d.end)).toBe('2');
  });
});
