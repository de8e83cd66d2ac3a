import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importMesh } from '../../src/import/index.js';

const DIR = 'test/fixtures/import/consul';

function fixtures() {
  return fs
    .readdirSync(DIR)
    .filter((f) => /\.(hcl|json)$/.test(f))
    .sort()
    .map((f) => ({ file: path.join(DIR, f), text: fs.readFileSync(path.join(DIR, f), 'utf8') }));
}

const brief = (ds: ReturnType<typeof importMesh>['diagnostics']) =>
  ds.map((d) => `${d.file ?? ''}:${d.line ?? ''}:${d.column ?? ''}: ${d.code} ${d.message}`).join('\n');

describe('import --from consul', () => {
  it('reads HCL and JSON config entries into the expected mesh and diagnostics', () => {
    const r = importMesh(fixtures(), { from: 'consul', namespace: 'shop' });
    const expected = path.join(DIR, 'expected');
    if (process.env['UPDATE_EXPECTED']) {
      fs.writeFileSync(`${expected}.yaml`, r.yaml ?? '');
      fs.writeFileSync(`${expected}.diagnostics.txt`, brief(r.diagnostics) + '\n');
    }
    expect(r.yaml).toBe(fs.readFileSync(`${expected}.yaml`, 'utf8'));
    expect(brief(r.diagnostics) + '\n').toBe(fs.readFileSync(`${expected}.diagnostics.txt`, 'utf8'));
  });
});
