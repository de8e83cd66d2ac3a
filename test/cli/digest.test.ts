import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { compareText, diagnostic, FAMILY, inFamily, type Diagnostic } from '../../src/model/diagnostics.js';
import { parseMesh } from '../../src/model/load.js';
import { render } from '../../src/render.js';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { groupDiagnostics, moreLine, parseSuppress, perCodeSummary, shapeOf } from '../../src/cli/digest.js';
import { ROOT } from '../support/meshes.js';
import { seededRandom } from '../support/random.js';

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

const SEED = process.env.MESHGEN_SEED !== undefined ? Number(process.env.MESHGEN_SEED) : Date.now() % 2 ** 32;

/** The shape as a regular expression gives it: quoted text (with its escapes) and other digits out. */
const shapeByRegex = (m: string): string =>
  m.replace(/"((?:\\[\s\S]?|[^"\\])*)("?)/g, (_all, _inner, close: string) => `"${close}`).replace(/\d/g, '');

describe('groupDiagnostics against a reference', () => {
  // printed, so that a failure seen once can be replayed: MESHGEN_SEED=<seed> npx vitest run <this file>
  console.log(`digest seed: ${SEED} (MESHGEN_SEED=${SEED} replays it)`);
  const random = seededRandom(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const quoted = () =>
    '"' +
    Array.from({ length: Math.floor(random() * 4) }, () => pick(['a', '7', '\\"', '\\\\', ' ', '"'])).join(
      '',
    ) +
    '"';
  const part = () =>
    pick([
      'backend ',
      'route ',
      ': ',
      'x',
      'y',
      '1',
      '42',
      ' uses ',
      '"',
      '\\',
      '\u00e9',
      quoted(),
      quoted(),
    ]);

  it('gives the groups of a key per code, target, severity and regex-built shape, in any mix', () => {
    for (let round = 0; round < 200; round++) {
      const templates = Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
        Array.from({ length: 1 + Math.floor(random() * 5) }, part),
      );
      const ds: Diagnostic[] = Array.from({ length: Math.floor(random() * 300) }, () => {
        const message = pick(templates)
          .map((p) => (p.startsWith('"') && p.length > 1 && random() < 0.5 ? quoted() : p))
          .join('');
        const target = pick([undefined, '', 'istio', 'linkerd']);
        return {
          ...diagnostic(pick(['MG3001', 'MG3002', 'MG3005'] as const), message, { target }),
          severity: pick(['warning', 'info', 'error'] as const),
        };
      });
      const expected = new Map<string, { first: Diagnostic; count: number }>();
      for (const d of ds) {
        const key = JSON.stringify([d.code, d.target ?? '', d.severity, shapeByRegex(d.message)]);
        const g = expected.get(key);
        if (g) g.count++;
        else expected.set(key, { first: d, count: 1 });
      }
      const groups = groupDiagnostics(ds, (xs) => [...xs]);
      const got = new Map(groups.map((g) => [g.first, g.count]));
      expect(got).toEqual(new Map([...expected.values()].map((g) => [g.first, g.count])));
      for (const d of ds) expect(shapeOf(d.message)).toBe(shapeByRegex(d.message));
    }
  });
});

describe('counts and order without the locale data', () => {
  it('groups digits by three as toLocaleString does', () => {
    const d = diagnostic('MG3001', 'm', { target: 'istio' });
    for (const n of [2, 11, 1000, 1001, 12346, 999999, 1000000, 1234567890])
      expect(moreLine({ first: d, count: n })).toContain(
        ` and ${(n - 1).toLocaleString('en-US')} more similar`,
      );
  });

  it('orders as localeCompare does', () => {
    const words = [
      'MG3001',
      'MG3002',
      'MG3010',
      'MG1001',
      'MG10001',
      'mg3001',
      'a',
      'B',
      '',
      'b.yaml',
      'a-b',
      'é',
      'e',
    ];
    for (const a of words)
      for (const b of words) expect(Math.sign(compareText(a, b))).toBe(Math.sign(a.localeCompare(b)));
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

describe('families', () => {
  it("puts a family's diagnostics in the group its first one joined, without reading their messages", () => {
    const d = (message: string, family?: string) => {
      const x = diagnostic('MG3002', message, { target: 'linkerd' });
      return family === undefined ? x : inFamily(family, x);
    };
    // the second message has another shape: only its family puts it with the first
    const counts = (ds: Diagnostic[]) => groupDiagnostics(ds, (xs) => [...xs]).map((g) => g.count);
    expect(counts([d('backend "a": one shape', 'f'), d('backend "b": other words', 'f')])).toEqual([2]);
    expect(counts([d('backend "a": one shape'), d('backend "b": other words')])).toEqual([1, 1]);
    // a family does not cross targets or severities
    const other = { ...d('backend "c": one shape', 'f'), target: 'consul' };
    expect(counts([d('backend "a": one shape', 'f'), other])).toEqual([1, 1]);
    // and its first diagnostic still joins a group of its shape made before it
    expect(
      counts([d('backend "z": one shape'), d('backend "a": one shape', 'f'), d('x "b": y', 'f')]),
    ).toEqual([3]);
  });

  // every site that names a family, with the values that vary outside quotes varied: the groups
  // with families must be those that messages' shapes give
  const random = seededRandom(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const conditions = ['5xx', 'reset', 'gateway-error', 'connect-failure', 'retriable-4xx', '503'];
  const retryOn = () => [
    ...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(conditions))),
  ];
  const varied = generateMesh(300)
    .replace(/baseEjectionTime: 30s/g, () => `baseEjectionTime: ${pick(['30s', '90s', '500ms', '2m', '1h'])}`)
    .replace(/on: \[5xx, connect-failure\]/g, () => `on: [${retryOn().join(', ')}]`)
    .replace(/prefix: \/api\//g, () => `prefix: ${pick(['/api/', '/api', '/', '/v1/x/'])}`);
  const warnings = path.join(ROOT, 'test/fixtures/warnings');
  const meshes: [string, string][] = [
    ...['shop', 'bookinfo', 'tcp', 'hello'].map((n): [string, string] => [
      n,
      fs.readFileSync(path.join(ROOT, 'examples', `${n}.yaml`), 'utf8'),
    ]),
    ...fs
      .readdirSync(warnings)
      .filter((f) => f.endsWith('.yaml'))
      .map((f): [string, string] => [f, fs.readFileSync(path.join(warnings, f), 'utf8')]),
    ['generated, varied', varied],
  ];
  const summary = (ds: Diagnostic[]) =>
    groupDiagnostics(ds, (xs) => [...xs]).map((g) => [
      g.first.code,
      g.first.target,
      g.first.severity,
      g.first.message,
      g.count,
    ]);

  it("give the groups that the messages' shapes give, on the examples, the warning fixtures and a varied mesh", () => {
    let marked = 0;
    for (const [name, text] of meshes) {
      const loaded = parseMesh(text, { file: name });
      expect(loaded.mesh, name).toBeDefined();
      const ds = [...loaded.diagnostics, ...render(loaded.mesh!, { targets: 'all' }).diagnostics];
      marked += ds.filter((d) => d[FAMILY] !== undefined).length;
      const unmarked = ds.map((d) => {
        const { [FAMILY]: _family, ...rest } = d;
        return rest;
      });
      expect(summary(ds), name).toEqual(summary(unmarked));
    }
    // the generated mesh alone has thousands: the comparison above is not vacuous
    expect(marked).toBeGreaterThan(1000);
  });
});
