import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importMesh } from '../../src/import/index.js';

const DIR = 'test/fixtures/import/consul-canary';

describe("HashiCorp's canary config entries (consul-service-mesh-for-developers)", () => {
  it('import as a 50/50 split between versions selected by Service.Meta.version', () => {
    const inputs = ['payments_resolver.hcl', 'payments_splitter.hcl'].map((f) => ({
      file: path.join(DIR, f),
      text: fs.readFileSync(path.join(DIR, f), 'utf8'),
    }));
    const r = importMesh(inputs, { from: 'consul', namespace: 'default' });
    expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    const spec = r.document!.spec;
    expect(spec.backends).toEqual([
      {
        name: 'payment',
        port: 80,
        versions: [
          { name: 'blue', labels: { version: '2' } },
          { name: 'green', labels: { version: '3' } },
        ],
      },
    ]);
    expect(spec.routes).toEqual([
      {
        name: 'payment',
        parent: { backend: 'payment' },
        to: [
          { backend: 'payment', version: 'blue', weight: 50 },
          { backend: 'payment', version: 'green', weight: 50 },
        ],
      },
    ]);
    expect(r.yaml).toContain(`# from ${DIR}/payments_splitter.hcl:4 (service-splitter payment)`);
  });
});
