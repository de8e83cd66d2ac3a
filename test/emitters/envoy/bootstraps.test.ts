import { describe, expect, it } from 'vitest';
import { checkEnvoy } from '../../../src/envoy/check.js';
import { EXAMPLES, exampleMesh } from '../../support/meshes.js';
import { buildOutbound, buildSidecar } from '../../../src/emitters/envoy/sidecar.js';
import { readSettings } from '../../../src/emitters/envoy/settings.js';
import { JSON_FORMAT, YAML_FORMAT } from '../../../src/emitters/envoy/text.js';
import { referencedClusters, renderEnvoy, type Boot } from './helpers.js';

/** Checks a bootstrap against Envoy's protos, and the cross-references the protos cannot see. */
function expectValid(boot: Boot, where: string): void {
  const r = checkEnvoy(boot, { canonical: true });
  expect(r.errors, where).toEqual([]);
  expect(r.warnings, where).toEqual([]);
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
      const { boots } = renderEnvoy(exampleMesh(example), { format });
      const names = Object.keys(boots);
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.endsWith(`.${format}`))).toBe(true);
      for (const [path, boot] of Object.entries(boots)) expectValid(boot, `${example}/${path}`);
    },
  );

  it('says the same thing in YAML and JSON', () => {
    const yaml = renderEnvoy(exampleMesh(example), { format: 'yaml' }).boots;
    const json = renderEnvoy(exampleMesh(example), { format: 'json' }).boots;
    expect(Object.keys(json).map((k) => k.replace(/\.json$/, '.yaml'))).toEqual(Object.keys(yaml));
    for (const [k, v] of Object.entries(json)) expect(v).toEqual(yaml[k.replace(/\.json$/, '.yaml')]);
  });

  it.each(['yaml', 'json'])(
    'splices sidecars in %s to the same bytes as serializing each whole bootstrap',
    (format) => {
      const mesh = exampleMesh(example);
      const settings = readSettings({ format, settings: { certDir: '/c' } }, []);
      const outbound = buildOutbound(mesh, []);
      const { texts } = renderEnvoy(mesh, { format, settings: { certDir: '/c' } });
      const whole = format === 'json' ? JSON_FORMAT : YAML_FORMAT;
      for (const b of mesh.backends)
        expect(texts[`sidecar-${b.name}.${format}`]).toBe(
          whole.whole(buildSidecar(mesh, b, outbound, settings)),
        );
    },
  );

  it('writes a gateway when there are frontends and a sidecar per backend', () => {
    const mesh = exampleMesh(example);
    const { texts } = renderEnvoy(mesh);
    const expected = [
      ...(mesh.frontends.length ? ['gateway.yaml'] : []),
      ...mesh.backends.map((b) => `sidecar-${b.name}.yaml`),
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
