import { describe, expect, it } from 'vitest';
import { diagnostic, type Diagnostic } from '../../src/model/diagnostics.js';
import { groupDiagnostics, parseSuppress, perCodeSummary } from '../../src/cli/digest.js';

/** 1,000 warnings of one shape for istio, 3 of another, and one error, in that order. */
function many(): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (let i = 0; i < 1000; i++)
    out.push(
      diagnostic('MG3009', `backend "svc-${i}": rule on port ${20000 + i}`, {
        target: 'istio',
        pointer: `/spec/backends/${i}`,
      }),
    );
  for (let i = 0; i < 3; i++)
    out.push(
      diagnostic('MG3009', `frontend "f${i}": another shape`, {
        target: 'istio',
        pointer: `/spec/frontends/${i}`,
      }),
    );
  out.push(
    diagnostic('MG3003', 'version "v2" of backend "x" has no endpoints', {
      target: 'haproxy',
      pointer: '/spec/backends/999',
    }),
  );
  return out;
}

describe('groupDiagnostics', () => {
  it('groups by code, target and shape, locates only the first of each, and puts errors first', () => {
    const located: Diagnostic[][] = [];
    const groups = groupDiagnostics(many(), (ds) => {
      located.push([...ds]);
      return ds.map((d, i) => ({ ...d, file: 'm.yaml', line: 10 - i }));
    });
    expect(located).toHaveLength(1);
    expect(located[0]!.map((d) => d.message)).toEqual([
      'backend "svc-0": rule on port 20000',
      'frontend "f0": another shape',
      'version "v2" of backend "x" has no endpoints',
    ]);
    expect(groups.map((g) => [g.first.code, g.count])).toEqual([
      ['MG3003', 1],
      ['MG3009', 3],
      ['MG3009', 1000],
    ]);
  });

  it('lists every one, located, when asked', () => {
    let seen = 0;
    const groups = groupDiagnostics(many(), (ds) => ((seen = ds.length), [...ds]), true);
    expect(seen).toBe(1004);
    expect(groups).toHaveLength(1004);
    expect(groups[0]!.first.code).toBe('MG3003');
  });

  it('counts per code, errors first', () => {
    expect(perCodeSummary(many())).toEqual([
      '  MG3003 error       1  target needs endpoints',
      '  MG3009 warning 1,003  target relies on a setting meshgen does not write',
    ]);
  });
});

describe('parseSuppress', () => {
  it('reads repeated and comma-separated codes, in any case', () => {
    expect(parseSuppress(['MG3009,mg3005', 'MG3001'])).toEqual(new Set(['MG3009', 'MG3005', 'MG3001']));
  });
  it('refuses an unknown code with the nearest one, and an error’s code', () => {
    expect(parseSuppress(['MG3099'])).toMatchObject({ code: 'MG4013', hint: 'did you mean MG3009?' });
    expect(parseSuppress(['MG2004'])).toMatchObject({
      code: 'MG4013',
      message: expect.stringContaining('is an error'),
    });
  });
});
