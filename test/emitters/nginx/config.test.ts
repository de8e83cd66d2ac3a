import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { hasBinary } from '../../support/processes.js';
import { checkExamples, checkMesh } from '../../smartstack/examples.js';
import { EDGE_VALUES } from '../../smartstack/edge-values.js';
import { KITCHEN_SINK } from '../../smartstack/kitchen-sink.js';
import { hasNginxWithStream } from './stream-module.js';

const nginxReady = hasNginxWithStream(hasBinary('nginx'));

const conf = (example: string, settings: Record<string, string> = {}) =>
  render(exampleMesh(example), { targets: ['nginx'], settings }).outputs[0]!.files.find(
    (f) => f.path === 'nginx.conf',
  )!.contents;

/** `nginx -t` on the config written to dir. */
const nginxTest = (dir: string) => ['nginx', '-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')];

describe('nginx config', () => {
  (nginxReady ? it : it.skip)(
    'passes nginx -t for every example, with its certificates present',
    async () => {
      for (const r of await checkExamples('nginx', nginxTest)) {
        expect(r.output, r.example).toContain('test is successful');
        expect(r.status, `${r.example}: ${r.output}`).toBe(0);
      }
    },
  );

  (nginxReady ? it.each([{}, { identity: 'a' }]) : it.skip.each([{}]))(
    'passes its own check for a mesh using every feature (settings %o)',
    async (settings: Record<string, string>) => {
      const r = await checkMesh('nginx', meshFrom(KITCHEN_SINK), nginxTest, settings);
      expect(r.output).toContain('test is successful');
      expect(r.status, r.output).toBe(0);
    },
  );

  (nginxReady ? it : it.skip)(
    'passes its own check with values at the edge of its syntax (fail_timeout under a second)',
    async () => {
      const r = await checkMesh('nginx', meshFrom(EDGE_VALUES), nginxTest);
      expect(r.output).toContain('test is successful');
      expect(r.status, r.output).toBe(0);
    },
  );

  it('counts tries, not retries, in proxy_next_upstream_tries', () => {
    // storefront: attempts 2 -> 3 tries
    expect(conf('shop')).toMatch(/location @mg_r_storefront \{\n(?:.*\n)*?\s+proxy_next_upstream_tries 3;/);
  });

  it('turns retries off where the route has none', () => {
    expect(conf('shop')).toMatch(
      /location @mg_b_checkout \{\n\s+rewrite \^ \$uri break;\n\s+proxy_next_upstream off;/,
    );
  });

  it('routes with one location and an ordered regex map, not location precedence', () => {
    const text = conf('bookinfo');
    expect(text.match(/location \/ \{/g)?.length).toBe(text.match(/server \{/g)?.length);
    expect(text).not.toMatch(/location (=|~|\^~) /);
  });

  it('loads the stream module only for TCP, from the path given', () => {
    expect(conf('hello')).not.toContain('load_module');
    expect(conf('tcp', { streamModule: '/opt/ngx_stream_module.so' })).toContain(
      'load_module /opt/ngx_stream_module.so;',
    );
  });

  it('reports MG3003 for a version without endpoints and renders nothing', () => {
    const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: k8s-only }
spec:
  backends:
    - { name: a, port: 80, versions: [{ name: v1, labels: { app: a } }] }
`);
    const result = render(mesh, { targets: ['nginx'] });
    expect(result.diagnostics.filter((d) => d.code === 'MG3003').map((d) => d.severity)).toEqual(['error']);
    expect(result.outputs[0]!.files).toEqual([]);
  });

  it('reports approximations naming the route, feature and target', () => {
    const msgs = render(exampleMesh('shop'), { targets: ['nginx'] }).diagnostics.map(
      (d) => `${d.code} ${d.message}`,
    );
    expect(msgs).toContain(
      'MG3001 route "catalog-api" uses fault-delay, which the nginx target cannot express: it is left out',
    );
    expect(msgs.some((m) => m.startsWith('MG3002 route "catalog-api": mirror on nginx'))).toBe(true);
    expect(
      msgs.some((m) => m.startsWith('MG3002 backend "web": health-check on nginx has no active checks')),
    ).toBe(true);
    expect(
      msgs.some((m) =>
        m.startsWith('MG3002 route "catalog-api": retries on nginx cannot retry on 501 and 505-599'),
      ),
    ).toBe(true);
  });
});

describe('nginx: a header set to an empty value', () => {
  it('is not sent by proxy_set_header, and the emitter says so (MG3002)', () => {
    const mesh = meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  mtls: { mode: disabled }
  backends:
    - name: app
      port: 8080
      versions: [{ name: v1, endpoints: ["127.0.0.1:18001"] }]
  routes:
    - name: r
      parent: { backend: app }
      to: [{ backend: app }]
      headers: { request: { set: { x-empty: "", x-full: "1" } } }`);
    const said = render(mesh, { targets: ['nginx'] }).diagnostics.filter(
      (d) => d.code === 'MG3002' && /sends no header "x-empty"/.test(d.message),
    );
    expect(said).toHaveLength(1);
    expect(said[0]!.pointer).toBe('/spec/routes/0/headers/request');
  });
});
