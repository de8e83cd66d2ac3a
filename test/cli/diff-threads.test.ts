import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { ROOT } from '../support/meshes.js';

/**
 * `meshgen diff --target all` from the built CLI renders the targets in worker threads: it reports
 * the same as one target after another in one thread (MESHGEN_DIFF_THREADS=1), in the same order,
 * with the same exit code, a failed render's errors included.
 */
const fixture = (side: string) =>
  path.join(ROOT, 'test', 'fixtures', 'diff', 'traffic-shift', `${side}.yaml`);
let dir = '';
/** Runs the CLI, and counts the worker threads it starts (a preloaded module tells of each). */
function diff(args: string[], threads: string) {
  const r = runCli(['diff', ...args], {
    env: {
      MESHGEN_DIFF_THREADS: threads,
      NODE_OPTIONS: `--import=${pathToFileURL(path.join(dir, 'probe.mjs')).href}`,
    },
  });
  const started = r.stderr.split('\n').filter((l) => l === 'probe: thread started').length;
  return { ...r, stderr: r.stderr.replace(/^probe: thread started\n/gm, ''), threads: started };
}

describe('meshgen diff --target all in threads', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-diff-threads-'));
    fs.writeFileSync(
      path.join(dir, 'probe.mjs'),
      "process.on('worker', () => process.stderr.write('probe: thread started\\n'));\n",
    );
    // catalog listens on 15006, the port of Envoy's sidecar inbound listener: the envoy render fails
    fs.writeFileSync(
      path.join(dir, 'new.yaml'),
      fs.readFileSync(fixture('new'), 'utf8').replace('port: 9090', 'port: 15006'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports the same changes as one thread, target by target in registry order', () => {
    for (const format of ['text', 'json']) {
      const args = [fixture('old'), fixture('new'), '--target', 'all', '--format', format];
      const one = diff(args, '1');
      expect(one.status, one.stderr).toBe(1);
      expect(one.threads).toBe(0);
      if (format === 'text') {
        const targets = [...one.stdout.matchAll(/^Target (\S+): (.*)$/gm)];
        expect(targets.length).toBeGreaterThan(6);
        expect(targets.filter((t) => /^\d+ objects?: /.test(t[2]!)).length).toBeGreaterThan(6);
      }
      for (const threads of ['2', '4']) {
        const many = diff(args, threads);
        expect(many.status, many.stderr).toBe(1);
        expect(many.threads).toBe(Number(threads) - 1);
        expect(many.stdout, `${format}, ${threads} threads`).toBe(one.stdout);
        expect(many.stderr).toBe(one.stderr);
      }
    }
  });

  it('reports a failed render and exits 2 in threads too', () => {
    const args = [fixture('old'), path.join(dir, 'new.yaml'), '--target', 'all'];
    const one = diff(args, '1');
    const many = diff(args, '3');
    expect(many.threads).toBe(2);
    expect(one.status).toBe(2);
    expect(one.stdout).toContain('Target envoy: not compared: ');
    expect(one.stderr).toContain('error MG4003 [envoy]');
    expect(many.status).toBe(2);
    expect(many.stdout).toBe(one.stdout);
    expect(many.stderr).toBe(one.stderr);
  });
});
