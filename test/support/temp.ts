import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/**
 * A maker of temporary folders (`<tmp>/<prefix>-XXXXXX`) for the tests of one file; each folder is
 * removed after the test that made it.
 */
export function tempDirsPerTest(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    dirs.push(d);
    return d;
  };
}
