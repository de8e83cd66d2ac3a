import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBootstrap, parseBootstrap, type ConfigResult } from '../../../src/dataplane/config/bootstrap.js';
import { watchDiscovery } from '../../../src/dataplane/config/discovery.js';
import { Proxy } from '../../../src/dataplane/server.js';
import type { Diagnostic } from '../../../src/model/diagnostics.js';
import { render } from '../../../src/render.js';
import { startBackend, type EchoReply, type TestBackend } from '../../support/backends.js';
import { meshFrom } from '../../support/meshes.js';
import { freePorts, waitFor } from '../../support/processes.js';
import { request } from '../helpers.js';

/**
 * A sidecar the envoy target writes, read from disk by meshgen proxy: its outbound listeners and
 * clusters come from the shared discovery files in discoveryDir, which are reloaded when replaced
 * by a rename (as Envoy watches a path config source), and refused, located, when they are bad.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-discovery-'));
let v1: TestBackend;
let v2: TestBackend;
let ports: number[];

beforeAll(async () => {
  v1 = await startBackend('api', 'v1');
  v2 = await startBackend('api', 'v2');
  ports = await freePorts(4);
});
afterAll(async () => {
  await Promise.all([v1.close(), v2.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The mesh: web calls api on 127.0.0.1:<port>, whose last route sends to `version`; the others name
 * both versions, so that the clusters file is the same whichever version it is.
 */
function renderMesh(version: string) {
  const [apiPort, webPort, adminPort, inboundPort] = ports;
  const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: d }
spec:
  namespace: d
  mtls: { mode: disabled }
  backends:
    - name: api
      port: ${apiPort}
      versions:
        - { name: v1, endpoints: ["127.0.0.1:${v1.port}"] }
        - { name: v2, endpoints: ["127.0.0.1:${v2.port}"] }
    - name: web
      port: ${webPort}
      versions: [{ name: v1, endpoints: ["127.0.0.1:${webPort! + 1}"] }]
  routes:
    - name: pinned
      parent: { backend: api }
      match: [{ path: { prefix: /v1/ } }]
      timeout: 5s
      to: [{ backend: api, version: v1 }]
    - name: canary
      parent: { backend: api }
      match: [{ path: { prefix: /v2/ } }]
      timeout: 5s
      to: [{ backend: api, version: v2 }]
    - name: api
      parent: { backend: api }
      timeout: 5s
      to: [{ backend: api, version: ${version} }]
