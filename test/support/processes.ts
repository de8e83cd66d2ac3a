import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

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

/** The pids of a process's children (a master's workers), from /proc; none once it has exited. */
export function children(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((t) => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  });
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
