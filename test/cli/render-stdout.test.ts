import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { loadMesh } from '../../src/model/load.js';
import { render } from '../../src/render.js';
import { distCli, runCli } from '../support/cli.js';
import { tempDirsPerTest } from '../support/temp.js';

const tmp = tempDirsPerTest('meshgen-stdout');

/** The files `render -o` writes for a target, by path. */
/** What -o writes; without the ConfigMap meshgen-carried, which stdout leaves out, unless `carried`. */
function written(mesh: string, target: string, extra: string[] = [], carried = false): Map<string, string> {
  const out = tmp();
  const r = runCli([
    'render',
    mesh,
    '--target',
    target,
    '-o',
    out,
    ...extra,
    ...(carried ? ['--carried'] : []),
  ]);
  expect(r.status, r.stderr).toBe(0);
  const folder = path.join(out, target);
  const files = fs.readdirSync(folder, { recursive: true, encoding: 'utf8' });
  return new Map(
    files
      .filter((f) => fs.statSync(path.join(folder, f)).isFile())
      .map((f) => [f, fs.readFileSync(path.join(folder, f), 'utf8')]),
  );
}

describe('render without -o', () => {
  it('prints diagnostics on stderr with --format json, and only YAML on stdout', () => {
    const r = runCli(['render', 'examples/shop.yaml', '--target', 'istio', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string });
    expect(docs.length).toBe(written('examples/shop.yaml', 'istio').size);
    // the folder has one file more: the ConfigMap of what the objects do not carry, for meshgen import
    const extra = [...written('examples/shop.yaml', 'istio', [], true).keys()].filter(
      (f) => !written('examples/shop.yaml', 'istio').has(f),
    );
    expect(extra).toEqual(['configmap-shop-meshgen-carried-shop.yaml']);
    expect(docs.some((d) => d.kind === 'ConfigMap')).toBe(false);
    expect(docs.every((d) => typeof d.kind === 'string')).toBe(true);
    const diagnostics = JSON.parse(r.stderr) as { code: string }[];
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics.every((d) => /^MG\d{4}$/.test(d.code))).toBe(true);
  });

  it.each([
    ['haproxy', 'haproxy.cfg', 'hosts'],
    ['nginx', 'nginx.conf', 'hosts'],
    ['envoy', 'gateway.yaml', 'sidecar-hello.yaml'],
    ['apache', 'httpd.conf', 'hosts'],
    ['traefik', 'dynamic.yml', 'traefik.yml'],
  ])('prints %s’s main file alone (%s) and names the others on stderr', (target, main, other) => {
    const r = runCli(['render', 'examples/hello.yaml', '--target', target]);
    expect(r.status, r.stderr).toBe(0);
    const files = written('examples/hello.yaml', target);
    expect(r.stdout).toBe(files.get(main));
    expect(r.stderr).toContain(`stdout: ${target}/${main}; -o <dir> would also write`);
    expect(r.stderr).toContain(`${target}/${other}`);
  });

  it('prints the file --file names, in the target folder or as target/path', () => {
    const hosts = written('examples/hello.yaml', 'nginx').get('hosts');
    const one = runCli(['render', 'examples/hello.yaml', '--target', 'nginx', '--file', 'hosts']);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toBe(hosts);
    const two = runCli([
      'render',
      'examples/hello.yaml',
      '--target',
      'haproxy,nginx',
      '--file',
      'nginx/hosts',
    ]);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stdout).toBe(hosts);
  });

  it('refuses to mix targets’ files (MG4011) and an unknown --file (MG4012), listing the files', () => {
    const mixed = runCli(['render', 'examples/hello.yaml', '--target', 'haproxy,nginx']);
    expect(mixed.status).toBe(2);
    expect(mixed.stdout).toBe('');
    expect(mixed.stderr).toMatch(/error MG4011: stdout would mix the files of haproxy, nginx/);
    expect(mixed.stderr).toContain('haproxy/haproxy.cfg, haproxy/hosts, nginx/hosts, nginx/nginx.conf');
    const both = runCli(['render', 'examples/hello.yaml', '--target', 'haproxy,nginx', '--file', 'hosts']);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('--file haproxy/hosts, --file nginx/hosts');
    const none = runCli(['render', 'examples/hello.yaml', '--target', 'iptables']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/error MG4011: iptables writes several files and none is the main one/);
    const unknown = runCli([
      'render',
      'examples/hello.yaml',
      '--target',
      'haproxy',
      '--file',
      'haproxy.conf',
    ]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/error MG4012: --file haproxy.conf: no rendered file has that name/);
    expect(unknown.stderr).toContain('the files: haproxy.cfg, hosts');
  });

  it('joins several Kubernetes targets into one stream', () => {
    const r = runCli(['render', 'examples/shop.yaml', '--target', 'istio,linkerd']);
    expect(r.status, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout);
    expect(docs.every((d) => d.errors.length === 0)).toBe(true);
    const count = written('examples/shop.yaml', 'istio').size + written('examples/shop.yaml', 'linkerd').size;
    expect(docs.length).toBe(count);
  });

  it('prints the text the library renders, byte for byte, characters beyond ASCII in UTF-8', async () => {
    // the YAML writer works in Latin-1 bytes: é (one byte in Latin-1, two in UTF-8) and ✓ (beyond
    // Latin-1: its document is written as a string) must come out as the library's text does, on
    // stdout and in -o's files; a generated mesh spans many of the writer's chunks
    const dir = tmp();
    const odd = path.join(dir, 'odd.yaml');
    fs.writeFileSync(
      odd,
      fs
        .readFileSync('examples/bookinfo.yaml', 'utf8')
        .replace('{ end-user: { exact: jason } }', '{ end-user: { exact: "jasoné" } }')
        .replace('{ end-user: { exact: jason } }', '{ end-user: { exact: "jas✓n" } }'),
    );
    const big = path.join(dir, 'big.yaml');
    fs.writeFileSync(big, generateMesh(400));
    const targets = ['istio', 'linkerd', 'consul'];
    for (const mesh of [odd, big]) {
      const loaded = await loadMesh(mesh);
      const { outputs } = render(loaded.mesh!, { targets });
      const expected = outputs.flatMap((o) => o.files.map((f) => f.contents)).join('---\n');
      if (mesh === odd) expect(expected).toMatch(/jasoné[^]*jas✓n/);
      const r = spawnSync(process.execPath, [distCli(), 'render', mesh, '--target', targets.join(',')], {
        env: { ...process.env, NO_COLOR: '1' },
        maxBuffer: 1 << 28,
        timeout: 120_000,
      });
      expect(r.status, String(r.stderr)).toBe(0);
      expect(r.stdout.equals(Buffer.from(expected)), mesh).toBe(true);
      if (mesh === odd)
        for (const o of outputs) {
          const files = written(mesh, o.target);
          expect(files.size).toBe(o.files.length);
          for (const f of o.files) expect(files.get(f.path), `${o.target}/${f.path}`).toBe(f.contents);
        }
    }
  });

  it('ends quietly with exit 0 when the reader closes the pipe (| head -1)', () => {
    const mesh = path.join(tmp(), 'big.yaml');
    fs.writeFileSync(mesh, generateMesh(1500));
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${distCli()}" render "${mesh}" --target istio | head -1; echo "status=\${PIPESTATUS[0]}" >&2`,
      ],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
    );
    expect(r.stdout).toMatch(/^(apiVersion: \S+\n|---\n)$/);
    expect(r.stderr).toContain('status=0');
    expect(r.stderr).not.toMatch(/EPIPE|at .*\(node:|internal error/);
  });
});

describe('render -o', () => {
  it.each([
    ['-', /error MG4010: -o - would write a folder named "-"/],
    ['json', /error MG4010: -o json names a folder "json", not an output format/],
  ])('refuses -o %s (MG4010) and makes no folder', (dir, message) => {
    const cwd = tmp();
    const mesh = path.resolve('examples/hello.yaml');
    const r = runCli(['render', mesh, '--target', 'istio', '-o', dir], { cwd });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('refuses an existing file (MG4010) and leaves it as it was', () => {
    const file = path.join(tmp(), 'somefile');
    fs.writeFileSync(file, 'mine\n');
    const r = runCli(['render', 'examples/hello.yaml', '--target', 'istio', '-o', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error MG4010: -o ${file} is a file`);
    expect(r.stderr).not.toMatch(/ENOTDIR/);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine\n');
  });
});