`);
  const r = render(mesh, {
    targets: ['envoy'],
    settings: { discoveryDir: dir, adminPort: String(adminPort), inboundPort: String(inboundPort) },
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return new Map(r.outputs[0]!.files.map((f) => [f.path, f.contents]));
}

/** Writes a file as a deployment would: a new file beside it, renamed over it. */
function replace(name: string, contents: string): void {
  const tmp = path.join(dir, `.${name}.new`);
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, path.join(dir, name));
}

const answer = async (port: number) => JSON.parse((await request(port, '/')).body) as EchoReply;

describe('a sidecar whose outbound side comes from the shared discovery files', () => {
  const sidecar = () => path.join(dir, 'sidecar-web.yaml');
  let proxy: Proxy;
  let stopWatch: () => void;
  /** What each reload the watch started gave: the new configuration, or the diagnostics refusing it. */
  const reloads: ConfigResult[] = [];

  beforeAll(async () => {
    for (const [name, contents] of renderMesh('v1')) fs.writeFileSync(path.join(dir, name), contents);
    const loaded = await loadBootstrap(sidecar());
    expect(loaded.diagnostics).toEqual([]);
    const config = loaded.config!;
    // the proxy watches what the bootstrap names, as `meshgen proxy` does (src/cli/serve.ts)
    expect(config.discovery).toEqual([
      path.join(dir, 'outbound-listeners.yaml'),
      path.join(dir, 'outbound-clusters.yaml'),
    ]);
    proxy = new Proxy({ ...config, admin: undefined }, { drainTimeS: 1 });
    await proxy.start();
    stopWatch = watchDiscovery(config.discovery, () => {
      void loadBootstrap(sidecar()).then(async (next) => {
        if (next.config) await proxy.reload({ ...next.config, admin: undefined });
        reloads.push(next);
      });
    });
  });
  afterAll(async () => {
    stopWatch();
    await proxy.stop();
  });

  it('serves traffic through the outbound listener and cluster of the shared files', async () => {
    expect(proxy.listeners().map((l) => l.name)).toEqual(['inbound', 'outbound|api', 'outbound|web']);
    expect((await answer(ports[0]!)).version).toBe('v1');
    // the bootstrap itself holds only its own side
    const boot = fs.readFileSync(sidecar(), 'utf8');
    expect(boot).not.toContain('outbound|api');
    expect(boot).toContain(`path: ${dir}/outbound-listeners.yaml`);
  });

  it('reloads when a shared file is replaced by a rename: the next request takes the new route', async () => {
    const before = reloads.length;
    replace('outbound-listeners.yaml', renderMesh('v2').get('outbound-listeners.yaml')!);
    await waitFor(() => reloads.length > before, { what: 'the reload after the rename' });
    expect(reloads.at(-1)!.diagnostics).toEqual([]);
    await waitFor(async () => (await answer(ports[0]!)).version === 'v2', {
      what: 'a request to take the new route to v2',
    });
  });

  it('refuses a bad shared file with a diagnostic located in it, and keeps serving', async () => {
    const good = renderMesh('v2').get('outbound-listeners.yaml')!;
    const bad = good.replace('stat_prefix: "outbound|api"', 'stat_prefixx: "outbound|api"');
    expect(bad).not.toBe(good);
    const before = reloads.length;
    replace('outbound-listeners.yaml', bad);
    await waitFor(() => reloads.length > before, { what: 'the reload after the rename' });
    const refused = reloads.at(-1)!;
    expect(refused.config).toBeUndefined();
    const line = bad.split('\n').findIndex((l) => l.includes('stat_prefixx')) + 1;
    const column = bad.split('\n')[line - 1]!.indexOf('stat_prefixx') + 1;
    // the unknown field, and the required stat_prefix it leaves missing
    const lds = path.join(dir, 'outbound-listeners.yaml');
    expect(refused.diagnostics.every((d: Diagnostic) => d.code === 'MG5002' && d.file === lds)).toBe(true);
    const unknown = refused.diagnostics.find((d) => /unknown field "stat_prefixx"/.test(d.message));
    expect([unknown?.line, unknown?.column]).toEqual([line, column]);
    expect(refused.discoverySources?.map((s) => s.file)).toContain(path.join(dir, 'outbound-listeners.yaml'));
    expect((await answer(ports[0]!)).version).toBe('v2');
    replace('outbound-listeners.yaml', good);
    await waitFor(() => reloads.at(-1)!.config !== undefined, { what: 'the good file to load again' });
  });

  it('refuses a listeners file holding a cluster (MG5007) and a missing file (MG5006), located', async () => {
    const files = renderMesh('v2');
    const clusters = files.get('outbound-clusters.yaml')!;
    replace('outbound-listeners.yaml', clusters);
    const wrong = await loadBootstrap(sidecar());
    expect(wrong.config).toBeUndefined();
    const wrongType = wrong.diagnostics.filter((d) => d.code === 'MG5007');
    expect(wrongType.length).toBeGreaterThan(0);
    expect(wrongType[0]).toMatchObject({
      file: path.join(dir, 'outbound-listeners.yaml'),
      line: 2,
      pointer: '/resources/0/@type',
    });
    expect(wrongType[0]!.message).toMatch(/holds listeners \(envoy\.config\.listener\.v3\.Listener\)/);
    fs.rmSync(path.join(dir, 'outbound-listeners.yaml'));
    const missing = await loadBootstrap(sidecar());
    const text = fs.readFileSync(sidecar(), 'utf8').split('\n');
    expect(missing.diagnostics.map((d) => [d.code, d.file, d.line])).toEqual([
      ['MG5006', sidecar(), text.findIndex((l) => l.includes('outbound-listeners.yaml')) + 1],
    ]);
    expect(missing.diagnostics[0]!.message).toMatch(/cannot read .*outbound-listeners\.yaml: no such file/);
    // the proxy still serves what it had
    expect((await answer(ports[0]!)).version).toBe('v2');
    replace('outbound-listeners.yaml', files.get('outbound-listeners.yaml')!);
  });
});

describe('discovery sources meshgen proxy does not read, and files that are not a DiscoveryResponse', () => {
  const boot = (lds: object) =>
    JSON.stringify({ node: { id: 'n', cluster: 'c' }, dynamic_resources: { lds_config: lds } });

  it('refuses ADS as not implemented, and nothing else', () => {
    const r = parseBootstrap(boot({ ads: {}, resource_api_version: 'V3' }), 'b.json');
    expect(r.config).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
      ['MG5003', '/dynamic_resources/lds_config/ads'],
    ]);
  });

  it('refuses a file that holds a list, located in that file (MG5006)', () => {
    const file = path.join(dir, 'list.yaml');
    fs.writeFileSync(file, '- a\n- b\n');
    const r = parseBootstrap(boot({ path_config_source: { path: file } }), 'b.json');
    expect(r.diagnostics.map((d) => [d.code, d.file, d.line])).toEqual([['MG5006', file, 1]]);
  });
});
