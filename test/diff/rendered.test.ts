import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { diffRendered, splitFile } from '../../src/diff/rendered.js';
import { ROOT, meshFrom } from '../support/meshes.js';

// Two stand-in targets, so the rendered diff is tested whatever the real registry holds: one writes
// a Kubernetes object per route, the other an HAProxy-style file and an NGINX-style file.
vi.mock('../../src/emitters/index.js', async () => {
  const { k8sObject, objectFiles } = await import('../../src/kubernetes/objects.js');
  const { FEATURES } = await import('../../src/model/features.js');
  const fidelity = Object.fromEntries(FEATURES.map((f) => [f, 'exact']));
  const k8s = {
    target: 'fake-k8s',
    summary: 'one object per route',
    fidelity,
    emit: (mesh: import('../../src/model/types.js').ResolvedMesh) => ({
      files: objectFiles(
        mesh.routes.map((r) =>
          k8sObject(
            mesh,
            'example.io/v1',
            'Route',
            { name: r.name, namespace: mesh.namespace },
            {
              spec: {
                to: r.to.map((t) => ({ backend: t.backend, version: t.version ?? null, weight: t.weight })),
              },
            },
          ),
        ),
      ),
      diagnostics: [],
    }),
  };
  const text = {
    target: 'fake-text',
    summary: 'config files',
    fidelity,
    emit: (mesh: import('../../src/model/types.js').ResolvedMesh) => ({
      files: [
        {
          path: 'haproxy.cfg',
          contents:
            'global\n    maxconn 100\n\n' +
            mesh.backends
              .map(
                (b) =>
                  `backend ${b.name}\n${b.versions.flatMap((v) => v.endpoints.map((e) => `    server ${v.name} ${e.address}\n`)).join('')}`,
              )
              .join('\n'),
        },
        {
          path: 'nginx.conf',
          contents:
            'events {\n}\nhttp {\n    sendfile on;\n' +
            mesh.backends
              .map(
                (b) =>
                  `    upstream ${b.name} {\n${b.versions.flatMap((v) => v.endpoints.map((e) => `        server ${e.address};\n`)).join('')}    }\n    server {\n        listen ${b.localAddress}:${b.port};\n        location / { proxy_pass http://${b.name}; }\n    }\n`,
              )
              .join('') +
            '}\n',
        },
      ],
      diagnostics: [],
    }),
  };
  const emitters = [k8s, text];
  return { emitters, findEmitter: (t: string) => emitters.find((e) => e.target === t) };
});

const fixture = (c: string, side: string) => {
  const file = path.join(ROOT, 'test', 'fixtures', 'diff', c, `${side}.yaml`);
  return meshFrom(fs.readFileSync(file, 'utf8'), file);
};

