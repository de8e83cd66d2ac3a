import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { hasBinary } from '../support/processes.js';
import { ROOT } from '../support/meshes.js';

const ESC = '\u001b';
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'diff');
const fixture = (c: string, side: string) => path.join(FIXTURES, c, `${side}.yaml`);

/** Runs the CLI in this process, capturing its output; `stdin` replaces standard input. */
async function run(
  args: string[],
  { stdin, cwd, env = {} }: { stdin?: string; cwd?: string; env?: Record<string, string | undefined> } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  const saved = {
    cwd: process.cwd(),
    stdin: Object.getOwnPropertyDescriptor(process, 'stdin')!,
    env: { ...process.env },
  };
  process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => err.push(String(s)) > 0) as typeof process.stderr.write;
  if (stdin !== undefined)
    Object.defineProperty(process, 'stdin', {
      value: Readable.from([Buffer.from(stdin)]),
      configurable: true,
    });
  if (cwd) process.chdir(cwd);
  Object.assign(process.env, { NO_COLOR: '1', FORCE_COLOR: undefined, ...env });
  for (const [k, v] of Object.entries({ FORCE_COLOR: undefined, ...env }))
    if (v === undefined) delete process.env[k];
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'meshgen', 'diff', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    Object.defineProperty(process, 'stdin', saved.stdin);
    process.chdir(saved.cwd);
    process.env = saved.env;
    process.exitCode = undefined;
  }
}

