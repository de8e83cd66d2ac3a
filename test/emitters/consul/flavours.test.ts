import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, exampleMesh } from '../../support/meshes.js';
import { emitConsul } from './helpers.js';

/**
 * The golden loop renders the default (CRD) flavour; this keeps the reviewed HCL and JSON output of
 * the shop example in test/fixtures/consul/shop-<format>/. UPDATE_EXPECTED=1 rewrites them.
 */
const update = process.env.UPDATE_EXPECTED === '1';

describe.each(['hcl', 'json'])('the %s flavour of the shop example', (format) => {
  it('matches the reviewed files', () => {
    const files = emitConsul(exampleMesh('shop'), format).files;
    const dir = path.join(ROOT, 'test', 'fixtures', 'consul', `shop-${format}`);
    if (update) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      for (const f of files) fs.writeFileSync(path.join(dir, f.path), f.contents);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(files.map((f) => f.path));
    for (const f of files) expect(f.contents, f.path).toBe(fs.readFileSync(path.join(dir, f.path), 'utf8'));
  });
});
