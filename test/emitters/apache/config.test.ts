import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { closedPort, hasBinary, startOnFreePorts, type Started } from '../../support/processes.js';
import { checkExamples, checkMesh } from '../../smartstack/examples.js';
import { EDGE_VALUES } from '../../smartstack/edge-values.js';
import { KITCHEN_SINK } from '../../smartstack/kitchen-sink.js';
import { renderTo, request, tempDir } from '../../smartstack/live.js';
import { apacheTest, startApache } from './run.js';

const ready = hasBinary('apache2');

const conf = (example: string, settings: Record<string, string> = {}) =>
  render(exampleMesh(example), { targets: ['apache'], settings }).outputs[0]!.files.find(
    (f) => f.path === 'httpd.conf',
  )!.contents;

describe('apache config', () => {
  (ready ? it : it.skip)('passes apache2 -t for every example, with its certificates present', async () => {
    for (const r of await checkExamples('apache', apacheTest)) {
      expect(r.output, r.example).toContain('Syntax OK');
      expect(r.status, `${r.example}: ${r.output}`).toBe(0);
    }
  });

  (ready ? it.each([{}, { identity: 'a' }]) : it.skip.each([{}]))(
    'passes its own check for a mesh using every feature (settings %o)',
    async (settings: Record<string, string>) => {
      const r = await checkMesh('apache', meshFrom(KITCHEN_SINK), apacheTest, settings);
      expect(r.output).toContain('Syntax OK');
      expect(r.status, r.output).toBe(0);
    },
  );

  (ready ? it : it.skip)('passes its own check with values at the edge of its syntax', async () => {
    const r = await checkMesh('apache', meshFrom(EDGE_VALUES), apacheTest);
    expect(r.output).toContain('Syntax OK');
    expect(r.status, r.output).toBe(0);
  });

  it('writes ServerRoot and the module folder when set, and none without', () => {
    expect(conf('hello')).not.toMatch(/^ServerRoot/m);
    const text = conf('hello', { serverRoot: '/srv/mesh', moduleDir: '/opt/httpd/modules/' });
    expect(text).toMatch(/^ServerRoot "\/srv\/mesh"$/m);
    expect(text).toContain('LoadModule proxy_module "/opt/httpd/modules/mod_proxy.so"');
  });

  it('routes first match with one rewrite chain: each route sets MG_ROUTE only while it is empty', () => {
    const text = conf('bookinfo');
    const routes = text.match(/RewriteRule \^ - \[E=MG_ROUTE:/g)?.length ?? 0;
    expect(routes).toBeGreaterThan(1);
    expect(text.match(/RewriteCond %\{ENV:MG_ROUTE\} \^\$\n/g)?.length).toBe(
      routes + (text.match(/<VirtualHost /g)?.length ?? 0),
    );
  });

  it('states what mod_proxy cannot do: retries after a response (MG3020) and the 502 on timeout (MG3021)', () => {
    const d = render(exampleMesh('shop'), { targets: ['apache'] }).diagnostics;
    const retries = d.find((x) => x.code === 'MG3020');
    expect(retries?.message).toMatch(/only when connecting fails.*never retried/);
    expect(retries?.pointer).toMatch(/\/retries$/);
    expect(d.find((x) => x.code === 'MG3021')?.message).toMatch(/502 Bad Gateway, not 504/);
  });

  it('leaves TCP listeners out, as its fidelity table says', () => {
    const d = render(exampleMesh('tcp'), { targets: ['apache'] }).diagnostics;
    expect(d.some((x) => x.code === 'MG3001' && /tcp/.test(x.message))).toBe(true);
  });
});

describe('apache with hostile strings and connection failures', () => {
  // every character the config reader, ap_expr, mod_headers and mod_rewrite give a meaning to
  const HOSTILE = `a"b'c#d%e\${HOME}f%{REQUEST_URI}g\\h\\r\\n$1 %1 |m#x`;
  let echo: TestBackend;
  let proxy: Started;
  let port = 0;
  beforeAll(async () => {
    if (!ready) return;
    echo = await startBackend('echo', 'v1');
    const closed = await closedPort();
    ({ proc: proxy } = await startOnFreePorts(
      1,
      ([p]) => {
        port = p!;
        const yaml = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: hostile }
spec:
  mtls: { mode: disabled }
  backends:
    - name: app
      port: ${port}
      versions: [{ name: v1, endpoints: ["127.0.0.1:${closed}", "${echo.address}"] }]
  routes:
    - name: hostile
      parent: { backend: app }
      match: [{ path: { prefix: /h }, headers: { x-h: { exact: ${JSON.stringify(HOSTILE)} } } }]
      to: [{ backend: app }]
      headers:
        request: { set: { x-set: ${JSON.stringify(HOSTILE)} } }
        response: { set: { x-back: ${JSON.stringify(HOSTILE)} } }
      retries: { attempts: 1, on: [connect-failure] }
    - name: no-retry
      parent: { backend: app }
      match: [{ path: { prefix: /n } }]
      to: [{ backend: app }]
`;
        const dir = tempDir('apache-hostile');
        renderTo(meshFrom(yaml), 'apache', dir);
        return startApache(dir);
      },
      { ready: () => [port] },
    ));
  });
  afterAll(async () => {
    await proxy?.stop();
    await echo?.close();
  });

  (ready ? it : it.skip)('matches and sets header values holding them literally', async () => {
    const r = await request('127.0.0.1', port, '/h', { headers: { 'x-h': HOSTILE } });
    expect(r.status).toBe(200);
    expect(r.json?.headers['x-set']).toBe(HOSTILE);
    expect(r.headers['x-back']).toBe(HOSTILE);
    expect((await request('127.0.0.1', port, '/h', { headers: { 'x-h': `${HOSTILE}x` } })).status).toBe(404);
    expect((await request('127.0.0.1', port, '/h', { headers: { 'x-h': 'a"b' } })).status).toBe(404);
  });

  (ready ? it : it.skip)(
    'fails over when connecting fails, where the route retries: every request answered',
    async () => {
      const statuses = new Set<number>();
      for (let i = 0; i < 10; i++)
        statuses.add((await request('127.0.0.1', port, '/h', { headers: { 'x-h': HOSTILE } })).status);
      expect([...statuses]).toEqual([200]);
    },
  );

  (ready ? it : it.skip)('does not fail over without retries: the refused endpoint answers 503', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await request('127.0.0.1', port, '/n')).status);
    expect(statuses).toContain(503);
    expect(statuses).toContain(200);
  });
});
