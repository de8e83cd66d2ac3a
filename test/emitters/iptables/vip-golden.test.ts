import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { EXAMPLES, ROOT, exampleMesh } from '../../support/meshes.js';

/**
 * The shared golden loop renders the default (sidecar) mode; this one keeps the reviewed vip-mode
 * output of every example in test/fixtures/iptables-vip/<example>/expected/iptables/.
 * UPDATE_EXPECTED=1 rewrites it for review.
 */
const update = process.env.UPDATE_EXPECTED === '1';

describe.each(EXAMPLES)('example %s', (example) => {
  it('renders in vip mode as reviewed', () => {
    const result = render(exampleMesh(example), { targets: ['iptables'], settings: { mode: 'vip' } });
    const diagnostics = result.diagnostics
      .map((d) => `${d.severity} ${d.code} ${d.pointer ?? ''}: ${d.message}`)
      .sort();
    const files = [
      ...result.outputs[0]!.files,
      { path: 'diagnostics.txt', contents: diagnostics.join('\n') + (diagnostics.length ? '\n' : '') },
    ];
    const dir = path.join(ROOT, 'test', 'fixtures', 'iptables-vip', example, 'expected', 'iptables');
    if (update) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      for (const f of files) fs.writeFileSync(path.join(dir, f.path), f.contents);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(files.map((f) => f.path).sort());
    for (const f of files) expect(f.contents, f.path).toBe(fs.readFileSync(path.join(dir, f.path), 'utf8'));
  });
});
