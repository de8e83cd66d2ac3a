import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { fit } from '../../src/cli/progress.js';
import { distCli, runCli } from '../support/cli.js';
import { hasBinary } from '../support/processes.js';
import { ROOT } from '../support/meshes.js';
import { tempDirsPerTest } from '../support/temp.js';

const tmp = tempDirsPerTest('meshgen-progress');
/** What starts each drawing of the status line, and its clearing: carriage return, erase line. */
const LINE = '\r\u001b[K';
// the delay before the line shows, 1 s by default, is 0 here so that a small mesh shows it
const env = { ...process.env, NO_COLOR: '1', MESHGEN_PROGRESS_DELAY_MS: '0' };

/** Runs the CLI under a pseudo-terminal (util-linux `script`): what it prints there, both streams. */
function onTerminal(args: string[]): { status: number | null; output: string } {
  const command = [process.execPath, distCli(), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, output: r.stdout };
}

describe.runIf(hasBinary('script'))('progress', () => {
  it('shows the step on a terminal, redrawn in place and cleared', () => {
    const dir = tmp();
    const mesh = path.join(dir, 'mesh.yaml');
    fs.writeFileSync(mesh, generateMesh(300));
    const r = onTerminal(['render', mesh, '--target', 'istio,linkerd', '-o', path.join(dir, 'out')]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`${LINE}rendering istio (1/2)`);
    expect(r.output.split(LINE).some((l) => /^writing .*out: [\d,]+\/[\d,]+ files/.test(l))).toBe(true);
    // the line is cleared before the closing message
    expect(r.output).toContain(`${LINE}wrote `);
    const certs = onTerminal(['certs', 'examples/hello.yaml', '-o', path.join(dir, 'certs')]);
    expect(certs.status, certs.output).toBe(0);
    expect(certs.output.split(LINE).some((l) => /^(issuing certificates|writing .*certs)/.test(l))).toBe(
      true,
    );
  });

  it('prints nothing of it when stderr is not a terminal', () => {
    const dir = tmp();
    const r = runCli(['render', 'examples/shop.yaml', '--target', 'istio', '-o', path.join(dir, 'out')], {
      env,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain(LINE);
    expect(r.stderr).not.toContain('rendering istio');
  });
});

describe('progress line width', () => {
  it('cuts a line longer than the terminal in its middle, keeping the step and its count', () => {
    const line = `writing /tmp/${'x'.repeat(80)}/out: 1,234/5,678 files`;
    const cut = fit(line, 79);
    expect(cut).toHaveLength(79);
    expect(cut).toMatch(/^writing \/tmp\/x+…x+\/out: 1,234\/5,678 files$/);
    expect(fit('rendering istio (1/2)', 79)).toBe('rendering istio (1/2)');
    expect(fit(line, 2)).toBe('wr');
  });
});
