import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { ROOT } from '../support/meshes.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-init-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The file the `$schema` modeline names, resolved as yaml-language-server does (relative to the YAML file). */
function schemaOf(meshFile: string): string {
  const ref = /^# yaml-language-server: \$schema=(.+)$/m.exec(fs.readFileSync(meshFile, 'utf8'))?.[1] ?? '';
  return path.isAbsolute(ref) ? ref : path.resolve(path.dirname(meshFile), ref);
}

describe('meshgen init', () => {
  it('writes a starter that validates with no diagnostic, even under --strict', () => {
    const dir = path.join(tmp, 'plain');
    expect(runCli(['init', dir]).status).toBe(0);
    const r = runCli(['validate', '--strict', '--format', 'json', path.join(dir, 'mesh.yaml')]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it("names a schema that exists: this install's, by an absolute path that holds wherever the file moves", () => {
    const dir = path.join(tmp, 'elsewhere');
    runCli(['init', dir]);
    const schema = fs.readFileSync(path.join(dir, 'mesh.yaml'), 'utf8').match(/\$schema=(.+)/)![1]!;
    expect(path.isAbsolute(schema)).toBe(true);
    expect(fs.realpathSync(schemaOf(path.join(dir, 'mesh.yaml')))).toBe(
      fs.realpathSync(path.join(ROOT, 'schemas/mesh.schema.json')),
    );
  });

  it("names the project's node_modules/meshgen schema by a relative path when there is one", () => {
    const project = path.join(tmp, 'project');
    fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'meshgen'));
    const dir = path.join(project, 'mesh');
    expect(runCli(['init', dir]).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'mesh.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/node_modules\/meshgen\/schemas\/mesh\.schema\.json$/m,
    );
    expect(fs.existsSync(schemaOf(path.join(dir, 'mesh.yaml')))).toBe(true);
  });
});

describe('examples/*.yaml --strict', () => {
  it('validate clean, or say beside the line why not', () => {
    for (const name of fs
      .readdirSync(path.join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))) {
      const file = path.join('examples', name);
      const r = runCli(['validate', '--strict', '--format', 'json', file]);
      const found = JSON.parse(r.stdout) as { code: string; line: number }[];
      const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
      for (const d of found) {
        // the comment lines just above the reported line name the code
        const above = lines.slice(Math.max(0, d.line - 4), d.line - 1).join('\n');
        expect(above, `${file}:${d.line} ${d.code}`).toContain(`# meshgen validate --strict: ${d.code}`);
      }
    }
  });
});