describe('diffRendered', () => {
  it('finds nothing between meshes that differ only in formatting and comments', () => {
    const text = fs.readFileSync(path.join(ROOT, 'examples', 'shop.yaml'), 'utf8');
    const reformatted = text
      .replace(/#.*$/gm, '')
      .replace(/\n\n/g, '\n')
      .replace('mtls: { mode: strict }', 'mtls:\n    mode: strict    # comment');
    expect(reformatted).not.toBe(text);
    const result = diffRendered(meshFrom(text), meshFrom(reformatted), ['fake-k8s', 'fake-text']);
    expect(result).toEqual([
      { target: 'fake-k8s', changes: [] },
      { target: 'fake-text', changes: [] },
    ]);
  });

  it('shows a changed Kubernetes object with a unified diff of it', () => {
    const [k8s] = diffRendered(fixture('traffic-shift', 'old'), fixture('traffic-shift', 'new'), [
      'fake-k8s',
    ]);
    expect(k8s!.changes.map((c) => [c.status, c.object, c.file])).toEqual([
      ['changed', 'Route shop/catalog-api', 'route-shop-catalog-api.yaml'],
      ['changed', 'Route shop/storefront', 'route-shop-storefront.yaml'],
    ]);
    const diff = k8s!.changes[1]!.diff!;
    expect(diff).toContain('--- a/route-shop-storefront.yaml\n+++ b/route-shop-storefront.yaml\n');
    expect(diff).toContain('-      weight: 90\n');
    expect(diff).toContain('+      weight: 60\n');
  });

  it('lists added and removed objects', () => {
    const [k8s] = diffRendered(fixture('routes', 'old'), fixture('routes', 'new'), ['fake-k8s']);
    // orders-db's own route gives way to the implicit one, which the stand-in names the same
    expect(k8s!.changes.map((c) => `${c.status} ${c.object}`)).toEqual([
      'added Route shop/catalog-admin',
      'changed Route shop/orders-db',
      'added Route shop/payments-v1',
      'removed Route shop/payments',
    ]);
  });

  it('splits config files into sections and diffs only the sections that change', () => {
    const [, text] = diffRendered(fixture('backends', 'old'), fixture('backends', 'new'), 'all');
    expect(text!.target).toBe('fake-text');
    expect(text!.changes.map((c) => `${c.status} ${c.file}: ${c.object}`)).toEqual(
      [
        'changed haproxy.cfg: backend checkout',
        'changed haproxy.cfg: backend web',
        'added haproxy.cfg: backend search',
        'changed nginx.conf: http > upstream checkout',
        'changed nginx.conf: http > upstream web',
        'added nginx.conf: http > upstream search',
        'added nginx.conf: http > server listen 127.0.0.1:9191',
      ].sort((a, b) => {
        const key = (s: string) => s.slice(s.indexOf(' ') + 1);
        return key(a) < key(b) ? -1 : 1;
      }),
    );
  });
});

describe('splitFile', () => {
  it('splits an Envoy bootstrap into its listeners and clusters', () => {
    const contents =
      'admin: { address: { socket_address: { port_value: 9901 } } }\nstatic_resources:\n  listeners:\n    - name: in\n      address: {}\n  clusters:\n    - name: web-v1\n    - name: web-v2\n';
    expect(splitFile({ path: 'envoy.yaml', contents }).map((o) => o.object)).toEqual([
      'bootstrap',
      'listener in',
      'cluster web-v1',
      'cluster web-v2',
    ]);
  });

  it('splits a Traefik dynamic configuration into its routers, services, middlewares and tls', () => {
    const contents =
      'http:\n  routers:\n    fe.a.0: { rule: "Path(`/`)", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://x" }] } }\n  middlewares:\n    m: { retry: { attempts: 2 } }\ntcp:\n  routers:\n    t: { rule: "HostSNI(`*`)", service: u }\ntls:\n  certificates: [{ certFile: a, keyFile: b }]\n';
    const objects = splitFile({ path: 'dynamic.yml', contents });
    expect(objects.map((o) => o.object)).toEqual([
      'http router fe.a.0',
      'http service s',
      'http middleware m',
      'tcp router t',
      'tls',
    ]);
    expect(objects[0]!.text).toContain('Path(`/`)');
  });

  it('splits iptables-restore input by table and chain', () => {
    const contents =
      '*nat\n:OUTPUT ACCEPT [0:0]\n:MESHGEN - [0:0]\n-A OUTPUT -j MESHGEN\n-A MESHGEN -p tcp -j RETURN\nCOMMIT\n';
    expect(splitFile({ path: 'rules.v4', contents }).map((o) => [o.object, o.text])).toEqual([
      ['nat', '*nat\n:OUTPUT ACCEPT [0:0]\n:MESHGEN - [0:0]\nCOMMIT\n'],
      ['nat OUTPUT', '-A OUTPUT -j MESHGEN\n'],
      ['nat MESHGEN', '-A MESHGEN -p tcp -j RETURN\n'],
    ]);
  });

  it('names each nameless block of a large NGINX file by its first directive', () => {
    const n = 20_000;
    const servers = Array.from(
      { length: n },
      (_, i) =>
        `    server {\n\n        listen 127.0.0.1:${20000 + i};\n        location / { return 404; }\n    }\n`,
    );
    const objects = splitFile({ path: 'nginx.conf', contents: `http {\n${servers.join('')}}\n` });
    expect(objects.length).toBe(n + 1);
    expect(objects[0]).toEqual({ file: 'nginx.conf', object: 'http', text: 'http {\n}\n' });
    objects.slice(1).forEach((o, i) => {
      expect(o.object).toBe(`http > server listen 127.0.0.1:${20000 + i}`);
      // each block's text is its lines as the file has them
      expect(o.text).toBe(servers[i]);
    });
  });

  it('keeps a file it cannot split as one object', () => {
    const contents = '127.0.0.1 web\n127.0.0.2 catalog\n';
    expect(splitFile({ path: 'hosts', contents })).toEqual([
      { file: 'hosts', object: 'hosts', text: contents },
    ]);
  });

  it('names Kubernetes documents of a multi-document file by kind and name', () => {
    const contents =
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n';
    expect(splitFile({ path: 'all.yaml', contents }).map((o) => o.object)).toEqual([
      'Service shop/web',
      'Service api',
    ]);
  });
});
