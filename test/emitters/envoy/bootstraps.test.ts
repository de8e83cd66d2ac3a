import { describe, expect, it } from 'vitest';
import { checkEnvoy } from '../../../src/envoy/check.js';
import { EXAMPLES, exampleMesh } from '../../support/meshes.js';
import { effective, referencedClusters, renderEnvoy, type Boot, type Rendered } from './helpers.js';

const RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';

/** Checks a file against Envoy's protos: a bootstrap, or a DiscoveryResponse (the shared files). */
function expectDecodes(boot: Boot, where: string, type?: string): void {
  const r = checkEnvoy(boot, { canonical: true, type });
  expect(r.errors, where).toEqual([]);
  expect(r.warnings, where).toEqual([]);
}

/** Checks every file of a render against the protos, and each proxy's cross-references as Envoy runs it. */
function expectRenderValid(rendered: Rendered, where: string): void {
  for (const [path, boot] of Object.entries(rendered.boots)) {
    const shared = path.startsWith('outbound-');
    expectDecodes(boot, `${where}/${path}`, shared ? RESPONSE : undefined);
    if (shared) continue;
    expectValid(effective(rendered, path), `${where}/${path}`);
  }
}

/** The cross-references the protos cannot see, in a bootstrap with every resource static. */
function expectValid(boot: Boot, where: string): void {
  const secrets = new Set((boot.static_resources.secrets ?? []).map((s: Boot) => s.name));
  const named: string[] = [];
  JSON.stringify(boot, (k, v) => {
    if (k === 'tls_certificate_sds_secret_configs') named.push(...v.map((c: Boot) => c.name));
    return v;
  });
  for (const name of named) expect(secrets.has(name), `${where}: secret "${name}" is defined`).toBe(true);
  const listeners: string[] = boot.static_resources.listeners.map((l: Boot) => l.name);
  const clusters: string[] = boot.static_resources.clusters.map((c: Boot) => c.name);
  expect(new Set(listeners).size, `${where}: listener names unique`).toBe(listeners.length);
  expect(new Set(clusters).size, `${where}: cluster names unique`).toBe(clusters.length);
  const addresses = boot.static_resources.listeners.map(
    (l: Boot) => `${l.address.socket_address.address}:${l.address.socket_address.port_value}`,
  );
  expect(new Set(addresses).size, `${where}: listener addresses unique`).toBe(addresses.length);
  const known = new Set(clusters);
  for (const name of referencedClusters(boot))
    expect(known.has(name), `${where}: cluster "${name}" is defined`).toBe(true);
  for (const c of boot.static_resources.clusters) expect(c.load_assignment.cluster_name, where).toBe(c.name);
  // every listener has at least one filter chain: Envoy rejects one without
  for (const l of boot.static_resources.listeners)
    expect(l.filter_chains.length, `${where}: ${l.name}`).toBeGreaterThan(0);
}

describe.each(EXAMPLES)('example %s', (example) => {
  it.each(['yaml', 'json'])(
    'emits %s bootstraps that decode against Envoy v3 protos, with every cross-reference resolved',
    (format) => {
      const rendered = renderEnvoy(exampleMesh(example), { format });
      const names = Object.keys(rendered.boots);
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.endsWith(`.${format}`))).toBe(true);
      expectRenderValid(rendered, example);
    },
  );

  it('says the same thing in YAML and JSON', () => {
    const yaml = renderEnvoy(exampleMesh(example), { format: 'yaml' }).boots;
    const json = renderEnvoy(exampleMesh(example), { format: 'json' }).boots;
    expect(Object.keys(json).map((k) => k.replace(/\.json$/, '.yaml'))).toEqual(Object.keys(yaml));
    // the sidecars name the shared files of their own format
    const same = (v: Boot) =>
      JSON.parse(JSON.stringify(v).replace(/(\/outbound-(?:listeners|clusters))\.json"/g, '$1.yaml"'));
    for (const [k, v] of Object.entries(json)) expect(same(v)).toEqual(yaml[k.replace(/\.json$/, '.yaml')]);
  });

  it.each(['yaml', 'json'])(
    'gives each sidecar its own side only and shares the outbound side through discovery files in %s',
    (format) => {
      const mesh = exampleMesh(example);
      const rendered = renderEnvoy(mesh, { format, settings: { discoveryDir: '/srv/xds/' } });
      const { boots } = rendered;
      const lds = boots[`outbound-listeners.${format}`];
      const cds = boots[`outbound-clusters.${format}`];
      // one outbound listener per backend, once for the whole mesh
      expect(lds.resources.map((l: Boot) => l.name)).toEqual(mesh.backends.map((b) => `outbound|${b.name}`));
      for (const l of lds.resources)
        expect(l['@type']).toBe('type.googleapis.com/envoy.config.listener.v3.Listener');
      for (const c of cds.resources)
        expect(c['@type']).toBe('type.googleapis.com/envoy.config.cluster.v3.Cluster');
      // no workload's own file in the shared clusters: each presents the sidecar's workload secret
      const shared = JSON.stringify(cds);
      expect(shared).not.toMatch(/tls_certificates/);
      for (const b of mesh.backends) {
        const boot = boots[`sidecar-${b.name}.${format}`];
        expect(boot.static_resources.listeners.map((l: Boot) => l.name)).toEqual(['inbound']);
        expect(boot.static_resources.clusters.every((c: Boot) => c.name.startsWith('inbound|'))).toBe(true);
        expect(boot.dynamic_resources).toEqual({
          lds_config: {
            path_config_source: { path: `/srv/xds/outbound-listeners.${format}` },
            resource_api_version: 'V3',
          },
          cds_config: {
            path_config_source: { path: `/srv/xds/outbound-clusters.${format}` },
            resource_api_version: 'V3',
          },
        });
        if (shared.includes('tls_certificate_sds_secret_configs'))
          expect(boot.static_resources.secrets).toEqual([
            {
              name: 'workload',
              tls_certificate: {
                certificate_chain: { filename: `certs/${b.name}.crt` },
                private_key: { filename: `certs/${b.name}.key` },
              },
            },
          ]);
      }
    },
  );

  it('writes a gateway when there are frontends and a sidecar per backend', () => {
    const mesh = exampleMesh(example);
    const { texts } = renderEnvoy(mesh);
    const expected = [
      ...(mesh.frontends.length ? ['gateway.yaml'] : []),
      ...mesh.backends.map((b) => `sidecar-${b.name}.yaml`),
      'outbound-clusters.yaml',
      'outbound-listeners.yaml',
      'hosts',
    ].sort();
    expect(Object.keys(texts).sort()).toEqual(expected);
  });
});

describe('the checker used above', () => {
  it('would catch a route naming a missing cluster or a misspelt field', () => {
    const { boots } = renderEnvoy(exampleMesh('shop'));
    const boot = structuredClone(boots['gateway.yaml']);
    const vh =
      boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config
        .virtual_hosts[0];
    vh.routes[0].route.cluster = 'nope';
    expect(referencedClusters(boot)).toContain('nope');
    vh.routes[0].route.timout = '1s';
    expect(checkEnvoy(boot).ok).toBe(false);
  });
});
