import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitters } from '../../src/emitters/index.js';
import { render } from '../../src/render.js';
import { EXAMPLES, ROOT, exampleMesh } from '../support/meshes.js';

/**
 * Every example through every emitter, compared with the reviewed output in test/golden/<example>/
 * <target>/ (diagnostics included). Golden files only catch change; correctness comes from each
 * target's own checks (CRD schemas, haproxy -c, nginx -t, Envoy's protos, live traffic).
 * UPDATE_EXPECTED=1 rewrites them for review.
 */
const update = process.env.UPDATE_EXPECTED === '1';

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe.each(EXAMPLES)('example %s', (example) => {
  it.each(emitters.map((e) => e.target))('renders to %s as reviewed', (target) => {
    const mesh = exampleMesh(example);
    const result = render(mesh, { targets: [target] });
    const files = [...(result.outputs[0]?.files ?? [])];
    const diagnostics = result.diagnostics
      .map((d) => `${d.severity} ${d.code} ${d.pointer ?? ''}: ${d.message}`)
      .sort();
    files.push({
      path: 'diagnostics.txt',
      contents: diagnostics.join('\n') + (diagnostics.length ? '\n' : ''),
    });
    const dir = path.join(ROOT, 'test', 'golden', example, target);
    if (update) {
      fs.rmSync(dir, { recursive: true, force: true });
      for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, f.path), f.contents);
      }
    }
    expect(listFiles(dir)).toEqual(files.map((f) => f.path).sort());
    for (const f of files) expect(f.contents, f.path).toBe(fs.readFileSync(path.join(dir, f.path), 'utf8'));
  });
});
