import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffLines, unifiedDiff, type DiffWork } from '../../src/diff/unified.js';
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

/** A config-like text: per block a unique header and lines that repeat across blocks. */
function config(blocks: number, changedEvery: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < blocks; i++) {
    const weight = changedEvery > 0 && i % changedEvery === 0 ? 50 : 90;
    lines.push(
      `backend svc-${i}`,
      '    balance leastconn',
      `    server v1 10.0.${i >> 8}.${i & 255}:8080 weight ${weight}`,
      '    timeout server 10s',
      '',
    );
  }
  return lines;
}

const rebuilds = (ops: { op: string; line: string }[], a: string[], b: string[]) => {
  const left = ops.filter((o) => o.op !== '+').map((o) => o.line);
  const right = ops.filter((o) => o.op !== '-').map((o) => o.line);
  return (
    left.length === a.length &&
    right.length === b.length &&
    left.every((l, i) => l === a[i]) &&
    right.every((l, i) => l === b[i])
  );
};

describe('diffLines on large texts', () => {
  it('does work in proportion to the size of the texts, not its square', () => {
    const perLine: number[] = [];
    for (const blocks of [2_000, 20_000, 60_000]) {
      const a = config(blocks, 0);
      const b = config(blocks, 50);
      const work: DiffWork = { steps: 0 };
      const ops = diffLines(a, b, work);
      expect(rebuilds(ops, a, b)).toBe(true);
      // each changed block is one line removed and one added: the shortest script
      expect(ops.filter((o) => o.op !== ' ').length).toBe(2 * (blocks / 50));
      perLine.push(work.steps / (a.length + b.length));
    }
    // a bounded number of steps per line, whatever the size: 30 times the lines (and the changes)
    // cost about 30 times the steps, where the square would cost 900 times
    expect(Math.max(...perLine)).toBeLessThan(16);
  });

  it('anchors on unique lines when the shortest script would cost too much, and stays correct', () => {
    const random = rng(3);
    const a = config(60_000, 0);
    // a tenth of the blocks lose their balance line, a tenth gain a line: thousands of changes
    const b: string[] = [];
    for (let i = 0; i < a.length; i++) {
      const r = random();
      if (a[i] === '    balance leastconn' && r < 0.1) continue;
      b.push(a[i]!);
      if (a[i] === '' && r > 0.9) b.push('    option redispatch');
    }
    const work: DiffWork = { steps: 0 };
    const ops = diffLines(a, b, work);
    expect(rebuilds(ops, a, b)).toBe(true);
    expect(ops.filter((o) => o.op !== ' ').length).toBe(
      a.length - b.length + 2 * ops.filter((o) => o.op === '+').length,
    );
    // every change is found on its own: nothing around it is removed and added again
    expect(ops.filter((o) => o.op === '-').length).toBe(
      a.filter((l) => l === '    balance leastconn').length -
        b.filter((l) => l === '    balance leastconn').length,
    );
    expect(work.steps / (a.length + b.length)).toBeLessThan(40);
  });

  it('bounds its work on texts without a unique line, showing them replaced', () => {
    const random = rng(5);
    const a = Array.from({ length: 200_000 }, () => 'xyz'[Math.floor(random() * 3)]!);
    const b = a.map((l) => (random() < 0.05 ? 'xyz'[Math.floor(random() * 3)]! : l));
    const work: DiffWork = { steps: 0 };
    const ops = diffLines(a, b, work);
    expect(rebuilds(ops, a, b)).toBe(true);
    expect(work.steps / (a.length + b.length)).toBeLessThan(40);
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
