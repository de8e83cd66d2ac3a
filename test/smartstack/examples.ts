import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { ResolvedMesh } from '../../src/model/types.js';
import { EXAMPLES, ROOT, exampleMesh } from '../support/meshes.js';
import { renderTo, tempDir, writeCerts } from './live.js';

/**
 * Renders every example into its own folder beside a copy of the example and its development
 * certificates (certs/, as the example's frontends name them), then runs the target's own check.
 */
export async function checkExamples(
  target: string,
  check: (dir: string) => string[],
): Promise<{ example: string; status: number | null; output: string }[]> {
  const out = [];
  for (const example of EXAMPLES) {
    const dir = tempDir(`${target}-${example}`);
    fs.copyFileSync(path.join(ROOT, 'examples', `${example}.yaml`), path.join(dir, `${example}.yaml`));
    const mesh = exampleMesh(example);
    await writeCerts(mesh, path.join(dir, 'certs'));
    renderTo(mesh, target, dir);
    const [cmd, ...args] = check(dir);
    const r = spawnSync(cmd!, args, { cwd: dir, encoding: 'utf8' });
    out.push({ example, status: r.status, output: `${r.stdout}${r.stderr}` });
  }
  return out;
}

/** Renders one mesh beside its certificates and runs the target's check. */
export async function checkMesh(
  target: string,
  mesh: ResolvedMesh,
  check: (dir: string) => string[],
  settings: Record<string, string> = {},
): Promise<{ status: number | null; output: string }> {
  const dir = tempDir(`${target}-check`);
  await writeCerts(mesh, path.join(dir, 'certs'));
  renderTo(mesh, target, dir, settings);
  const [cmd, ...args] = check(dir);
  const r = spawnSync(cmd!, args, { cwd: dir, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
