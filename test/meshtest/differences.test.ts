import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMesh } from '../../src/model/load.js';
import type { MeshDocument } from '../../src/model/types.js';
import { parseTests } from '../../src/meshtest/load.js';
import { formatJunit, formatResults } from '../../src/meshtest/report.js';
import { runTests } from '../../src/meshtest/run.js';
import { ROOT } from '../support/meshes.js';

const text = fs.readFileSync(path.join(ROOT, 'examples', 'shop.yaml'), 'utf8');
const loaded = parseMesh(text, { file: 'examples/shop.yaml' });
const document = loaded.document as MeshDocument;
const shop = loaded.mesh!;

const head = `apiVersion: meshgen.io/v1alpha1
kind: MeshTest
metadata: { name: t }
spec:
  cases:
`;
// a path no route of catalog matches: the mesh answers 404, Consul's default route 200
const notFound = `    - name: post-api
      request: { caller: web, backend: catalog, method: POST, path: /api/items }
      expect: { status: 404, backend: null }
`;
const parse = (cases: string) => parseTests(head + cases, 't.test.yaml', shop);
const codes = (cases: string) =>
  parse(cases).diagnostics.map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`);

describe('known differences in test files', () => {
  it('reads a difference with its reason and expectation', () => {
    const r = parse(`${notFound}      differences:
        - target: consul
          reason: default route
          expect: { status: 200, backend: catalog }
`);
    expect(r.diagnostics).toEqual([]);
    expect(r.cases![0]!.differences).toEqual([
      { target: 'consul', reason: 'default route', expect: { status: 200, backend: 'catalog' } },
    ]);
  });

  it('requires a reason, and bounds it', () => {
    expect(
      codes(`${notFound}      differences:
        - { target: consul, expect: { status: 200 } }
`),
    ).toEqual(['MG6003 10:11 /spec/cases/0/differences/0 is missing the required field "reason"']);
    expect(
      codes(`${notFound}      differences:
        - { target: consul, reason: "${'x'.repeat(600)}", expect: { status: 200 } }
`).map((c) => c.slice(0, 12)),
    ).toEqual(['MG6004 10:37']);
  });

  it('names a target meshgen test does not know, with the nearest one', () => {
    expect(
      codes(`${notFound}      differences:
        - { target: consull, reason: r, expect: { status: 200 } }
`),
    ).toEqual(['MG6008 10:21 "consull" is not a target of meshgen test']);
    expect(
      parse(`${notFound}      differences:
        - { target: consull, reason: r, expect: { status: 200 } }
`).diagnostics[0]!.hint,
    ).toBe('did you mean "consul"?');
  });

  it('refuses a target declared twice in one case', () => {
    expect(
      codes(`${notFound}      differences:
        - { target: consul, reason: r, expect: { status: 200 } }
        - { target: consul, reason: s, expect: { status: 201 } }
`),
    ).toEqual(['MG6009 11:21 the difference of target "consul" is declared twice in this case']);
  });

  it("checks the declared expectation merged over the case's: names and contradictions, once", () => {
    expect(
      codes(`    - name: pay
      request: { caller: checkout, backend: payments, method: POST, path: /pay }
      expect: { backend: payments }
      differences:
        - { target: istio, reason: r, expect: { denied: true } }
        - { target: consul, reason: r, expect: { backend: paymnts } }
`),
    ).toEqual([
      'MG6007 10:57 a denied request reaches no backend: drop expect.backend or expect.denied',
      'MG6005 11:59 backend "paymnts" is not in mesh "shop"',
    ]);
  });
});

describe('known differences in a run', () => {
  const run = async (differences: string) => {
    const cases = parse(notFound + differences).cases!;
    return runTests(document, cases, { targets: ['istio', 'consul'] });
  };

  it('holds the target to its declared expectation and reports "differs (known)" with the reason', async () => {
    const r = await run(`      differences:
        - target: consul
          reason: Consul's implicit default route
          expect: { status: 200, backend: catalog }
`);
    expect(r.results.map((x) => [x.target, x.verdict, x.difference])).toEqual([
      ['istio', 'pass', undefined],
      ['consul', 'differs', "Consul's implicit default route"],
    ]);
    expect(r.passed).toBe(true);
    const text = formatResults(r);
    expect(text).toMatch(/post-api +pass +differs \(known\)/);
    expect(text).toContain("differs (known) post-api on consul (simulated): Consul's implicit default route");
    expect(text).toContain('1 passed, 1 differ (known), 0 failed');
    const junit = formatJunit(r);
    expect(junit).toContain(
      '<property name="known-difference" value="Consul&#39;s implicit default route"/>',
    );
    expect(junit).toContain('<system-out>differs (known): Consul&#39;s implicit default route</system-out>');
    expect(JSON.parse(JSON.stringify(r)).results[1]).toMatchObject({
      verdict: 'differs',
      difference: "Consul's implicit default route",
    });
  });

  it('still fails a target that does not behave as declared', async () => {
    const r = await run(`      differences:
        - target: consul
          reason: wrongly declared
          expect: { status: 200, backend: payments }
`);
    const consul = r.results.find((x) => x.target === 'consul')!;
    expect(consul.verdict).toBe('fail');
    expect(consul.failures).toEqual([{ what: 'backend', expected: '"payments"', observed: '"catalog"' }]);
    expect(r.passed).toBe(false);
    expect(formatResults(r)).toContain('(held to its declared difference: wrongly declared)');
  });

  it('fails the target when no difference is declared', async () => {
    const r = await run('');
    expect(r.results.map((x) => [x.target, x.verdict])).toEqual([
      ['istio', 'pass'],
      ['consul', 'fail'],
    ]);
  });

  it('leaves the declared target alone where it is not run', async () => {
    const cases = parse(`${notFound}      differences:
        - { target: consul, reason: r, expect: { status: 200 } }
`).cases!;
    const r = await runTests(document, cases, { targets: ['istio'] });
    expect(r.results.map((x) => x.verdict)).toEqual(['pass']);
  });
});
