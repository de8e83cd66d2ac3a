import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { colours, formatDiagnostic } from '../../src/cli/format.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { SourceFile } from '../../src/model/source.js';
import { ROOT } from '../support/meshes.js';

const plain = new Chalk({ level: 0 });

/** The diagnostic printed for `line` (the file's second line) at 1-based `column`, `width` wide. */
function format(line: string, column: number, width = 1): string[] {
  const source = new SourceFile('f.yaml', `first: line\n${line}\nlast: line\n`);
  const d: Diagnostic = {
    code: 'MG1012',
    severity: 'error',
    message: 'm',
    file: 'f.yaml',
    line: 2,
    column,
    endLine: 2,
    endColumn: column + width,
  };
  return formatDiagnostic(d, source, plain).split('\n').slice(1);
}

// 300 characters: 0123456789 thirty times, so that every cut shows where it falls
const LONG = '0123456789'.repeat(30);
const GUTTER = '    2 | ';
const UNDER = '      | ';

describe('diagnostic excerpts', () => {
  it('prints a short line whole, the caret and underline under the named text, as before', () => {
    expect(format('  parent: { frontend: publik }', 23, 6)).toEqual([
      `${GUTTER}  parent: { frontend: publik }`,
      `${UNDER}                      ^~~~~~`,
    ]);
    // tabs stay tabs under the line, so the caret lands under the same character
    expect(format('\tkey:\t"value"', 7, 7)).toEqual([`${GUTTER}\tkey:\t"value"`, `${UNDER}\t    \t^~~~~~~`]);
    // a line of exactly 120 characters is not cut
    expect(format(LONG.slice(0, 120), 120)).toEqual([
      `${GUTTER}${LONG.slice(0, 120)}`,
      `${UNDER}${' '.repeat(119)}^`,
    ]);
  });

  it('cuts the end of a long line when the column is near its start', () => {
    expect(format(LONG, 11, 5)).toEqual([
      `${GUTTER}${LONG.slice(0, 120)}…`,
      `${UNDER}${' '.repeat(10)}^~~~~`,
    ]);
  });

  it('cuts both ends around a column in the middle, 40 characters before it', () => {
    // column 151: characters 110 to 229 are shown, the caret under character 150 ("0")
    expect(format(LONG, 151, 3)).toEqual([
      `${GUTTER}…${LONG.slice(110, 230)}…`,
      `${UNDER} ${' '.repeat(40)}^~~`,
    ]);
  });

  it('cuts the start of a long line when the column is near its end', () => {
    expect(format(LONG, 291, 10)).toEqual([
      `${GUTTER}…${LONG.slice(180)}`,
      `${UNDER} ${' '.repeat(110)}^${'~'.repeat(9)}`,
    ]);
  });

  it('caps the underline at the cut and at 120 characters', () => {
    // from column 151 to the end of the line: the underline stops where the window does
    expect(format(LONG, 151, 150)).toEqual([
      `${GUTTER}…${LONG.slice(110, 230)}…`,
      `${UNDER} ${' '.repeat(40)}^${'~'.repeat(79)}`,
    ]);
    expect(format(LONG, 1, 300)).toEqual([`${GUTTER}${LONG.slice(0, 120)}…`, `${UNDER}^${'~'.repeat(119)}`]);
  });

  it('never splits a surrogate pair at a cut, and counts astral characters as the line does', () => {
    // an emoji at characters 109-110 straddles the start of the window: it is left out whole
    const line = 'a'.repeat(109) + '🙂' + 'b'.repeat(200);
    const [shown, caret] = format(line, 152);
    expect(shown).toBe(`${GUTTER}…${line.slice(111, 231)}…`);
    expect(caret).toBe(`${UNDER} ${' '.repeat(40)}^`);
    // an emoji before the column, inside the window: two units, two spaces, as before
    const inside = 'a'.repeat(150) + '🙂' + 'b'.repeat(150);
    expect(format(inside, 154)[1]).toBe(`${UNDER} ${' '.repeat(40)}^`);
  });
});

describe('diagnostics for a long line with many errors', () => {
  it('print a bounded excerpt for each: 10,000 errors on one 20 KB line stay under 400 bytes each', () => {
    const line = `        - { name: v1, endpoints: [${Array(10_000).fill('1').join(',')}] }`;
    const text = `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: many
spec:
  namespace: shop
  backends:
    - name: web
      port: 8080
      versions:
${line}
`;
    expect(text.length).toBeGreaterThan(20_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-many-'));
    const file = path.join(dir, 'many.yaml');
    fs.writeFileSync(file, text);
    // standard error goes to a file: before the excerpts were capped, it was 103 MB
    const errFile = path.join(dir, 'stderr.txt');
    const err = fs.openSync(errFile, 'w');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'validate', file], {
      stdio: ['ignore', 'ignore', err],
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 60_000,
    });
    fs.closeSync(err);
    const bytes = fs.statSync(errFile).size;
    const stderr = bytes < 10_000_000 ? fs.readFileSync(errFile, 'utf8') : '';
    fs.rmSync(dir, { recursive: true });
    expect(r.status).toBe(1);
    expect(bytes / 10_000).toBeLessThan(400);
    expect(stderr.match(/: error MG1012: /g)?.length).toBe(10_000);
    // every excerpt line is at most the window, its cut markers and the gutter
    for (const l of stderr.split('\n'))
      if (l.startsWith('   11 |') || l.startsWith('      |')) expect(l.length).toBeLessThanOrEqual(130);
  });
});

describe('colours', () => {
  const pipe = { isTTY: false } as NodeJS.WriteStream;

  it('leave text as chalk at level 0 does when the stream is not coloured', () => {
    const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
    delete process.env.FORCE_COLOR;
    delete process.env.NO_COLOR;
    try {
      const c = colours(pipe);
      for (const text of ['error', 'a b', '']) {
        expect(c.red.bold(text)).toBe(plain.red.bold(text));
        expect(c.bold.underline(text)).toBe(plain.bold.underline(text));
        expect(c.dim(text)).toBe(text);
      }
      expect(c.cyan('hint:', 'x')).toBe(plain.cyan('hint:', 'x'));
      expect(c.level).toBe(0);
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });

  it('are not taken for a promise', async () => {
    const c = colours(pipe);
    expect(await Promise.resolve(c)).toBe(c);
  });
});
