import { describe, expect, it } from 'vitest';
import { parseTests } from '../../src/meshtest/load.js';
import { exampleMesh } from '../support/meshes.js';

const shop = exampleMesh('shop');
const head = `apiVersion: meshgen.io/v1alpha1
kind: MeshTest
metadata: { name: t }
spec:
  cases:
`;
const parse = (cases: string) => parseTests(head + cases, 't.test.yaml', shop);
const codes = (cases: string) =>
  parse(cases).diagnostics.map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`);

describe('MeshTest files', () => {
  it('reads a valid file into cases with their pointers', () => {
    const r = parse(`    - name: beta
      request: { frontend: public, path: /, headers: { x-beta: "1" } }
      backends: { web/v1: { failFirst: 1, delay: 10ms } }
      expect: { status: 200, backend: web, version: v2, responseHeaders: { x-release: beta, server: null } }
    - name: pay
      request: { caller: checkout, backend: payments, method: POST, path: /pay }
`);
    expect(r.diagnostics).toEqual([]);
    expect(r.cases?.map((c) => [c.name, c.pointer])).toEqual([
      ['beta', '/spec/cases/0'],
      ['pay', '/spec/cases/1'],
    ]);
  });

  it('rejects unknown fields at the key, with a suggestion', () => {
    expect(
      codes(`    - name: a
      request: { frontend: public }
      expect: { stauts: 200 }
`),
    ).toEqual(['MG6002 8:17 unknown field "stauts" in /spec/cases/0/expect']);
  });

  it('asks for a frontend, or a caller and the backend it calls', () => {
    expect(
      codes(`    - name: a
      request: { caller: checkout }
`)[0],
    ).toMatch(/^MG6003 7:16 .*either a frontend or a caller/);
  });

  it('bounds strings and numbers', () => {
    const long = 'a'.repeat(70);
    expect(
      codes(`    - name: ${long}
      request: { frontend: public, count: 0 }
`).map((c) => c.slice(0, 6)),
    ).toEqual(['MG6004', 'MG6004']);
  });

  it('names what the mesh does not have, located', () => {
    expect(
      codes(`    - name: a
      request: { frontend: publik }
      backends: { web/v9: { status: 500 } }
      expect: { backend: wbe }
`),
    ).toEqual([
      'MG6005 7:28 frontend "publik" is not in mesh "shop"',
      'MG6005 8:19 backend "web" has no version "v9"',
      'MG6005 9:26 backend "wbe" is not in mesh "shop"',
    ]);
  });

  it('refuses duplicate names and contradictions', () => {
    expect(
      codes(`    - name: a
      request: { frontend: public }
      expect: { denied: true, backend: web, shares: { web/v1: 0.5 } }
    - name: a
      request: { frontend: public }
`).map((c) => c.slice(0, 6)),
    ).toEqual(['MG6007', 'MG6007', 'MG6006']);
  });

  it('says when the document is not a MeshTest', () => {
    const r = parseTests('apiVersion: meshgen.io/v1alpha1\nkind: Mesh\n', 'x.yaml', shop);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG6001']);
  });
});
