import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffLines, unifiedDiff } from '../../src/diff/unified.js';
import { hasBinary } from '../support/processes.js';

/** A deterministic pseudo-random generator, so failures reproduce. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function lcs(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(row[j]!, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

function randomPair(random: () => number): [string[], string[]] {
  const alphabet = 'abcdefg';
  const a = Array.from(
    { length: Math.floor(random() * 30) },
    () => alphabet[Math.floor(random() * alphabet.length)]!,
  );
  const b = a.filter(() => random() > 0.2);
  for (let k = Math.floor(random() * 6); k > 0; k--)
    b.splice(Math.floor(random() * (b.length + 1)), 0, alphabet[Math.floor(random() * alphabet.length)]!);
  return [a, b];
}

describe('diffLines', () => {
  it('finds a shortest edit script that rebuilds both sides', () => {
    const random = rng(7);
    for (let n = 0; n < 500; n++) {
      const [a, b] = randomPair(random);
      const ops = diffLines(a, b);
      expect(ops.filter((o) => o.op !== '+').map((o) => o.line)).toEqual(a);
      expect(ops.filter((o) => o.op !== '-').map((o) => o.line)).toEqual(b);
      expect(ops.filter((o) => o.op !== ' ').length).toBe(a.length + b.length - 2 * lcs(a, b));
    }
  });
});

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x')).toBe('');
  });

  it('prints hunks with three lines of context, as diff -u does', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'].join('\n') + '\n';
    const b = a.replace('2\n', 'two\n').replace('11\n', '');
    expect(unifiedDiff(a, b, 'f.txt')).toBe(
      [
        '--- a/f.txt',
        '+++ b/f.txt',
        '@@ -1,5 +1,5 @@',
        ' 1',
        '-2',
        '+two',
        ' 3',
        ' 4',
        ' 5',
        '@@ -8,5 +8,4 @@',
        ' 8',
        ' 9',
        ' 10',
        '-11',
        ' 12',
        '',
      ].join('\n'),
    );
  });

  it('writes patches that patch(1) applies', () => {
    if (!hasBinary('patch')) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-unified-'));
    try {
      const random = rng(11);
      for (let n = 0; n < 40; n++) {
        const [a, b] = randomPair(random);
        const before = a.map((l, i) => `${l}${i % 3}`).join('\n') + (a.length ? '\n' : '');
        const after = b.map((l, i) => `${l}${i % 3}`).join('\n') + (b.length ? '\n' : '');
        const patch = unifiedDiff(before, after, 'f.txt');
        fs.writeFileSync(path.join(dir, 'f.txt'), before);
        if (!patch) {
          expect(before).toBe(after);
          continue;
        }
        const run = spawnSync('patch', ['-s', '-p1', '-i', '-'], {
          cwd: dir,
          input: patch,
          encoding: 'utf8',
        });
        expect(run.status, run.stdout + run.stderr + patch).toBe(0);
        expect(fs.readFileSync(path.join(dir, 'f.txt'), 'utf8')).toBe(after);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
