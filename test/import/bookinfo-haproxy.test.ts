import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMesh } from '../../src/import/index.js';
import { toYaml } from '../../src/yaml/writer.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { meshFrom } from '../support/meshes.js';
import { hasBinary, startOnFreePorts, startProcess, type Started } from '../support/processes.js';
import { renderTo, request, tempDir } from '../smartstack/live.js';

/**
 * Istio's Bookinfo samples, imported, rendered to HAProxy and sent real requests: reviews splits
 * 80/20 between v1 and v2 as virtual-service-reviews-80-20.yaml says, ratings aborts jason's
 * requests with 500 as virtual-service-ratings-test-abort.yaml says, and the gateway serves
 * /productpage and nothing else. Istio's objects name no endpoints and no proxy ports: the test
 * gives each version a test backend and each listener a free port, as a user fills them in after
 * an import; mTLS between the proxies is turned off (what is under test is routing).
 */
const dir = 'test/fixtures/import/istio-bookinfo';
const files = [
  'platform/bookinfo.yaml',
  'networking/bookinfo-gateway.yaml',
  'networking/destination-rule-all.yaml',
  'networking/virtual-service-reviews-80-20.yaml',
  'networking/virtual-service-ratings-test-abort.yaml',
];

const run = hasBinary('haproxy');
(run ? describe : describe.skip)('imported Bookinfo through HAProxy', () => {
  const backends = new Map<string, TestBackend>();
  let proxy: Started;
  let ports: Record<string, number> = {};

  beforeAll(async () => {
    const inputs = files.map((f) => ({ file: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
    const imported = importMesh(inputs, { from: 'istio', namespace: 'bookinfo' });
    expect(imported.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const doc = imported.document!;
    for (const b of doc.spec.backends)
      for (const v of b.versions) {
        const backend = await startBackend(b.name, v.name);
        backends.set(`${b.name}/${v.name}`, backend);
        v.endpoints = [`127.0.0.1:${backend.port}`];
      }
    doc.spec.mtls = { mode: 'disabled' };
    const names = [...doc.spec.backends.map((b) => b.name), 'gateway'];
    ({ proc: proxy } = await startOnFreePorts(names.length, (free) => {
      ports = Object.fromEntries(names.map((n, i) => [n, free[i]!]));
      for (const b of doc.spec.backends) b.port = ports[b.name]!;
      doc.spec.frontends![0]!.port = ports['gateway']!;
      const out = tempDir('import-bookinfo');
      renderTo(meshFrom(toYaml(doc)), 'haproxy', out);
      return startProcess('haproxy', ['-db', '-f', path.join(out, 'haproxy.cfg')], { cwd: out });
    }));
  });
  afterAll(async () => {
    await proxy?.stop();
    for (const b of backends.values()) await b.close();
  });

  // over 1,000 requests a share of 0.8 has a standard deviation of 0.013: ±7 points is 5.5 of them
  it('splits reviews 80/20 between v1 and v2 within ±7 points over 1,000 requests, v3 never', async () => {
    const n = 1000;
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await request('127.0.0.1', ports['reviews']!, `/reviews/${i}`);
      expect(r.status).toBe(200);
      seen[r.json!.version] = (seen[r.json!.version] ?? 0) + 1;
    }
    expect(seen['v3']).toBeUndefined();
    expect(seen['v1']! / n).toBeGreaterThan(0.73);
    expect(seen['v1']! / n).toBeLessThan(0.87);
    expect(seen['v1']! + seen['v2']!).toBe(n);
  });

  it("aborts jason's ratings requests with 500 before they reach ratings; others reach v1", async () => {
    const ratings = backends.get('ratings/v1')!;
    const before = ratings.seen.length;
    expect(
      (await request('127.0.0.1', ports['ratings']!, '/ratings/0', { headers: { 'end-user': 'jason' } }))
        .status,
    ).toBe(500);
    expect(ratings.seen.length).toBe(before);
    const r = await request('127.0.0.1', ports['ratings']!, '/ratings/0');
    expect(r.status).toBe(200);
    expect(r.json!.version).toBe('v1');
  });

  it('serves /productpage and /static/ through the gateway, and 404 elsewhere', async () => {
    const page = await request('127.0.0.1', ports['gateway']!, '/productpage');
    expect(page.status).toBe(200);
    expect(page.json).toMatchObject({ backend: 'productpage', version: 'v1' });
    expect((await request('127.0.0.1', ports['gateway']!, '/static/app.css')).json?.backend).toBe(
      'productpage',
    );
    expect((await request('127.0.0.1', ports['gateway']!, '/admin')).status).toBe(404);
  });
});
