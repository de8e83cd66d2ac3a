import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { hasBinary } from '../../support/processes.js';
import { checkExamples, checkMesh } from '../../smartstack/examples.js';
import { EDGE_VALUES } from '../../smartstack/edge-values.js';
import { KITCHEN_SINK } from '../../smartstack/kitchen-sink.js';

describe('haproxy config', () => {
  (hasBinary('haproxy') ? it : it.skip)(
    'passes haproxy -c for every example, with its certificates present',
    async () => {
      for (const r of await checkExamples('haproxy', () => ['haproxy', '-c', '-f', 'haproxy.cfg'])) {
        expect(r.output, r.example).toContain('Configuration file is valid');
        expect(r.status, `${r.example}: ${r.output}`).toBe(0);
      }
    },
  );

  (hasBinary('haproxy') ? it.each([{}, { identity: 'a' }]) : it.skip.each([{}]))(
    'passes its own check for a mesh using every feature (settings %o)',
    async (settings: Record<string, string>) => {
      const r = await checkMesh(
        'haproxy',
        meshFrom(KITCHEN_SINK),
        () => ['haproxy', '-c', '-f', 'haproxy.cfg'],
        settings,
      );
      expect(r.output).toContain('Configuration file is valid');
      expect(r.status, r.output).toBe(0);
    },
  );

  (hasBinary('haproxy') ? it : it.skip)(
    'passes its own check with values at the edge of its syntax (-x, a lone }, empty header values)',
    async () => {
      const r = await checkMesh('haproxy', meshFrom(EDGE_VALUES), () => [
        'haproxy',
        '-c',
        '-f',
        'haproxy.cfg',
      ]);
      expect(r.output).toContain('Configuration file is valid');
      expect(r.status, r.output).toBe(0);
    },
  );

  it('counts retries, not tries, in retries', () => {
    const cfg = render(exampleMesh('shop'), { targets: ['haproxy'] }).outputs[0]!.files.find(
      (f) => f.path === 'haproxy.cfg',
    )!.contents;
    expect(cfg).toMatch(/backend r\.storefront\.0\.web\.v1\n(?:.*\n)*?\s+retries 2\n/);
    expect(cfg).toMatch(/backend b\.checkout\.0\.checkout\.all\n(?:.*\n)*?\s+retries 0\n/);
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
    const result = render(mesh, { targets: ['haproxy'] });
    expect(result.diagnostics.filter((d) => d.code === 'MG3003').map((d) => [d.severity, d.pointer])).toEqual(
      [['error', '/spec/backends/0/versions/0']],
    );
    expect(result.outputs[0]!.files).toEqual([]);
  });

  it('reports features it leaves out or approximates, naming route and target', () => {
    const result = render(exampleMesh('shop'), { targets: ['haproxy'] });
    const msgs = result.diagnostics.map((d) => `${d.code} ${d.message}`);
    expect(msgs).toContain(
      'MG3001 route "catalog-api" uses mirror, which the haproxy target cannot express: it is left out',
    );
    expect(msgs.some((m) => m.startsWith('MG3002 route "catalog-api": timeout on haproxy'))).toBe(true);
    expect(result.diagnostics.every((d) => !d.code.startsWith('MG3') || d.target === 'haproxy')).toBe(true);
  });

  it("presents the identity named by --set identity on east-west calls, the frontend's own on ingress", () => {
    const files = render(exampleMesh('shop'), {
      targets: ['haproxy'],
      settings: { identity: 'checkout', certDir: '/etc/mesh' },
    }).outputs[0]!.files;
    const cfg = files.find((f) => f.path === 'haproxy.cfg')!.contents;
    expect(cfg).toMatch(
      /backend b\.payments\.0\.payments\.all\n(?:.*\n)*?\s+server v1-0 127\.0\.0\.1:19301 .*crt \/etc\/mesh\/checkout\.pem ca-file \/etc\/mesh\/ca\.crt verify required verifyhost payments\.shop\.svc\.cluster\.local/,
    );
    expect(cfg).toMatch(
      /backend r\.storefront\.0\.web\.v1\n(?:.*\n)*?.*crt \/etc\/mesh\/frontends\/public\.pem/,
    );
    expect(cfg).not.toMatch(/orders-db\.primary\n(?:.*\n)*?.*ssl crt \/etc\/mesh\/orders-db\.pem/);
  });

  it('rejects an identity setting that names no backend', () => {
    const result = render(exampleMesh('shop'), { targets: ['haproxy'], settings: { identity: 'nobody' } });
    expect(result.diagnostics.find((d) => d.code === 'MG4003')?.severity).toBe('error');
  });
});
