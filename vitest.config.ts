import os from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Tests that run the built package (dist/): the CLI as a process (test/cli/, and any cli.test.ts),
 * the packed tarball, the README's commands. Only their project builds first
 * (test/global-setup.ts), so a unit test runs without a build; a test outside this list that runs
 * dist/ fails with a message saying to add it here (test/support/cli.ts).
 */
const DIST = [
  'test/cli/**/*.test.ts',
  'test/**/cli.test.ts',
  'test/package/**/*.test.ts',
  'test/readme.test.ts',
  'test/import/roundtrip-generated.test.ts',
  'test/import/behaviour.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // at least two files at a time: most files spend their time waiting on the proxies, etcd and
    // network namespaces they start (every server on a port read back, every namespace its own), so
    // a 2-core machine runs the suite in about two thirds of the time one worker takes (Vitest's
    // default is one worker per CPU but one)
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    // each project's temporary files in a folder of its own, removed at the end (test/temp-setup.ts)
    setupFiles: ['test/temp-env.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: DIST,
          globalSetup: ['test/temp-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'dist', include: DIST, globalSetup: ['test/global-setup.ts', 'test/temp-setup.ts'] },
      },
    ],
  },
});
