import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { laughs } from '../support/aliases.js';
import { runCli } from '../support/cli.js';
import { ROOT } from '../support/meshes.js';

const invalid = fs.readdirSync(path.join(ROOT, 'test/fixtures/invalid')).filter((f) => f.endsWith('.yaml'));

describe('meshgen validate', () => {
  it('accepts every bundled example', () => {
    const examples = fs
      .readdirSync(path.join(ROOT, 'examples'))
      .filter((f) => !f.endsWith('.test.yaml')) // the meshes, not their MeshTest files
      .map((f) => `examples/${f}`);
    const r = runCli(['validate', ...examples]);
    expect(r.stderr).not.toMatch(/error MG/);
    expect(r.status).toBe(0);
  });

  it.each(invalid)('exits 1 on %s with its code at its line and column, and no stack trace', (file) => {
    const rel = `test/fixtures/invalid/${file}`;
    const expected = fs
      .readFileSync(path.join(ROOT, rel.replace(/\.yaml$/, '.expected')), 'utf8')
      .trim()
      .split('\n')[0]!;
    const [pos, , code] = expected.split(' ');
    const r = runCli(['validate', rel]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${rel}:${pos}: error ${code}:`);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });

  it('prints the source line and a caret under the offending text, then the hint', () => {
    const r = runCli(['validate', 'test/fixtures/invalid/mg2003-unknown-frontend.yaml']);
    expect(r.stderr).toBe(
      [
        'test/fixtures/invalid/mg2003-unknown-frontend.yaml:26:27: error MG2003: route "storefront": no frontend is named "publik"',
        '   26 |       parent: { frontend: publik }',
        '      |                           ^~~~~~',
        '       hint: did you mean "public"?',
        '1 error',
        '',
      ].join('\n'),
    );
  });

  it('warns, exits 0, and exits 1 with --strict', () => {
    const file = 'test/fixtures/warnings/mg2013-shadowed-route.yaml';
    const loose = runCli(['validate', file]);
    expect(loose.status).toBe(0);
    expect(loose.stderr).toContain('warning MG2013');
    const strict = runCli(['validate', '--strict', file]);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('error MG2013');
  });

  it('prints diagnostics as JSON with --format json', () => {
    const r = runCli(['validate', '--format', 'json', 'test/fixtures/invalid/mg2004-weights-sum.yaml']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        code: 'MG2004',
        severity: 'error',
        message: 'route "web-split": weights sum to 110, not 100',
        pointer: '/spec/routes/0/to',
        hint: "weights are percentages of the route's traffic",
        file: 'test/fixtures/invalid/mg2004-weights-sum.yaml',
        line: 28,
        column: 11,
        endLine: 29,
        endColumn: 52,
      },
    ]);
  });

  it('reads standard input for -', () => {
    const ok = runCli(['validate', '-'], {
      input: fs.readFileSync(path.join(ROOT, 'examples/hello.yaml'), 'utf8'),
    });
    expect(ok.status).toBe(0);
    const bad = runCli(['validate', '-'], { input: 'kind: Mesh\napiVersion: meshgen.io/v1alpha1\n' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('<stdin>:1:1: error MG1011');
  });

  it('exits 2 for a file that does not exist, and for a usage error', () => {
    const missing = runCli(['validate', 'no-such-file.yaml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read no-such-file.yaml: no such file');
    expect(runCli(['validate']).status).toBe(2);
    expect(runCli(['frobnicate']).status).toBe(2);
  });

  it('colours output only on request (FORCE_COLOR), never with NO_COLOR or without a terminal', () => {
    const file = 'test/fixtures/invalid/mg2004-weights-sum.yaml';
    expect(runCli(['validate', file]).stderr).not.toContain('\u001b[');
    expect(runCli(['validate', file], { env: { NO_COLOR: '', FORCE_COLOR: '1' } }).stderr).toContain(
      '\u001b[',
    );
  });

  it('handles a large file with an error at its end, with the right position', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-'));
    try {
      const big = fs
        .readFileSync(path.join(ROOT, 'examples/shop.yaml'), 'utf8')
        .replace('weight: 90 }', 'weight: 91 }');
      fs.writeFileSync(path.join(dir, 'm.yaml'), big);
      const r = runCli(['validate', path.join(dir, 'm.yaml')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /m\.yaml:77:11: error MG2004: route "storefront": weights sum to 101, not 100/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a 31 KB file of nested aliases: exit 1, the located diagnostic, no stack trace', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-laughs-'));
    const file = path.join(dir, 'laughs.yaml');
    fs.writeFileSync(file, laughs(1100));
    const r = runCli(['validate', file]);
    fs.rmSync(dir, { recursive: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:8:4: error MG1006: YAML aliases expand the document to `);
    expect(r.stderr).toContain('hint: write the repeated values out, or use fewer aliases');
    expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(r.stderr.length).toBeLessThan(2000);
  });
});
