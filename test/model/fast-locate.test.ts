import fs from 'node:fs';
import path from 'node:path';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../src/model/source.js';
import { FastLocator, fastLocate } from '../../src/model/fast-locate.js';
import { joinPointer, splitPointer } from '../../src/model/diagnostics.js';
import { ROOT } from '../support/meshes.js';
import { seededRandom } from '../support/random.js';

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

  it('steps over deeper lines by their indentation: comments, blank lines, CRLF', () => {
    for (const eol of ['\n', '\r\n']) {
      const text = [
        'a:',
        '  b: 1',
        '      # a deeper comment',
        '        ',
        '  c:',
        '    - 1   # one',
        '    -',
        '      x: [2, 3]',
        '  # a comment at the key column',
        '',
        'd:',
        '- 4',
        'e: 5',
        '',
      ].join(eol);
      const src = new SourceFile('f', text);
      for (const p of ['/d', '/d/0', '/e', '/a/c', '/a/c/1/x/1']) {
        const found = fastLocate(text, splitPointer(p));
        expect(found, p).toBeDefined();
        const fast = new SourceFile('f', text).locate(p);
        const slow = src.locateByParse(p);
        expect({ p, line: fast?.line, column: fast?.column }).toEqual({
          p,
          line: slow?.line,
          column: slow?.column,
        });
      }
    }
    // a tab in a line stepped over gives up, as it does in a line read
    expect(fastLocate('a:\n  b:\n    \tc: 1\nd: 2\n', ['d'])).toBeUndefined();
    expect(fastLocate('a:\n  b:\n    c: 1\nd: 2\n', ['d'])).toBeDefined();
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

const SEED = process.env.MESHGEN_SEED !== undefined ? Number(process.env.MESHGEN_SEED) : Date.now() % 2 ** 32;

describe('FastLocator', () => {
  // printed, so that a failure seen once can be replayed: MESHGEN_SEED=<seed> npx vitest run <this file>
  console.log(`fast-locate seed: ${SEED} (MESHGEN_SEED=${SEED} replays it)`);

  /**
   * Every pointer of the value, some that name nothing (an item past the end, a missing key, a key
   * under a scalar), in a random order, some twice: one locator answering them all in turn gives
   * what a fresh search gives for each.
   */
  function agreesWithFreshSearches(text: string, random: () => number): number {
    const existing = pointers(jsyaml.load(text));
    const all = [
      ...existing,
      ...existing.slice(0, 50).flatMap((p) => [joinPointer(p, 'missing'), joinPointer(p, 999)]),
      ...existing.filter(() => random() < 0.2),
    ].map((p) => splitPointer(p));
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const locator = new FastLocator(text);
    for (const tokens of all)
      expect({ tokens, found: locator.find(tokens) }).toEqual({ tokens, found: fastLocate(text, tokens) });
    return all.length;
  }

  it.each([...files.map((f) => [path.relative(ROOT, f), f]), ['a generated 60-backend mesh', 'generated']])(
    'answers as fresh searches do on %s, in any order',
    async (_name, file) => {
      const text =
        file === 'generated'
          ? ((await import('../../bench/gen-mesh.mjs')) as { generateMesh(n: number): string }).generateMesh(
              60,
            )
          : fs.readFileSync(file, 'utf8');
      expect(agreesWithFreshSearches(text, seededRandom(SEED))).toBeGreaterThan(0);
    },
  );

  it('gives up where a fresh search gives up, and still answers what comes before', () => {
    // the tab sits inside the second item: searches that must step past it give up, the others not
    const text = 'a:\n  - x: 1\n  - y:\n\t  z: 2\n  - w: 3\nb: 4\nc:\n  d: 5\n';
    const locator = new FastLocator(text);
    for (const tokens of [
      ['a', '2', 'w'],
      ['b'],
      ['a', '0', 'x'],
      ['a', '1'],
      ['c', 'd'],
      ['a', '2'],
      ['a', '0'],
    ])
      expect({ tokens, found: locator.find(tokens) }).toEqual({ tokens, found: fastLocate(text, tokens) });
    expect(locator.find(['a', '0', 'x'])).toBeDefined();
    expect(locator.find(['b'])).toBeUndefined();
  });

  it('finds the first of duplicate keys, whatever was searched before', () => {
    const text = 'a: 1\nb: 2\na: 3\nc: 4\n';
    const locator = new FastLocator(text);
    expect(locator.find(['c'])).toEqual(fastLocate(text, ['c']));
    const a = locator.find(['a'])!;
    expect(text.slice(a.start, a.end)).toBe('1');
  });

  it('reads a long sequence once for many items', () => {
    const items = Array.from({ length: 2000 }, (_, i) => `  - name: n${i}\n    port: ${i}\n`).join('');
    const text = `list:\n${items}after: 1\n`;
    const locator = new FastLocator(text);
    for (let i = 1999; i >= 0; i -= 7) {
      const f = locator.find(['list', String(i), 'port'])!;
      expect(text.slice(f.start, f.end)).toBe(String(i));
    }
    const after = locator.find(['after'])!;
    expect(text.slice(after.keyStart, after.keyEnd)).toBe('after');
    expect(locator.find(['list', '2000'])).toEqual(fastLocate(text, ['list', '2000']));
  });
});
