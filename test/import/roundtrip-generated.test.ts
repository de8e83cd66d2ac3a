import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/model/yaml.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../smartstack/live.js';
import { generateMesh } from '../../bench/gen-mesh.mjs';

/** The source, and the target whose output it reads: no target writes plain Gateway API, linkerd's HTTPRoutes are. */
const SOURCES: Record<string, string> = {
  istio: 'istio',
  'gateway-api': 'linkerd',
  linkerd: 'linkerd',
  consul: 'consul',
};

/**
 * What each source does not read back from the objects of a render and meshgen-carried declares
 * (kind of element and field). A field that is not listed here and turns up in the ConfigMap fails
 * the test: the import lost something it used to read.
 */
const DECLARED: Record<string, readonly string[]> = {
  // endpoints and health checks are not Kubernetes objects' business; TCP routes and routes on
  // a gateway with several hosts have no name; certificate files are the user's; a deny default
  // is written only for backends without rules
  istio: [
    'backend healthCheck',
    'backend versions',
    'frontend',
    'mesh spec.defaultAccess',
    'route name',
    'route timeout',
  ],
  linkerd: [
    'backend circuitBreaker',
    'backend healthCheck',
    'backend loadBalancer',
    'backend mtls',
    'backend outlierDetection',
    'backend versions',
    'frontend',
    'route fault',
    'route match',
    'route mirror',
    'route name',
    'route retries',
    'route rewrite',
    'route timeout',
  ],
  consul: [
    'backend circuitBreaker',
    'backend healthCheck',
    'backend outlierDetection',
    'backend port',
    'backend versions',
    'frontend',
    'mesh metadata.name',
    'route fault',
    'route mirror',
    'route name',
    'route retries',
    'route timeout',
    'route to',
  ],
};
// Gateway API alone: Linkerd's policy objects (Server, AuthorizationPolicy, the Namespace's
// default policy) are not read, so access and mTLS come from the ConfigMap too
DECLARED['gateway-api'] = [...DECLARED['linkerd']!, 'access', 'mesh spec.defaultAccess', 'mesh spec.mtls'];

const examples = fs
  .readdirSync('examples')
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
  .map((f) => path.join('examples', f));

const dir = tempDir('roundtrip-generated');
const generated = [20, 200].map((n) => {
  const file = path.join(dir, `generated-${n}.yaml`);
  fs.writeFileSync(file, generateMesh(n));
  return file;
});

/** render, import, diff: as a user runs them; each step's exit code and the wall time of all three. */
function roundTrip(mesh: string, from: string) {
  const target = SOURCES[from]!;
  const work = fs.mkdtempSync(path.join(dir, `${path.basename(mesh, '.yaml')}-${from}-`));
  const out = path.join(work, 'out');
  const back = path.join(work, 'back.yaml');
  const started = process.hrtime.bigint();
  const rendered = runCli(['render', mesh, '--target', target, '-o', out, '--carried']);
  const imported = runCli(['import', '--from', from, path.join(out, target), '-o', back]);
  const diffed = runCli(['diff', mesh, back]);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { rendered, imported, diffed, ms, out: path.join(out, target), back };
}

/** The entries of the ConfigMap for one source, as `<element kind> <field>`. */
function declared(folder: string, from: string): Set<string> {
  const file = fs
    .readdirSync(folder)
    .find((f) => f.startsWith('configmap-') && f.includes('meshgen-carried'));
  if (!file) return new Set();
  const map = parseYaml(fs.readFileSync(path.join(folder, file), 'utf8')).value as {
    data: Record<string, string>;
  };
  const entries = JSON.parse(map.data[from] ?? '[]') as { at: string; field: string }[];
  return new Set(entries.map((e) => `${e.at.split('/')[0]}${e.field ? ` ${e.field}` : ''}`));
}

describe.each(Object.keys(SOURCES))('meshgen render | import --from %s | diff', (from) => {
  it.each([...examples, ...generated])('%s comes back the same mesh (diff exits 0)', (mesh) => {
    const r = roundTrip(mesh, from);
    expect(r.rendered.status, r.rendered.stderr).toBe(0);
    // the render found nothing it could not give back
    expect(r.rendered.stderr).not.toMatch(/MG3005.*(still differs|does not import back|does not validate)/);
    expect(r.imported.status, r.imported.stderr).toBe(0);
    expect(r.diffed.status, r.diffed.stdout).toBe(0);
    const fields = declared(r.out, from);
    // what was put back is declared by the import, and only fields this source is known not to read
    if (fields.size)
      expect(r.imported.stderr).toMatch(/info MG7015: \d+ field\(s\) the \S+ objects do not carry/);
    expect([...fields].filter((f) => !DECLARED[from]!.includes(f))).toEqual([]);
    if (mesh === generated[1])
      console.log(`round trip of 200 backends --from ${from}: ${r.ms.toFixed(0)} ms`);
  });

  it('without the ConfigMap the import of a generated mesh differs, and diff says where (exit 1)', () => {
    const r = roundTrip(generated[0]!, from);
    expect(r.diffed.status).toBe(0);
    for (const f of fs.readdirSync(r.out)) if (f.includes('meshgen-carried')) fs.rmSync(path.join(r.out, f));
    const bare = path.join(path.dirname(r.back), 'bare.yaml');
    const imported = runCli(['import', '--from', from, r.out, '-o', bare]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).not.toContain('MG7015');
    const diffed = runCli(['diff', generated[0]!, bare]);
    expect(diffed.status).toBe(1);
    // endpoints are in no target's objects
    expect(diffed.stdout).toContain('endpoint 10.0.0.0:8080 removed from svc-0/v1');
  });
});
