import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { runCli } from '../support/cli.js';
import { ROOT } from '../support/meshes.js';

/**
 * `meshgen render` of several targets from the built CLI renders them in worker threads as well as
 * its own: the result is the same as one thread's, byte for byte, on stdout, on stderr and in -o
 * folders, with the same exit code.
 */
const shop = path.join(ROOT, 'examples', 'shop.yaml');
let dir = '';
/** Runs the CLI in `cwd`, and counts the worker threads it starts (a preloaded module tells of each). */
function render(args: string[], threads: string | undefined, cwd = ROOT) {
  const r = runCli(['render', ...args], {
    cwd,
    env: {
      MESHGEN_RENDER_THREADS: threads ?? '',
      NODE_OPTIONS: `--import=${pathToFileURL(path.join(dir, 'probe.mjs')).href}`,
    },
  });
  const started = r.stderr.split('\n').filter((l) => l === 'probe: thread started').length;
  return { ...r, stderr: r.stderr.replace(/^probe: thread started\n/gm, ''), threads: started };
}

/** A new folder of the test's to run the CLI in. */
function cwd(name: string): string {
  fs.mkdirSync(path.join(dir, name));
  return path.join(dir, name);
}

/** Every file under `root` (links followed), by relative path. */
function tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      if (name === '.meshgen') continue;
      const p = path.join(d, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(root, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return out;
}

describe('meshgen render in threads', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-render-threads-'));
    fs.writeFileSync(
      path.join(dir, 'probe.mjs'),
      "process.on('worker', () => process.stderr.write('probe: thread started\\n'));\n",
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the same YAML stream and diagnostics as one thread', () => {
    const args = [shop, '--target', 'istio,linkerd,consul'];
    const one = render(args, '1');
    expect(one.status, one.stderr).toBe(0);
    expect(one.threads).toBe(0);
    expect(one.stdout).toContain('kind: VirtualService');
    expect(one.stdout).toContain('kind: HTTPRoute');
    expect(one.stdout).toContain('kind: ServiceRouter');
    for (const threads of ['2', '3']) {
      const many = render(args, threads);
      expect(many.threads).toBe(Number(threads) - 1);
      expect(many.status).toBe(0);
      expect(many.stdout, `${threads} threads`).toBe(one.stdout);
      expect(many.stderr).toBe(one.stderr);
    }
  });

  it('writes the same folders for --target all -o, with --verbose diagnostics', () => {
    const args = [shop, '--target', 'all', '-o', 'out', '--verbose'];
    const one = render(args, '1', cwd('one'));
    const many = render(args, '4', cwd('many'));
    expect(one.status, one.stderr).toBe(0);
    expect(many.threads).toBe(3);
    expect(many.status).toBe(0);
    expect(many.stderr).toBe(one.stderr);
    const a = tree(path.join(dir, 'one', 'out'));
    const b = tree(path.join(dir, 'many', 'out'));
    expect(a.size).toBeGreaterThan(20);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [p, text] of a) expect(b.get(p), p).toBe(text);
  });

  it('fails as one thread does: --strict errors, and a mesh that does not load', () => {
    const strict = [shop, '--target', 'istio,linkerd,haproxy', '--strict'];
    const one = render(strict, '1');
    const many = render(strict, '3');
    expect(one.status).toBe(1);
    expect(many.status).toBe(1);
    expect(many.threads).toBe(2);
    expect(many.stderr).toBe(one.stderr);
    expect(many.stdout).toBe('');
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'mesh: [\n');
    const broken = render([bad, '--target', 'istio,linkerd'], '2');
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/error MG1/);
    expect(broken.stdout).toBe('');
  });

  it('starts threads by default for a large mesh only', () => {
    const large = path.join(dir, 'large.yaml');
    fs.writeFileSync(large, generateMesh(1500));
    expect(fs.statSync(large).size).toBeGreaterThan(1 << 20);
    // to folders: the stream is larger than a test's pipe buffer
    const args = [large, '--target', 'istio,linkerd,consul', '-o', 'out'];
    const auto = render(args, undefined, cwd('auto'));
    expect(auto.status, auto.stderr.slice(0, 500)).toBe(0);
    expect(auto.threads).toBe(Math.min(os.availableParallelism(), 3) - 1);
    const one = render(args, '1', cwd('auto-one'));
    expect(auto.stderr).toBe(one.stderr);
    const a = tree(path.join(dir, 'auto-one', 'out'));
    const b = tree(path.join(dir, 'auto', 'out'));
    expect(a.size).toBeGreaterThan(1500);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [p, text] of a) expect(b.get(p), p).toBe(text);
    expect(render([shop, '--target', 'istio,linkerd,consul'], undefined).threads).toBe(0);
  });
});
