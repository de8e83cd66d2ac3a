import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/meshes.js';

/**
 * The package as a user gets it: `npm pack`, install the tarball into a fresh project, import the
 * library there (ESM, types) and run the bin.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-pack-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

describe('the npm package', () => {
  it('installs from its tarball and works as a library and a command', { timeout: 300_000 }, () => {
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/model/mesh-validator.js');
    expect(files).toContain('schemas/mesh.schema.json');
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false);
    // the library entry is one bundled module (scripts/bundle.mjs), not an import of a hundred files
    expect(fs.readFileSync(path.join(ROOT, 'dist/index.js'), 'utf8')).not.toMatch(
      /^(?:import|export)\b.*from '\.\.?\//m,
    );

    const project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'user', private: true, type: 'module' }),
    );
    npm(
      ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(dir, packed[0]!.filename)],
      project,
    );

    fs.writeFileSync(
      path.join(project, 'use.mjs'),
      `import { loadMesh, parseMesh, validateMesh, render, targets } from 'meshgen';
import fs from 'node:fs';
const text = fs.readFileSync('node_modules/meshgen/examples/shop.yaml', 'utf8');
const parsed = parseMesh(text, { file: 'shop.yaml' });
const loaded = await loadMesh('node_modules/meshgen/examples/hello.yaml');
const bad = validateMesh({ apiVersion: 'meshgen.io/v1alpha1', kind: 'Mesh', metadata: { name: 'x' }, spec: {} });
const rendered = render(parsed.mesh, { targets: 'all' });
console.log(JSON.stringify({
  backends: parsed.mesh.backends.map((b) => b.name),
  hello: loaded.mesh.name,
  bad: bad.map((d) => d.code),
  targets: targets.map((t) => t.target),
  outputs: rendered.outputs.length,
}));
`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: project, encoding: 'utf8' }));
    expect(out.backends).toEqual(['web', 'catalog', 'payments', 'checkout', 'orders-db']);
    expect(out.hello).toBe('hello');
    expect(out.bad).toEqual(['MG1011']);
    expect(out.outputs).toBe(out.targets.length);

    // the types resolve through the exports map
    fs.writeFileSync(
      path.join(project, 'types.ts'),
      `import type { ResolvedMesh, Diagnostic, Emitter } from 'meshgen';\nexport const f = (m: ResolvedMesh, d: Diagnostic, e: Emitter): string => m.name + d.code + e.target;\n`,
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    execFileSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--skipLibCheck',
        'types.ts',
      ],
      {
        cwd: project,
        encoding: 'utf8',
      },
    );

    const bin = path.join(project, 'node_modules/.bin/meshgen');
    const validate = execFileSync(bin, ['validate', 'node_modules/meshgen/examples/hello.yaml'], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(validate).toBe('');
  });
});