describe('meshgen diff', () => {
  it('exits 0 and says so when only order, formatting and comments differ', async () => {
    const r = await run([fixture('order-only', 'old'), fixture('order-only', 'new')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no semantic change');
  });

  it('exits 1 and prints the changes, by section, when the meshes differ', async () => {
    const r = await run([fixture('traffic-shift', 'old'), fixture('traffic-shift', 'new')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Routes\n  ~ route catalog-api (backend catalog): 80% of its traffic moves\n');
    expect(r.stdout).toContain('      web/v1: 90% -> 60%\n');
    expect(r.stdout).not.toContain(ESC);
  });

  it('prints the change records as JSON for tools', async () => {
    const r = await run([fixture('access', 'old'), fixture('access', 'new'), '--format', 'json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.equal).toBe(false);
    expect(json.changes).toEqual(
      JSON.parse(fs.readFileSync(path.join(FIXTURES, 'access', 'expected.json'), 'utf8')),
    );
  });

  it('prints markdown for a review, with a table per traffic shift', async () => {
    const r = await run([
      fixture('traffic-shift', 'old'),
      fixture('traffic-shift', 'new'),
      '--format',
      'markdown',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('#### Routes');
    expect(r.stdout).toContain(
      '  | destination | before | after |\n  |---|---:|---:|\n  | catalog | 0% | 30% |\n',
    );
  });

  it('colours text only when asked (FORCE_COLOR) and never with NO_COLOR on a pipe', async () => {
    const plain = await run([fixture('access', 'old'), fixture('access', 'new')]);
    expect(plain.stdout).not.toContain(ESC);
    const coloured = await run([fixture('access', 'old'), fixture('access', 'new')], {
      env: { NO_COLOR: undefined, FORCE_COLOR: '1' },
    });
    expect(coloured.stdout).toContain(`${ESC}[32m+${ESC}[39m web may now call payments`);
  });

  it('reads one side from standard input with -', async () => {
    const r = await run(['-', fixture('route-order', 'new')], {
      stdin: fs.readFileSync(fixture('route-order', 'old'), 'utf8'),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('meshgen diff <stdin> -> ');
    expect(r.stdout).toContain(
      'route order changed (first match wins): storefront-beta, storefront -> storefront, storefront-beta',
    );
  });

  it('refuses standard input on both sides', async () => {
    const r = await run(['-', '-'], { stdin: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('only one side');
  });

  it('exits 2 on a file it cannot read', async () => {
    const r = await run([fixture('access', 'old'), path.join(FIXTURES, 'no-such.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error MG4001: cannot read .*no-such\.yaml: no such file/);
  });

  it('exits 2 on an invalid mesh and prints its diagnostics as validate does', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-diff-'));
    try {
      const bad = fs.readFileSync(fixture('access', 'old'), 'utf8').replace('weight: 80 }', 'weight: 85 }');
      fs.writeFileSync(path.join(dir, 'bad.yaml'), bad);
      const r = await run([fixture('access', 'old'), path.join(dir, 'bad.yaml')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: error MG2004: /);
      expect(r.stdout).toBe('');
      const json = await run([fixture('access', 'old'), path.join(dir, 'bad.yaml'), '--format', 'json']);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout).diagnostics.map((d: { code: string }) => d.code)).toContain('MG2004');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('when a target cannot render a side', () => {
    let dir = '';
    // catalog listens on 15006, the port of Envoy's sidecar inbound listener: the envoy render fails
    const onInboundPort = (side: string) =>
      fs.readFileSync(fixture('traffic-shift', side), 'utf8').replace('port: 9090', 'port: 15006');
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-diff-render-'));
      fs.writeFileSync(path.join(dir, 'old.yaml'), onInboundPort('old'));
      fs.writeFileSync(path.join(dir, 'new.yaml'), onInboundPort('new'));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reports the errors of both sides and exits 2, rather than "no change"', async () => {
      const [before, after] = [path.join(dir, 'old.yaml'), path.join(dir, 'new.yaml')];
      const r = await run([before, after, '--target', 'haproxy,envoy']);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain(
        `Target envoy: not compared: the render of ${before} and ${after} failed (2 errors)`,
      );
      expect(r.stdout).not.toContain('Target envoy: no change');
      // the other targets are still compared
      // by section: the frontends and the backends of the changed routes
      expect(r.stdout).toMatch(/Target haproxy: 8 objects: 2 added, 2 removed, 4 changed/);
      const line = onInboundPort('old').split('\n').indexOf('      port: 15006') + 1;
      expect(line).toBeGreaterThan(0);
      for (const file of [before, after])
        expect(r.stderr).toContain(
          `${file}:${line}:13: error MG4003 [envoy]: backend "catalog" listens on 15006`,
        );
    });

    it('names the side that failed, in JSON too', async () => {
      const r = await run([
        fixture('traffic-shift', 'old'),
        path.join(dir, 'new.yaml'),
        '--target',
        'envoy',
        '--format',
        'json',
      ]);
      expect(r.code).toBe(2);
      const json = JSON.parse(r.stdout);
      expect(json.equal).toBe(false);
      expect(json.targets[0].changes).toEqual([]);
      expect(json.targets[0].errors.before).toEqual([]);
      expect(
        json.targets[0].errors.after.map((d: { code: string; file: string }) => [d.code, d.file]),
      ).toEqual([['MG4003', path.join(dir, 'new.yaml')]]);
    });
  });

  it('exits 2 on an unknown target', async () => {
    const r = await run([fixture('access', 'old'), fixture('access', 'new'), '--target', 'no-such-target']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown target "no-such-target"');
  });
});

describe('meshgen diff with git revisions', () => {
  let repo = '';
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });

  beforeAll(() => {
    if (!hasBinary('git')) return;
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-diff-git-'));
    git('init', '-q');
    git('config', 'user.email', 'test@example.com');
    git('config', 'user.name', 'test');
    fs.writeFileSync(path.join(repo, 'mesh.yaml'), fs.readFileSync(fixture('traffic-shift', 'old')));
    git('add', 'mesh.yaml');
    git('commit', '-qm', 'first');
    fs.writeFileSync(path.join(repo, 'mesh.yaml'), fs.readFileSync(fixture('traffic-shift', 'new')));
  });
  afterAll(() => {
    if (repo) fs.rmSync(repo, { recursive: true, force: true });
  });

  it('reviews a working change against HEAD', async () => {
    if (!repo) return;
    const r = await run(['HEAD:mesh.yaml', 'mesh.yaml', '--format', 'json'], { cwd: repo });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.before).toBe('HEAD:mesh.yaml');
    expect(json.changes).toEqual(
      JSON.parse(fs.readFileSync(path.join(FIXTURES, 'traffic-shift', 'expected.json'), 'utf8')),
    );
  });

  it('compares two revisions', async () => {
    if (!repo) return;
    git('commit', '-qam', 'second');
    try {
      expect((await run(['HEAD~1:mesh.yaml', 'HEAD:mesh.yaml'], { cwd: repo })).code).toBe(1);
      expect((await run(['HEAD:mesh.yaml', 'mesh.yaml'], { cwd: repo })).code).toBe(0);
    } finally {
      git('reset', '-q', '--soft', 'HEAD~1');
    }
  });

  it('exits 2 when git cannot show the revision', async () => {
    if (!repo) return;
    const r = await run(['HEAD:missing.yaml', 'mesh.yaml'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error MG4001: cannot read HEAD:missing\.yaml from git: /);
  });

  it('prefers an existing file whose name looks like rev:path', async () => {
    if (!repo) return;
    fs.writeFileSync(path.join(repo, 'HEAD:mesh.yaml'), fs.readFileSync(fixture('traffic-shift', 'new')));
    try {
      expect((await run(['HEAD:mesh.yaml', 'mesh.yaml'], { cwd: repo })).code).toBe(0);
    } finally {
      fs.rmSync(path.join(repo, 'HEAD:mesh.yaml'));
    }
  });
});
