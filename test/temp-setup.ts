import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder this run's temporary files go to (TMPDIR of every test file; test/temp-env.ts). */
    tempRoot: string;
  }
}

/**
 * Every test file's temporary folders go under one folder of the run, removed when the project's
 * tests are done (MESHGEN_KEEP_TMP=1 keeps it, to look at what a failing test wrote): tests, and
 * the proxies and CLI runs they start, make them with os.tmpdir(). Writable by all, as /tmp is,
 * for the processes tests run under other users (httpd's children, setpriv).
 */
export default function setup(project: TestProject): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `meshgen-tests-${project.name}-`));
  fs.chmodSync(root, 0o1777);
  project.provide('tempRoot', root);
  return () => {
    if (process.env.MESHGEN_KEEP_TMP) console.log(`temporary files kept in ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  };
}
