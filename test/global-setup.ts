import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by the dist project's global setup once dist/ is built from the sources. */
    distBuilt: boolean;
  }
}

/** The dist project's tests run the built CLI and package: build once, before any of them runs. */
export default function setup(project: TestProject): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  project.provide('distBuilt', true);
}
