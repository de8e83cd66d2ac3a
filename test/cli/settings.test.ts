import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('meshgen render --set', () => {
  it('refuses a key no rendered target reads, with the nearest key (MG4003, exit 2)', () => {
    const r = runCli(['render', 'examples/hello.yaml', '--target', 'haproxy', '--set', 'certdir=certs']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error MG4003: --set certdir: haproxy has no setting "certdir"');
    expect(r.stderr).toContain('hint: did you mean "certDir"?');
    const l = runCli(['render', 'examples/hello.yaml', '--target', 'linkerd', '--set', 'gatewayClas=x']);
    expect(l.status).toBe(2);
    expect(l.stderr).toContain('did you mean "gatewayClass"?');
  });

  it('refuses a bad value, as data with --format json', () => {
    const r = runCli([
      'render',
      'examples/hello.yaml',
      '--target',
      'envoy',
      '--set',
      'adminPort=abc',
      '--format',
      'json',
    ]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual([
      expect.objectContaining({
        code: 'MG4003',
        target: 'envoy',
        message: expect.stringContaining('a port'),
      }),
    ]);
  });

  it('takes a key any rendered target reads, <target>.<key> for one, and version', () => {
    // two kinds of output: written with -o (stdout would mix them, MG4011)
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-settings-'));
    const both = runCli([
      'render',
      'examples/hello.yaml',
      '--target',
      'haproxy,istio',
      '--set',
      'certDir=/etc/c',
      '-o',
      out,
    ]);
    fs.rmSync(out, { recursive: true, force: true });
    expect(both.status, both.stderr).toBe(0);
    const scoped = runCli([
      'render',
      'examples/hello.yaml',
      '--target',
      'istio,linkerd',
      '--set',
      'istio.version=1.22',
      '--set',
      'linkerd.gatewayClass=istio',
    ]);
    expect(scoped.status, scoped.stderr).toBe(0);
    expect(scoped.stdout).toContain('gatewayClassName: istio');
    expect(
      runCli(['render', 'examples/hello.yaml', '--target', 'istio', '--set', 'version=1.22']).status,
    ).toBe(0);
    const other = runCli([
      'render',
      'examples/hello.yaml',
      '--target',
      'istio',
      '--set',
      'linkerd.version=2.17',
    ]);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('the linkerd target is not rendered');
  });
});

describe('meshgen render --target', () => {
  it('suggests the nearest target name', () => {
    const r = runCli(['render', 'examples/hello.yaml', '--target', 'istoi']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown target "istoi"; did you mean "istio"?');
  });

  it('renders a target named twice once', () => {
    const once = runCli(['render', 'examples/hello.yaml', '--target', 'istio']);
    const twice = runCli(['render', 'examples/hello.yaml', '--target', 'istio,istio']);
    expect(twice.status).toBe(0);
    expect(twice.stdout).toBe(once.stdout);
    expect(twice.stderr).toBe(once.stderr);
  });
});

describe('meshgen targets --target', () => {
  it("lists the target's settings: name, values, default, description", () => {
    const r = runCli(['targets', '--target', 'envoy']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^envoy settings/m);
    expect(r.stdout).toMatch(/^ {2}certDir +a folder +certs +folder of `ca\.crt`/m);
    expect(r.stdout).toMatch(/^ {2}adminPort +a port, 1-65535 +15000 /m);
    const json = JSON.parse(runCli(['targets', '--target', 'iptables', '--format', 'json']).stdout);
    expect(Object.keys(json)).toEqual(['iptables']);
    expect(json.iptables.settings).toContainEqual(
      expect.objectContaining({ name: 'mode', values: ['sidecar', 'vip'], default: 'sidecar' }),
    );
    const bad = runCli(['targets', '--target', 'envoi']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('did you mean "envoy"?');
  });
});
