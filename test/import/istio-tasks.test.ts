import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { importMesh } from '../../src/import/index.js';
import { parseMesh } from '../../src/model/load.js';
import { parseTests } from '../../src/meshtest/load.js';
import { runTests } from '../../src/meshtest/run.js';
import { toYaml } from '../../src/yaml/writer.js';
import { meshFrom } from '../support/meshes.js';
import { hasBinary } from '../support/processes.js';
import { diagnosticLines, expectGolden, readInputs } from './goldens.js';

/**
 * The samples Istio's traffic-management tasks use beyond Bookinfo (TCP traffic shifting with
 * tcp-echo, ingress and circuit breaking with httpbin, helloworld), vendored in
 * test/fixtures/import/istio-tasks/ (its README names source, commit and licence). Each import is
 * kept in expected/ with its diagnostics; UPDATE_EXPECTED=1 rewrites them.
 */
const dir = 'test/fixtures/import/istio-tasks';

const cases: Record<string, string[]> = {
  // the task applies the services, then all-v1 (Gateway, DestinationRule, VirtualService)...
  'tcp-echo-all-v1': ['tcp-echo/tcp-echo-services.yaml', 'tcp-echo/tcp-echo-all-v1.yaml'],
  // ...then 20-v2, which replaces the VirtualService tcp-echo
  'tcp-echo-20-v2': [
    'tcp-echo/tcp-echo-services.yaml',
    'tcp-echo/tcp-echo-all-v1.yaml',
    'tcp-echo/tcp-echo-20-v2.yaml',
  ],
  httpbin: ['httpbin/httpbin.yaml', 'httpbin/httpbin-gateway.yaml'],
  helloworld: ['helloworld/helloworld.yaml', 'helloworld/helloworld-gateway.yaml'],
};

function imported(name: string) {
  const files = cases[name]!;
  return { files, result: importMesh(readInputs(dir, files), { from: 'istio', namespace: 'default' }) };
}

describe("import --from istio of the traffic-management tasks' samples", () => {
  it.each(Object.keys(cases))('%s', (name) => {
    const { files, result } = imported(name);
    expectGolden(dir, `${name}.diagnostics.txt`, diagnosticLines(result.diagnostics));
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    for (const d of result.diagnostics) {
      expect(files).toContain(d.file);
      expect(d.line).toBeGreaterThan(0);
    }
    expectGolden(dir, `${name}.mesh.yaml`, result.yaml!);
    expect(parseMesh(result.yaml!).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('tcp-echo: 20-v2 replaces the VirtualService of all-v1 (one route, 80/20), and says so at its name', () => {
    const { result } = imported('tcp-echo-20-v2');
    const routes = result.document!.spec.routes!;
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({
      parent: { frontend: 'tcp-echo-gateway' },
      to: [
        { backend: 'tcp-echo', version: 'v1', weight: 80 },
        { backend: 'tcp-echo', version: 'v2', weight: 20 },
      ],
    });
    const replaced = result.diagnostics.find((d) => d.code === 'MG7011')!;
    expect(replaced).toMatchObject({ file: 'tcp-echo/tcp-echo-20-v2.yaml', line: 18, severity: 'info' });
    expect(replaced.message).toContain('tcp-echo/tcp-echo-all-v1.yaml:');
  });

  it('tcp-echo: the Service port 9001 that a backend cannot have is named at its line', () => {
    const { result } = imported('tcp-echo-all-v1');
    const port = result.diagnostics.find((d) => d.code === 'MG7004')!;
    expect(port).toMatchObject({ file: 'tcp-echo/tcp-echo-services.yaml', line: 26, column: 5 });
    expect(port.message).toContain('9000');
  });
});

describe('TCP routes matching a port', () => {
  const gateway = (vsPorts: number[]) =>
    [
      'apiVersion: v1',
      'kind: Service',
      'metadata: { name: echo }',
      'spec: { selector: { app: echo }, ports: [{ name: tcp, port: 9000 }] }',
      '---',
      'apiVersion: networking.istio.io/v1',
      'kind: Gateway',
      'metadata: { name: gw }',
      'spec:',
      '  servers:',
      '    - { port: { number: 31400, name: tcp, protocol: TCP }, hosts: ["*"] }',
      '    - { port: { number: 31401, name: tcp2, protocol: TCP }, hosts: ["*"] }',
      '---',
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: { name: echo }',
      'spec:',
      '  hosts: ["*"]',
      '  gateways: [gw]',
      '  tcp:',
      ...vsPorts.flatMap((p) => [
        `    - match: [{ port: ${p} }]`,
        '      route: [{ destination: { host: echo, port: { number: 9000 } } }]',
      ]),
    ].join('\n');

  it('attach only to the Gateway server of that port', () => {
    const result = importMesh([{ file: 'in.yaml', text: gateway([31401]) }], { from: 'istio' });
    expect(result.document!.spec.frontends!.map((f) => [f.name, f.port])).toEqual([
      ['gw-0', 31400],
      ['gw-1', 31401],
    ]);
    expect(result.document!.spec.routes!.map((r) => r.parent)).toEqual([{ frontend: 'gw-1' }]);
    expect(result.diagnostics.filter((d) => d.code === 'MG7004')).toEqual([]);
  });

  it('a port no server listens on is a located MG7004, not a route on every server', () => {
    const result = importMesh([{ file: 'in.yaml', text: gateway([31400, 9]) }], { from: 'istio' });
    expect(result.document!.spec.routes!.map((r) => r.parent)).toEqual([{ frontend: 'gw-0' }]);
    const missed = result.diagnostics.find((d) => d.code === 'MG7004')!;
    expect(missed).toMatchObject({ file: 'in.yaml', line: 23, severity: 'warning' });
    expect(missed.message).toContain('port 9');
  });
});

/**
 * Two imports under real traffic: the `meshgen test` files of test/fixtures/import/istio-tasks/meshtest/
 * run on HAProxy, NGINX and the data plane. Istio's objects name no endpoints: each version gets one,
 * which the runner moves to a stub backend, as a user fills them in after an import.
 */
const targets = ['haproxy', 'nginx', 'envoy'].filter((t) => t === 'envoy' || hasBinary(t));
describe('imported task samples under real traffic', () => {
  it.each(['tcp-echo-20-v2', 'helloworld'])(
    '%s passes its meshgen test file on every target',
    async (name) => {
      const doc = imported(name).result.document!;
      doc.spec.backends.forEach((b, i) =>
        b.versions.forEach((v, j) => (v.endpoints = [`10.0.${i}.${j + 1}:${b.port}`])),
      );
      const mesh = meshFrom(toYaml(doc));
      const file = path.join(dir, 'meshtest', `${name}.test.yaml`);
      const tests = parseTests(fs.readFileSync(file, 'utf8'), file, mesh);
      expect(tests.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const run = await runTests(doc, tests.cases!, { targets });
      expect(
        run.results
          .filter((r) => r.verdict !== 'pass')
          .map((r) => ({ target: r.target, case: r.case, failures: r.failures, reason: r.reason })),
      ).toEqual([]);
      expect(run.results).toHaveLength(targets.length * tests.cases!.length);
      if (name === 'tcp-echo-20-v2')
        for (const r of run.results) {
          const shares = r.observed!.shares!;
          expect(shares['tcp-echo/v1']! + shares['tcp-echo/v2']!).toBe(1);
          expect(Math.abs(shares['tcp-echo/v2']! - 0.2)).toBeLessThan(0.08);
        }
    },
    240_000,
  );
});
