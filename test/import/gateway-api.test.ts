import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMesh } from '../../src/import/index.js';
import { parseMesh } from '../../src/model/load.js';
import { toYaml } from '../../src/yaml/writer.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { meshFrom } from '../support/meshes.js';
import { hasBinary, startOnFreePorts, startProcess, type Started } from '../support/processes.js';
import { diagnosticLines, expectGolden, readInputs } from './goldens.js';
import { renderTo, request, tempDir } from '../smartstack/live.js';
import { parseTests } from '../../src/meshtest/load.js';
import { runTests } from '../../src/meshtest/run.js';
import { render } from '../../src/render.js';

/**
 * The Gateway API repository's examples (test/fixtures/import/gateway-api/README.md names their
 * source). The mesh written and the diagnostics are kept in expected/; UPDATE_EXPECTED=1 rewrites them.
 */
const dir = 'test/fixtures/import/gateway-api';

const inputs = (files: readonly string[]) => readInputs(dir, files);

function folder(name: string): string[] {
  return fs
    .readdirSync(path.join(dir, name))
    .sort()
    .map((f) => `${name}/${f}`);
}

const lines = diagnosticLines;
const golden = (name: string, actual: string) => expectGolden(dir, name, actual);

describe('import --from gateway-api of the Gateway API examples', () => {
  it.each(['http-routing', 'simple-gateway', 'grpc-routing'])('%s', (name) => {
    const result = importMesh(inputs(folder(name)), { from: 'gateway-api', namespace: 'default' });
    golden(`${name}.diagnostics.txt`, lines(result.diagnostics));
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    golden(`${name}.mesh.yaml`, result.yaml!);
    expect(parseMesh(result.yaml!).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it.each(folder('traffic-splitting'))('%s: a route without parentRefs is a located diagnostic', (file) => {
    const result = importMesh(inputs([file]), { from: 'gateway-api' });
    golden(`${path.basename(file, '.yaml')}.diagnostics.txt`, lines(result.diagnostics));
    const unattached = result.diagnostics.filter((d) => d.code === 'MG7008');
    expect(unattached.length).toBeGreaterThan(0);
    expect(unattached.every((d) => d.file === file && d.line! > 0)).toBe(true);
  });

  it.each(folder('traffic-splitting'))(
    '%s with --parent gateway/prod-web-gw:80: attached, located, and a mesh that validates',
    (file) => {
      const result = importMesh(inputs([file]), { from: 'gateway-api', parent: 'gateway/prod-web-gw:80' });
      const name = path.basename(file, '.yaml');
      golden(`${name}.parent.diagnostics.txt`, lines(result.diagnostics));
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(result.diagnostics.filter((d) => d.code === 'MG7008')).toEqual([]);
      const attached = result.diagnostics.filter((d) => d.code === 'MG7012');
      expect(attached).toHaveLength(1);
      expect(attached[0]).toMatchObject({ file, severity: 'info' });
      expect(attached[0]!.line).toBeGreaterThan(0);
      golden(`${name}.parent.mesh.yaml`, result.yaml!);
      expect(parseMesh(result.yaml!).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(result.document!.spec.frontends).toEqual([{ name: 'prod-web-gw', port: 80, protocol: 'http' }]);
    },
  );

  it('--parent: a Gateway among the inputs, a Service parent, and bad values as MG7014', () => {
    const gw = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge }
spec:
  listeners:
    - { name: http, port: 80, protocol: HTTP }
    - { name: alt, port: 8081, protocol: HTTP }
---
apiVersion: v1
kind: Service
metadata: { name: foo-v1 }
spec: { selector: { app: foo-v1 }, ports: [{ name: http, port: 8080 }] }
`;
    const files = [...inputs(['traffic-splitting/simple-split.yaml']), { file: 'gw.yaml', text: gw }];
    const onGateway = importMesh(files, { from: 'gateway-api', parent: 'gateway/edge:8081' });
    expect(onGateway.document!.spec.routes!.map((r) => r.parent)).toEqual([{ frontend: 'edge-alt' }]);
    const allListeners = importMesh(files, { from: 'gateway-api', parent: 'gateway/edge' });

    expect(allListeners.document!.spec.routes!.map((r) => r.parent)).toEqual([
      { frontend: 'edge-http' },
      { frontend: 'edge-alt' },
    ]);
    const noListener = importMesh(files, { from: 'gateway-api', parent: 'gateway/edge:9999' });
    expect(
      noListener.diagnostics.find((d) => d.code === 'MG7005' && d.message.includes('9999')),
    ).toMatchObject({
      file: 'traffic-splitting/simple-split.yaml',
      line: 8,
    });
    const onService = importMesh(files, { from: 'gateway-api', parent: 'service/foo-v1' });
    expect(onService.document!.spec.routes!.map((r) => r.parent)).toEqual([{ backend: 'foo-v1' }]);
    for (const bad of [
      'gateway/nowhere',
      'service/nowhere',
      'gateway/Bad_Name:80',
      'route/x',
      'gateway/x:70000',
      'service/foo-v1:80',
    ]) {
      const r = importMesh(files, { from: 'gateway-api', parent: bad });
      expect(r.diagnostics.map((d) => [d.code, d.severity])).toContainEqual(['MG7014', 'error']);
      expect(r.diagnostics.find((d) => d.code === 'MG7014')!.message).toContain(bad);
    }
    const istio = importMesh(files, { from: 'istio', parent: 'gateway/edge' });
    expect(istio.diagnostics.map((d) => d.code)).toEqual(['MG7014']);
  });

  it('puts rules in Gateway API precedence order and says so', () => {
    const text = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: shop }
spec:
  parentRefs: [{ kind: Service, group: "", name: web, port: 80 }]
  rules:
    - backendRefs: [{ name: web-v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /beta } }]
      backendRefs: [{ name: web-v2, port: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { selector: { app: web }, ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: web-v1, namespace: shop }
spec: { selector: { app: web, version: v1 }, ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: web-v2, namespace: shop }
spec: { selector: { app: web, version: v2 }, ports: [{ name: http, port: 80 }] }
`;
    const result = importMesh([{ file: 'in.yaml', text }], { from: 'gateway-api' });
    const routes = result.document!.spec.routes!;
    expect(routes.map((r) => r.to)).toEqual([
      [{ backend: 'web', version: 'v2' }],
      [{ backend: 'web', version: 'v1' }],
    ]);
    // a Gateway API prefix is whole segments: /beta itself and what is under /beta/
    expect(routes[0]!.match).toEqual([{ path: { exact: '/beta' } }, { path: { prefix: '/beta/' } }]);
    expect(result.diagnostics.find((d) => d.code === 'MG7006')).toMatchObject({ file: 'in.yaml', line: 2 });
    expect(result.document!.spec.backends.map((b) => b.name)).toEqual(['web']);
  });
});

const run = hasBinary('haproxy');
(run ? describe : describe.skip)('the http-routing example, imported, through HAProxy', () => {
  const backends = new Map<string, TestBackend>();
  let proxy: Started;
  let port = 0;

  beforeAll(async () => {
    const imported = importMesh(inputs(folder('http-routing')), {
      from: 'gateway-api',
      namespace: 'default',
    });
    const doc = imported.document!;
    for (const b of doc.spec.backends)
      for (const v of b.versions) {
        const backend = await startBackend(b.name, v.name);
        backends.set(b.name, backend);
        v.endpoints = [`127.0.0.1:${backend.port}`];
      }
    doc.spec.mtls = { mode: 'disabled' };
    const names = [...doc.spec.backends.map((b) => b.name), 'gateway'];
    ({ proc: proxy } = await startOnFreePorts(
      names.length,
      (free) => {
        doc.spec.backends.forEach((b, i) => (b.port = free[i]!));
        port = free[names.length - 1]!;
        doc.spec.frontends![0]!.port = port;
        const out = tempDir('import-gateway-api');
        renderTo(meshFrom(toYaml(doc)), 'haproxy', out);
        return startProcess('haproxy', ['-db', '-f', path.join(out, 'haproxy.cfg')], { cwd: out });
      },
      { ready: (free) => [free[names.length - 1]!] },
    ));
  });
  afterAll(async () => {
    await proxy?.stop();
    for (const b of backends.values()) await b.close();
  });

  const get = (host: string, p: string, headers: Record<string, string> = {}) =>
    request('127.0.0.1', port, p, { host, headers });

  it('routes bar.example.com with env: canary to bar-svc-canary, without it to bar-svc', async () => {
    expect((await get('bar.example.com', '/', { env: 'canary' })).json?.backend).toBe('bar-svc-canary');
    expect((await get('bar.example.com', '/', { env: 'prod' })).json?.backend).toBe('bar-svc');
  });

  it('routes foo.example.com/login (and /login/x, not /loginx) to foo-svc', async () => {
    expect((await get('foo.example.com', '/login')).json?.backend).toBe('foo-svc');
    expect((await get('foo.example.com', '/login/x')).json?.backend).toBe('foo-svc');
    expect((await get('foo.example.com', '/loginx')).status).toBe(404);
  });

  it('routes example.com to example-svc', async () => {
    expect((await get('example.com', '/anything')).json?.backend).toBe('example-svc');
  });
});

/**
 * traffic-split-1 and traffic-split-2 imported with --parent, rendered, and sent real requests by
 * `meshgen test` (test/fixtures/import/gateway-api/meshtest/) through HAProxy, NGINX and the data
 * plane's Envoy bootstraps. The examples name no endpoints: each version gets one, which the runner
 * moves to a stub backend, as a user fills them in after an import.
 */
const targets = ['haproxy', 'nginx', 'envoy'].filter((t) => t === 'envoy' || hasBinary(t));
describe('traffic-splitting examples imported with --parent, under real traffic', () => {
  function importedSplit(name: string) {
    const result = importMesh(inputs([`traffic-splitting/${name}.yaml`]), {
      from: 'gateway-api',
      namespace: 'default',
      parent: 'gateway/prod-web-gw:80',
    });
    const doc = result.document!;
    doc.spec.backends.forEach((b, i) =>
      b.versions.forEach((v, j) => (v.endpoints = [`10.0.${i}.${j + 1}:8080`])),
    );
    return doc;
  }

  it.each(['traffic-split-1', 'traffic-split-2'])(
    '%s: renders for haproxy and nginx (goldens) and passes its meshgen test file on every target',
    async (name) => {
      const doc = importedSplit(name);
      const mesh = meshFrom(toYaml(doc));
      for (const target of ['haproxy', 'nginx']) {
        const out = render(mesh, { targets: [target] });
        expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        for (const f of out.outputs[0]!.files.filter((x) => /\.(cfg|conf)$/.test(x.path)))
          golden(`render/${name}/${target}/${f.path}`, f.contents);
      }
      const testFile = path.join(dir, 'meshtest', `${name}.test.yaml`);
      const tests = parseTests(fs.readFileSync(testFile, 'utf8'), testFile, mesh);
      expect(tests.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const run = await runTests(doc, tests.cases!, { targets });
      const failed = run.results.filter((r) => r.verdict !== 'pass');
      expect(
        failed.map((r) => ({ target: r.target, case: r.case, failures: r.failures, observed: r.observed })),
      ).toEqual([]);
      expect(run.results).toHaveLength(targets.length * tests.cases!.length);
      if (name === 'traffic-split-2')
        for (const r of run.results) {
          const shares = r.observed!.shares!;
          expect(shares['foo-v1/default']! + shares['foo-v2/default']!).toBe(1);
          expect(Math.abs(shares['foo-v2/default']! - 0.1)).toBeLessThan(0.06);
        }
    },
    240_000,
  );
});
