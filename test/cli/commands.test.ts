import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDirsPerTest } from '../support/temp.js';
import { ROOT } from '../support/meshes.js';
import { writeFilesAtomically } from '../../src/cli/output.js';

const tmp = tempDirsPerTest('meshgen');

describe('meshgen', () => {
  it('prints its version and help with examples', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(runCli(['--version']).stdout.trim()).toBe(pkg.version);
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('meshgen render examples/shop.yaml --target all -o out/');
  });

  it('schema prints the JSON Schema', () => {
    const r = runCli(['schema']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('init writes a starter mesh that validates, pointing editors at the schema', () => {
    const dir = tmp();
    const r = runCli(['init', dir]);
    expect(r.status).toBe(0);
    const text = fs.readFileSync(path.join(dir, 'mesh.yaml'), 'utf8');
    const ref = /\$schema=(\S+)/.exec(text)![1]!;
    expect(fs.existsSync(path.resolve(dir, ref))).toBe(true);
    expect(runCli(['validate', path.join(dir, 'mesh.yaml')]).status).toBe(0);
    // a second init does not overwrite
    expect(runCli(['init', dir]).status).toBe(2);
    expect(runCli(['init', dir, '--force']).status).toBe(0);
  });

  it('render refuses an unknown target with a usage error', () => {
    const r = runCli(['render', 'examples/hello.yaml', '--target', 'kubernetes-classic']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown target "kubernetes-classic"');
  });

  it('render of an invalid mesh exits 1 and leaves the previous output intact', () => {
    const out = tmp();
    fs.mkdirSync(path.join(out, 'istio'));
    fs.writeFileSync(path.join(out, 'istio', 'keep.yaml'), 'previous\n');
    const r = runCli([
      'render',
      'test/fixtures/invalid/mg2004-weights-sum.yaml',
      '--target',
      'all',
      '-o',
      out,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error MG2004');
    expect(fs.readdirSync(path.join(out, 'istio'))).toEqual(['keep.yaml']);
  });
});

describe('writeFilesAtomically', () => {
  it('writes every file, leaving no temporary file behind', async () => {
    const dir = tmp();
    await writeFilesAtomically(dir, [
      { path: 'a/x.yaml', contents: 'x\n' },
      { path: 'b.yaml', contents: 'b\n' },
    ]);
    expect(fs.readFileSync(path.join(dir, 'a/x.yaml'), 'utf8')).toBe('x\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'b.yaml']);
  });

  it('keeps the previous files when one write fails', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'old\n');
    fs.mkdirSync(path.join(dir, 'blocked.yaml')); // a folder where a file should go: its rename fails
    fs.writeFileSync(path.join(dir, 'blocked.yaml', 'x'), '');
    await expect(
      writeFilesAtomically(dir, [
        { path: 'a.yaml', contents: 'new\n' },
        { path: 'blocked.yaml', contents: 'b\n' },
      ]),
    ).rejects.toThrow();
    expect(fs.readFileSync(path.join(dir, 'a.yaml'), 'utf8')).toBe('old\n');
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('refuses a path outside the folder', async () => {
    await expect(writeFilesAtomically(tmp(), [{ path: '../escape.yaml', contents: '' }])).rejects.toThrow(
      /outside/,
    );
  });
});
