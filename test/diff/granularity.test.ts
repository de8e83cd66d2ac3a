import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffRendered, splitFile } from '../../src/diff/rendered.js';
import { render } from '../../src/render.js';
import { ROOT, meshFrom } from '../support/meshes.js';

/**
 * What a rendered diff reports for a change of split (storefront 90/10 -> 60/40, catalog-api's v1
 * 80% -> all of catalog): each changed section, resource or item by its own name, for the targets
 * that write one large file.
 */
const side = (s: string) =>
  meshFrom(
    fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'diff', 'traffic-shift', `${s}.yaml`), 'utf8'),
  );
const [before, after] = [side('old'), side('new')];
const changes = (target: string) =>
  diffRendered(before, after, [target])[0]!.changes.map((c) => `${c.status} ${c.file}: ${c.object}`);
const files = (target: string) => render(before, { targets: [target] }).outputs[0]!.files;
const file = (target: string, name: string) => files(target).find((f) => f.path === name)!;

describe('rendered diff granularity', () => {
  it('splits haproxy.cfg by section, though its ACL lines end in braces', () => {
    const cfg = file('haproxy', 'haproxy.cfg');
    expect(cfg.contents).toMatch(/\}\n/);
    const objects = splitFile(cfg, 'haproxy');
    expect(objects.map((o) => o.object).slice(0, 3)).toEqual(['global', 'defaults', 'frontend fe.public']);
    for (const o of objects) expect(o.object).toMatch(/^(global|defaults|frontend|backend) ?/);
    // each section with the comments above it, and nothing lost
    expect(objects.map((o) => o.text).join('')).toBe(cfg.contents);
    expect(objects.find((o) => o.object === 'frontend fe.public')!.text).toMatch(/^\n*# frontend "public"/);
    expect(changes('haproxy')).toEqual([
      'removed haproxy.cfg: backend r.catalog-api.0.catalog.v1',
      'added haproxy.cfg: backend r.catalog-api.0.catalog.v2',
      'added haproxy.cfg: backend r.catalog-api.1.catalog.all',
      'removed haproxy.cfg: backend r.catalog-api.1.catalog.v2',
      // the comment above each names its weight
      'changed haproxy.cfg: backend r.storefront.0.web.v1',
      'changed haproxy.cfg: backend r.storefront.1.web.v2',
      'changed haproxy.cfg: frontend ew.catalog',
      'changed haproxy.cfg: frontend fe.public',
    ]);
    const [fe] = diffRendered(before, after, ['haproxy'])[0]!.changes.filter(
      (c) => c.object === 'frontend fe.public',
    );
    expect(fe!.diff).toContain(
      '-    use_backend r.storefront.0.web.v1 if { var(txn.mg_route) -m int eq 1 } { var(txn.mg_pick) -m int lt 90 }\n',
    );
  });

  it('splits Envoy discovery files by resource, and bootstraps by listener and cluster', () => {
    const clusters = file('envoy', 'outbound-clusters.yaml');
    const objects = splitFile(clusters, 'envoy');
    expect(objects.length).toBeGreaterThan(3);
    for (const o of objects) {
      expect(o.object).toMatch(/^cluster [\w|.-]+$/);
      expect(o.text).toMatch(/^ {2}- "@type": type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster\n/);
    }
    expect(objects.map((o) => o.object)).toContain('cluster catalog|v1');
    expect('resources:\n' + objects.map((o) => o.text).join('')).toBe(clusters.contents);
    const listeners = splitFile(file('envoy', 'outbound-listeners.yaml'), 'envoy');
    expect(listeners.map((o) => o.object)).toContain('listener outbound|catalog');
    const sidecar = splitFile(file('envoy', 'sidecar-web.yaml'), 'envoy').map((o) => o.object);
    expect(sidecar[0]).toBe('bootstrap');
    expect(sidecar).toContain('listener inbound');
    expect(changes('envoy')).toEqual([
      'changed gateway.yaml: listener public',
      'added outbound-clusters.yaml: cluster catalog',
      'removed outbound-clusters.yaml: cluster catalog|v1',
      'changed outbound-listeners.yaml: listener outbound|catalog',
    ]);
  });

  it('names the resources of a route discovery file route_config, and reads quoted names', () => {
    const contents =
      'resources:\n  - "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n    name: "outbound|web"\n    virtual_hosts: []\n  - "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n    name: plain\n';
    expect(splitFile({ path: 'outbound-routes.yaml', contents }, 'envoy').map((o) => o.object)).toEqual([
      'route_config outbound|web',
      'route_config plain',
    ]);
  });

  it('splits the Traefik dynamic configuration by router, service and middleware', () => {
    const dynamic = file('traefik', 'dynamic.yml');
    const objects = splitFile(dynamic, 'traefik');
    for (const o of objects)
      expect(o.object).toMatch(/^(http|tcp) (router|service|middleware|serversTransport) \S+$|^tls$/);
    expect(objects.map((o) => o.object)).toContain('http router fe-public.storefront.0');
    expect(changes('traefik')).toEqual([
      'removed dynamic.yml: http service ew-catalog.catalog-api.0.catalog.v1',
      'added dynamic.yml: http service ew-catalog.catalog-api.0.catalog.v2',
      'added dynamic.yml: http service ew-catalog.catalog-api.1.catalog.all',
      'removed dynamic.yml: http service ew-catalog.catalog-api.1.catalog.v2',
      'changed dynamic.yml: http service ew-catalog.catalog-api.split',
      'changed dynamic.yml: http service fe-public.storefront.split',
    ]);
  });

  it('reports a changed Apache section in httpd.conf and again in the sites/ fragment that repeats it', () => {
    const all = changes('apache');
    const inHttpd = all
      .filter((c) => c.includes(' httpd.conf: '))
      .map((c) => c.replace(' httpd.conf: ', ' '));
    const inSites = all.filter((c) => c.includes(' sites/')).map((c) => c.replace(/ sites\/[^:]+: /, ' '));
    expect(inHttpd.length + inSites.length).toBe(all.length);
    expect(inSites.sort()).toEqual(inHttpd.sort());
    expect(inHttpd).toContain('changed Proxy balancer://r.storefront.0.web.v1');
    expect(inHttpd).toContain('changed VirtualHost 0.0.0.0:8443');
  });

  it('parses YAML the writer did not lay out', () => {
    const contents = '{ kind: Service, metadata: { name: web, namespace: shop } }\n';
    expect(splitFile({ path: 'svc.yaml', contents }).map((o) => o.object)).toEqual(['Service shop/web']);
    const json = JSON.stringify({
      resources: [{ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'web' }],
    });
    expect(splitFile({ path: 'outbound-clusters.json', contents: json }).map((o) => o.object)).toEqual([
      'cluster web',
    ]);
  });
});
