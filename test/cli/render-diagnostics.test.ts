import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { runCli } from '../support/cli.js';
import { tempDirsPerTest } from '../support/temp.js';

const tmp = tempDirsPerTest('meshgen-diagnostics');

/**
 * 100 backends: istio warns (MG3009) on the access rules of every tenth; `withError` drops the
 * last backend's v2 endpoints, an error for haproxy (MG3003) beside a warning at the same place
 * (MG2012) whose code sorts first.
 */
function mesh(withError = false): string {
  let text = generateMesh(100);
  if (withError) {
    const at = text.lastIndexOf(':9080"]');
    text = text.slice(0, text.lastIndexOf('\n', at)) + text.slice(text.indexOf('\n', at));
  }
  const file = path.join(tmp(), 'mesh.yaml');
  fs.writeFileSync(file, text);
  return file;
}

const lines = (text: string, pattern: RegExp) => text.split('\n').filter((l) => pattern.test(l));

describe('render diagnostics', () => {
  it('prints one line per code, target and message shape with a count, and a count per code', () => {
    const r = runCli(['render', mesh(), '--target', 'istio']);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stderr, /warning MG3009/)).toHaveLength(1);
    expect(r.stderr).toContain('warning MG3009 [istio]: backend "svc-0": access rules');
    expect(r.stderr).toContain('and 9 more similar (MG3009 [istio]); --verbose lists every one');
    expect(r.stderr).toMatch(/^10 warnings\n {2}MG3009 warning 10 {2}target relies on a setting/m);
  });

  it('lists every one with --verbose, and in JSON on stderr', () => {
    const file = mesh();
    const verbose = runCli(['render', file, '--target', 'istio', '--verbose']);
    expect(lines(verbose.stderr, /warning MG3009/)).toHaveLength(10);
    expect(verbose.stderr).not.toContain('more similar');
    const json = runCli(['render', file, '--target', 'istio', '--format', 'json']);
    const all = JSON.parse(json.stderr) as { code: string; line?: number }[];
    expect(all.filter((d) => d.code === 'MG3009')).toHaveLength(10);
    expect(all.every((d) => d.code !== 'MG3009' || d.line! > 0)).toBe(true);
  });

  it('prints errors before warnings', () => {
    const r = runCli(['render', mesh(true), '--target', 'istio,haproxy']);
    expect(r.status).toBe(1);
    const first = r.stderr.split('\n').find((l) => /: (error|warning) MG/.test(l));
    expect(first).toMatch(/error MG3003 \[haproxy\]: version "v2" of backend "svc-99" has no endpoints/);
    expect(r.stderr.indexOf('warning MG2012')).toBeGreaterThan(r.stderr.indexOf('error MG3003'));
  });

  it('--suppress leaves out warnings of a code; refuses an unknown code or an error’s (MG4013)', () => {
    const file = mesh();
    const quiet = runCli(['render', file, '--target', 'istio', '--suppress', 'MG3005,mg3009']);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/MG3009|MG3005/);
    const unknown = runCli(['render', file, '--target', 'istio', '--suppress', 'MG3099']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/error MG4013: --suppress MG3099: no diagnostic has that code/);
    expect(unknown.stderr).toContain('did you mean MG3009?');
    const error = runCli(['render', file, '--target', 'istio', '--suppress', 'MG3003']);
    expect(error.status).toBe(2);
    expect(error.stderr).toMatch(/error MG4013: --suppress MG3003: MG3003 is an error/);
  });

  it('--max-warnings fails above the limit (MG4014) and writes nothing', () => {
    const file = mesh();
    const out = tmp();
    const over = runCli(['render', file, '--target', 'istio', '--max-warnings', '9', '-o', out]);
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/error MG4014: 10 warnings, more than --max-warnings 9 allows/);
    expect(fs.readdirSync(out)).toEqual([]);
    const within = runCli(['render', file, '--target', 'istio', '--max-warnings', '10', '-o', out]);
    expect(within.status, within.stderr).toBe(0);
    expect(runCli(['render', file, '--target', 'istio', '--max-warnings', 'abc']).status).toBe(2);
  });
});
