import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importMesh } from '../../src/import/index.js';
import { parseMesh } from '../../src/model/load.js';
import { diagnosticLines, expectGolden, readInputs } from './goldens.js';

/**
 * Istio's own Bookinfo samples (test/fixtures/import/istio-bookinfo/README.md names their source):
 * the platform objects, the gateway and the destination rules, with each traffic-management sample
 * in turn. The mesh written and the diagnostics are kept in expected/; UPDATE_EXPECTED=1 rewrites them.
 */
const dir = 'test/fixtures/import/istio-bookinfo';
const base = [
  'platform/bookinfo.yaml',
  'networking/bookinfo-gateway.yaml',
  'networking/destination-rule-all.yaml',
];
const samples = fs
  .readdirSync(path.join(dir, 'networking'))
  .filter(
    (f) => f.startsWith('virtual-service-') || f.startsWith('fault-injection-') || f.startsWith('egress-'),
  )
  .sort();

const inputs = (files: readonly string[]) => readInputs(dir, files);

const lines = diagnosticLines;
const golden = (name: string, actual: string) => expectGolden(dir, name, actual);

describe('import --from istio of the Bookinfo samples', () => {
  it.each(['(base only)', ...samples])('%s', (sample) => {
    const files = sample === '(base only)' ? base : [...base, `networking/${sample}`];
    const result = importMesh(inputs(files), { from: 'istio', namespace: 'bookinfo' });
    const name = sample === '(base only)' ? 'base' : sample.replace(/\.yaml$/, '');
    golden(`${name}.diagnostics.txt`, lines(result.diagnostics));
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // every diagnostic points at a line of an input file
    for (const d of result.diagnostics.filter((x) => x.code !== 'MG7007')) {
      expect(files).toContain(d.file);
      expect(d.line).toBeGreaterThan(0);
    }
    golden(`${name}.mesh.yaml`, result.yaml!);
    const loaded = parseMesh(result.yaml!, { file: `${name}.mesh.yaml` });
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('carries the 50/50 split of reviews v1 and v3, the versions of the Deployments and their service accounts', () => {
    const result = importMesh(inputs([...base, 'networking/virtual-service-reviews-50-v3.yaml']), {
      from: 'istio',
      namespace: 'bookinfo',
    });
    const reviews = result.document!.spec.backends.find((b) => b.name === 'reviews')!;
    expect(reviews.versions.map((v) => v.name)).toEqual(['v1', 'v2', 'v3']);
    expect(reviews.serviceAccount).toBe('bookinfo-reviews');
    const route = result.document!.spec.routes!.find((r) => r.parent.backend === 'reviews')!;
    expect(route.to).toEqual([
      { backend: 'reviews', version: 'v1', weight: 50 },
      { backend: 'reviews', version: 'v3', weight: 50 },
    ]);
  });

  it('points at the line of a field that is not carried', () => {
    const text = [
      'apiVersion: v1',
      'kind: Service',
      'metadata: { name: web }',
      'spec: { selector: { app: web }, ports: [{ name: http, port: 80 }] }',
      '---',
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: { name: web }',
      'spec:',
      '  hosts: [web]',
      '  http:',
      '    - route: [{ destination: { host: web } }]',
      '      corsPolicy: { allowOrigins: [{ exact: "*" }] }',
    ].join('\n');
    const result = importMesh([{ file: 'in.yaml', text }], { from: 'istio' });
    const cors = result.diagnostics.find((d) => d.code === 'MG7004')!;
    expect(cors).toMatchObject({ file: 'in.yaml', line: 13, column: 19, severity: 'warning' });
    expect(cors.message).toContain('corsPolicy');
    const strict = importMesh([{ file: 'in.yaml', text }], { from: 'istio', strict: true });
    expect(strict.diagnostics.find((d) => d.code === 'MG7004')!.severity).toBe('error');
  });
});
