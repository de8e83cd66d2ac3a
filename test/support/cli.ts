import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { ROOT } from './meshes.js';

/**
 * The built CLI, dist/cli.js. Only tests of the dist project (vitest.config.ts) may run it: that
 * project builds dist/ from the sources first, the unit project does not.
 */
export function distCli(): string {
  if (!inject('distBuilt'))
    throw new Error('this test runs dist/: list its file in the dist project of vitest.config.ts');
  return path.join(ROOT, 'dist/cli.js');
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/cli.js) as a user would, without a terminal. */
export function runCli(
  args: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliRun {
  const r = spawnSync(process.execPath, [distCli(), ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
