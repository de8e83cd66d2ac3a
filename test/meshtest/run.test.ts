import { describe, expect, it } from 'vitest';
import { parseMesh } from '../../src/model/load.js';
import type { MeshDocument } from '../../src/model/types.js';
import { parseTests } from '../../src/meshtest/load.js';
import { runTests } from '../../src/meshtest/run.js';
import type { Simulator } from '../../src/meshtest/simulate/types.js';
import { hasBinary } from '../support/processes.js';

// the ports and endpoints are the mesh author's: the runner moves them to free ports and stubs
const MESH = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: tiny }
spec:
  namespace: tiny
  mtls: { mode: disabled }
  backends:
    - name: echo
      port: 8080
      versions:
        - { name: v1, endpoints: ["10.0.0.1:80"] }
        - { name: v2, endpoints: ["10.0.0.2:80"] }
  frontends:
    - { name: web, port: 80, protocol: http, hosts: [tiny.test] }
  routes:
    - name: v2-by-header
      parent: { frontend: web }
      match: [{ headers: { x-v: { exact: "2" } } }]
      to: [{ backend: echo, version: v2 }]
    - name: split
      parent: { frontend: web }
      match: [{ path: { prefix: /split } }]
      to:
        - { backend: echo, version: v1, weight: 70 }
        - { backend: echo, version: v2, weight: 30 }
    - name: retry
      parent: { frontend: web }
      match: [{ path: { prefix: /retry } }]
      to: [{ backend: echo, version: v1 }]
      retries: { attempts: 1, on: ["503"] }
`;
const TESTS = `
apiVersion: meshgen.io/v1alpha1
kind: MeshTest
metadata: { name: tiny }
spec:
  cases:
    - name: header
      request: { frontend: web, path: /x, headers: { x-v: "2" } }
      expect: { status: 200, backend: echo, version: v2 }
    - name: header-wrong
      request: { frontend: web, path: /x, headers: { x-v: "2" } }
      expect: { backend: echo, version: v1 }
    - name: no-route
      request: { frontend: web, path: /nothing }
      expect: { status: 404, backend: null }
    # 400 requests: a share of 0.3 has a standard deviation of 0.023, and ±0.12 is five of them
    - name: split
      request: { frontend: web, path: /split, count: 400 }
      expect: { shares: { echo/v1: 0.7, echo/v2: 0.3 }, tolerance: 0.12 }
    - name: retried
      request: { frontend: web, path: /retry }
      backends: { echo/v1: { failFirst: 1 } }
      expect: { status: 200, tries: 2 }
    - name: agree
      request: { frontend: web, path: /x, headers: { x-v: "2" } }
`;

const loaded = parseMesh(MESH, { file: 'tiny.yaml' });
const document = loaded.document as MeshDocument;
const cases = parseTests(TESTS, 'tiny.test.yaml', loaded.mesh!).cases!;

/** A stand-in interpreter: answers every request from echo v1, and knows nothing of splits. */
const fake: Simulator = (_files, c) =>
  c.path.startsWith('/split')
    ? { kind: 'unsupported', reason: 'no splits here' }
    : { kind: 'observed', status: 200, backend: 'echo', version: 'v1', tries: 1 };

describe.runIf(hasBinary('haproxy'))('runTests', () => {
  it('runs each case on the real target and the simulated one, and judges each', async () => {
    const seen: string[] = [];
    const r = await runTests(document, cases, {
      targets: ['haproxy', 'fake'],
      simulators: { fake },
      onResult: (x) => seen.push(`${x.target}:${x.case}`),
    });
    const verdicts = Object.fromEntries(r.results.map((x) => [`${x.target}:${x.case}`, x.verdict]));
    expect(verdicts).toEqual({
      'haproxy:header': 'pass',
      'fake:header': 'fail',
      'haproxy:header-wrong': 'fail',
      'fake:header-wrong': 'pass',
      'haproxy:no-route': 'pass',
      'fake:no-route': 'fail',
      'haproxy:split': 'pass',
      'fake:split': 'unsupported',
      'haproxy:retried': 'pass',
      'fake:retried': 'fail',
      // no expectation: the targets disagree on the version, so both fail
      'haproxy:agree': 'fail',
      'fake:agree': 'fail',
    });
    expect(seen).toHaveLength(12);
    expect(r.passed).toBe(false);
    expect(r.targets).toEqual([
      { target: 'haproxy', simulated: false },
      { target: 'fake', simulated: true },
    ]);
    expect(r.results.filter((x) => x.target === 'fake').every((x) => x.simulated)).toBe(true);
    const wrong = r.results.find((x) => x.target === 'haproxy' && x.case === 'header-wrong')!;
    expect(wrong.failures).toEqual([{ what: 'version', expected: '"v1"', observed: '"v2"' }]);
    const shares = r.results.find((x) => x.target === 'haproxy' && x.case === 'split')!.observed!.shares!;
    expect(shares['echo/v1']! + shares['echo/v2']!).toBe(1);
  }, 60_000);

  it('says a target it can neither run nor simulate is an error, not a pass', async () => {
    const r = await runTests(document, cases.slice(0, 1), { targets: ['istio-nothing'] });
    expect(r.results.map((x) => x.verdict)).toEqual(['error']);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG6022']);
    expect(r.passed).toBe(false);
  });
});
