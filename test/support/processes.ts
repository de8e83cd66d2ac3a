import { spawnSync } from 'node:child_process';

/**
 * A test that needs a binary the machine lacks is skipped locally but fails under CI=true, where
 * .ci/run installs everything the tests need.
 */
export function hasBinary(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI === 'true')
    throw new Error(`${name} is required under CI=true; .ci/run should install it`);
  return found;
}

// waiting, ports and processes are shared with `meshgen test`, which starts the same programs for users
export {
  closedPort,
  freePorts,
  startOnFreePorts,
  startProcess,
  waitFor,
  waitForPort,
  type Started,
} from '../../src/meshtest/processes.js';
