import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../smartstack/live.js';

const bookinfo = 'test/fixtures/import/istio-bookinfo';

describe('meshgen import', () => {
  it('writes a mesh that validates, atomically, and names where each route came from', () => {
    const dir = tempDir('import-cli');
    const out = path.join(dir, 'mesh.yaml');
    const r = runCli([
      'import',
      '--from',
      'istio',
      '--namespace',
      'bookinfo',
      `${bookinfo}/platform/bookinfo.yaml`,
      `${bookinfo}/networking/bookinfo-gateway.yaml`,
      `${bookinfo}/networking/destination-rule-all.yaml`,
      `${bookinfo}/networking/virtual-service-reviews-50-v3.yaml`,
      '-o',
      out,
    ]);
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(r.status).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toContain(`# from ${bookinfo}/networking/virtual-service-reviews-50-v3.yaml:9`);
    expect(fs.readdirSync(dir)).toEqual(['mesh.yaml']);
    const v = runCli(['validate', out]);
    expect(v.status).toBe(0);
  });

  it('reads standard input and prints the mesh', () => {
    const input = fs.readFileSync(`${bookinfo}/platform/bookinfo.yaml`, 'utf8');
    const r = runCli(['import', '--from', 'istio', '-'], { input });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# imported by meshgen import --from istio/);
    expect(r.stdout).toContain('name: reviews');
    expect(r.stderr).toContain('<stdin>:');
  });

  it('points at the input under --strict and exits 1, writing nothing', () => {
    const dir = tempDir('import-cli-strict');
    const out = path.join(dir, 'mesh.yaml');
    const r = runCli([
      'import',
      '--from',
      'istio',
      '--strict',
      `${bookinfo}/platform/bookinfo.yaml`,
      `${bookinfo}/networking/egress-rule-google-apis.yaml`,
      '-o',
      out,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/egress-rule-google-apis\.yaml:\d+:\d+: error MG7004/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses an unknown source and a missing file as usage errors (exit 2), without a stack trace', () => {
    const unknown = runCli(['import', '--from', 'kuma', 'x.yaml']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('istio, gateway-api, linkerd, consul');
    const missing = runCli(['import', '--from', 'istio', 'no-such-file.yaml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('MG4001');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads Consul HCL and locates its syntax errors', () => {
    const ok = runCli(['import', '--from', 'consul', '-'], {
      input:
        'Kind = "service-resolver"\nName = "web"\nDefaultSubset = "v1"\nSubsets = { v1 = { Filter = "Service.Meta.version == \\"v1\\"" } }\n',
    });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('version: v1');
    const bad = runCli(['import', '--from', 'consul', '-'], {
      input: 'Kind = "service-router"\nName = "web"\nRoutes = [ {\n  Match = <<EOF\n',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('<stdin>:4:11: error MG7002');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('--parent attaches routes without parentRefs; without it they are located MG7008 and nothing is imported', () => {
    const split = 'test/fixtures/import/gateway-api/traffic-splitting/traffic-split-1.yaml';
    const without = runCli(['import', '--from', 'gateway-api', split]);
    expect(without.status).toBe(1);
    expect(without.stderr).toContain(`${split}:10:3: warning MG7008`);
    expect(without.stderr).toContain('--parent gateway/NAME[:PORT]');
    const dir = tempDir('import-cli-parent');
    const out = path.join(dir, 'mesh.yaml');
    const r = runCli([
      'import',
      '--from',
      'gateway-api',
      '--parent',
      'gateway/prod-web-gw:80',
      split,
      '-o',
      out,
    ]);
    expect(r.stderr).toContain(`${split}:10:3: info MG7012`);
    expect(r.status).toBe(0);
    expect(runCli(['validate', out]).status).toBe(0);
    const bad = runCli(['import', '--from', 'gateway-api', '--parent', 'gateway/prod-web-gw', split]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('error MG7014');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a Consul value of the wrong type at its line and exits 1', () => {
    const r = runCli(['import', '--from', 'consul', '-'], {
      input: 'Kind = "service-splitter"\nName = "web"\nSplits = [\n  { Weight = "abc" },\n]\n',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('<stdin>:4:14: error MG7013');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
