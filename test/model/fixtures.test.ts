import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMesh } from '../../src/model/load.js';
import { ROOT } from '../support/meshes.js';

/**
 * test/fixtures/invalid/: one file per check, each with the diagnostics it must produce beside it
 * (`line:column severity code`, one a line). test/fixtures/warnings/: the checks that only warn.
 */
function cases(folder: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, 'test/fixtures', folder))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

describe.each(['invalid', 'warnings'])('fixtures/%s', (folder) => {
  it.each(cases(folder))('%s gives its expected diagnostics at their line and column', async (file) => {
    const full = path.join(ROOT, 'test/fixtures', folder, file);
    const expected = fs
      .readFileSync(full.replace(/\.yaml$/, '.expected'), 'utf8')
      .trim()
      .split('\n');
    const result = await loadMesh(full);
    const got = result.diagnostics.map((d) => `${d.line}:${d.column} ${d.severity} ${d.code}`);
    expect(got).toEqual(expected);
    // the file name names the code it exercises
    const code = file.slice(0, 6).toUpperCase();
    expect(got.some((g) => g.endsWith(code))).toBe(true);
    expect(result.mesh === undefined).toBe(folder === 'invalid');
  });
});
