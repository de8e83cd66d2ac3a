import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Diagnostic } from '../../src/model/diagnostics.js';

/** Input files of a fixture folder, as importMesh takes them (paths relative to the folder). */
export function readInputs(dir: string, files: readonly string[]): { file: string; text: string }[] {
  return files.map((f) => ({ file: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

/** Diagnostics one per line, `file:line:column severity code message`, as the goldens keep them. */
export function diagnosticLines(ds: readonly Diagnostic[]): string {
  return ds
    .map((d) => `${d.file ?? ''}:${d.line ?? ''}:${d.column ?? ''} ${d.severity} ${d.code} ${d.message}\n`)
    .join('');
}

/** Compares with `<dir>/expected/<name>`; UPDATE_EXPECTED=1 rewrites it first. */
export function expectGolden(dir: string, name: string, actual: string): void {
  const file = path.join(dir, 'expected', name);
  if (process.env.UPDATE_EXPECTED === '1') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
  }
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}
