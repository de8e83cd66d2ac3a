import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../support/cli.js';
import { writeEntries } from '../support/consul-store.js';

describe('meshgen targets', () => {
  it('heads each column with the version it describes', () => {
    const r = runCli(['targets']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^feature\s+istio 1\.30\s+linkerd 2\.20\s+consul 1\.22\s+haproxy 3\.4\s+nginx 1\.30\s+envoy\s+iptables\s+apache 2\.4\.68\s+traefik 3\.7$/m,
    );
    expect(r.stdout).toContain('renders 2.16 or later, default 2.20');
    expect(r.stdout).toMatch(/^ {2}traefik .*\(schema-checked, not run\)/m);
  });

  it('shows one target at another release: --target linkerd --set version=2.17', () => {
    const r = runCli(['targets', '--target', 'linkerd', '--set', 'version=2.17']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^feature\s+linkerd 2\.17$/m);
    expect(r.stdout).toMatch(/^tcp\s+approx\.$/m);
    const json = JSON.parse(runCli(['targets', '--format', 'json', '--set', 'linkerd.version=2.17']).stdout);
    expect(json.linkerd.version).toBe('2.17');
    expect(json.linkerd.fidelity.tcp).toBe('approximate');
    expect(json.istio.version).toBe('1.30');
    expect(json.linkerd.versions.rules.map((x: { since: string }) => x.since)).toContain('2.20');
  });

  it('refuses a version older than the oldest, or one version for several targets', () => {
    const old = runCli(['targets', '--target', 'linkerd', '--set', 'version=2.14']);
    expect(old.status).toBe(2);
    expect(old.stderr).toContain('2.16 or later');
    expect(runCli(['targets', '--set', 'version=2.17']).status).toBe(2);
  });
});

describe('meshgen render --set <target>.version', () => {
  it('renders each target at its own version', () => {
    const r = runCli([
      'render',
      'examples/tcp.yaml',
      '--target',
      'linkerd,istio',
      '--set',
      'linkerd.version=2.17',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/MG3001 \[linkerd\]: route "postgres-upgrade".*2\.18/);
    expect(
      runCli(['render', 'examples/tcp.yaml', '--target', 'linkerd,istio', '--set', 'version=2.17']).status,
    ).toBe(1);
  });

  it('gives config a stock Consul accepts for examples/hello.yaml', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-consul-json-'));
    const r = runCli([
      'render',
      'examples/hello.yaml',
      '--target',
      'consul',
      '--consul-format',
      'json',
      '-o',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const folder = path.join(out, 'consul');
    const entries = fs
      .readdirSync(folder)
      .sort()
      .map((f) => JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8')) as Record<string, unknown>);
    fs.rmSync(out, { recursive: true, force: true });
    expect(entries[0]).toEqual({ Kind: 'mesh', AllowEnablingPermissiveMutualTLS: true });
    expect(writeEntries(entries)).toEqual([]);
    const crds = runCli(['render', 'examples/hello.yaml', '--target', 'consul']);
    const kinds = parseAllDocuments(crds.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toContain('Mesh');
  });
});
