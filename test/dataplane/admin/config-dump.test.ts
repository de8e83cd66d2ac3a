import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import { watchDiscovery } from '../../../src/dataplane/config/discovery.js';
import { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { waitFor } from '../../support/processes.js';
import { cluster, httpBootstrap, request, type Obj } from '../helpers.js';

/**
 * /config_dump of a proxy whose listeners and clusters come from path_config_source files: as
 * Envoy, the resources of the files are dynamic_active_clusters and dynamic_listeners with the
 * file's version_info and their last_updated, the inline route configurations are in the
 * RoutesConfigDump, and a file replaced by a rename shows its new version.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-config-dump-'));
let backend: TestBackend;

beforeAll(async () => {
  backend = await startBackend('b', 'v1');
});
afterAll(async () => {
  await backend.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const ADMIN = 'type.googleapis.com/envoy.admin.v3';

/** A DiscoveryResponse file, written as a deployment does: beside it, then renamed over it. */
function writeResponse(name: string, version: string, type: string, resources: Obj[]): void {
  const tmp = path.join(dir, `.${name}.new`);
  const response = { version_info: version, resources: resources.map((r) => ({ '@type': type, ...r })) };
  fs.writeFileSync(tmp, JSON.stringify(response, null, 2));
  fs.renameSync(tmp, path.join(dir, name));
}

/** The one LDS listener: on a port the OS picks, routing / to cluster `to`. */
function dynamicListener(to: string): Obj {
  const boot = httpBootstrap(
    0,
    [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: to } }] }],
    [],
  );
  const l = boot.static_resources.listeners[0];
  return { ...l, name: 'from-lds', filter_chains: l.filter_chains };
}

interface Dump {
  configs: Obj[];
}
const dumpOf = async (admin: number): Promise<Dump> =>
  JSON.parse((await request(admin, '/config_dump')).body) as Dump;
const part = (d: Dump, kind: string): Obj => {
  const found = d.configs.find((c) => c['@type'] === `${ADMIN}.${kind}`);
  expect(found, kind).toBeDefined();
  return found!;
};
const isTime = (t: unknown) => typeof t === 'string' && !Number.isNaN(Date.parse(t)) && t.endsWith('Z');

describe('/config_dump with path_config_source files', () => {
  let proxy: Proxy;
  let stopWatch: () => void;
  const file = path.join(dir, 'bootstrap.yaml');

  beforeAll(async () => {
    writeResponse('clusters.json', 'c1', CLUSTER, [
      cluster('kept', [backend.port]),
      cluster('changed', [backend.port], { connect_timeout: '1s' }),
    ]);
    writeResponse('listeners.json', 'l1', LISTENER, [dynamicListener('changed')]);
    const boot = httpBootstrap(
      0,
      [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'static' } }] }],
      [cluster('static', [backend.port])],
      { admin: 0 },
    );
    boot.dynamic_resources = {
      lds_config: {
        path_config_source: { path: path.join(dir, 'listeners.json') },
        resource_api_version: 'V3',
      },
      cds_config: {
        path_config_source: { path: path.join(dir, 'clusters.json') },
        resource_api_version: 'V3',
      },
    };
    fs.writeFileSync(file, JSON.stringify(boot, null, 2));
    const loaded = await loadBootstrap(file);
    expect(loaded.diagnostics).toEqual([]);
    proxy = new Proxy(loaded.config!, { drainTimeS: 1 });
    await proxy.start();
    stopWatch = watchDiscovery(loaded.config!.discovery, () => {
      void loadBootstrap(file).then((next) => (next.config ? proxy.reload(next.config) : undefined));
    });
  });
  afterAll(async () => {
    stopWatch();
    await proxy.stop();
  });

  it('lists the clusters, listeners and route configurations of the files, versioned, beside the static ones', async () => {
    const dump = await dumpOf(proxy.adminPort!);
    expect(dump.configs.map((c) => c['@type'])).toEqual([
      `${ADMIN}.BootstrapConfigDump`,
      `${ADMIN}.ClustersConfigDump`,
      `${ADMIN}.ListenersConfigDump`,
      `${ADMIN}.RoutesConfigDump`,
    ]);
    const clusters = part(dump, 'ClustersConfigDump');
    expect(clusters.version_info).toBe('c1');
    expect(clusters.static_clusters.map((c: Obj) => c.cluster.name)).toEqual(['static']);
    expect(clusters.static_clusters[0].cluster['@type']).toBe(CLUSTER);
    expect(clusters.dynamic_active_clusters.map((c: Obj) => [c.version_info, c.cluster.name])).toEqual([
      ['c1', 'kept'],
      ['c1', 'changed'],
    ]);
    const changed = clusters.dynamic_active_clusters[1];
    expect(changed.cluster).toEqual({
      '@type': CLUSTER,
      ...cluster('changed', [backend.port], { connect_timeout: '1s' }),
    });
    expect(isTime(changed.last_updated)).toBe(true);

    const listeners = part(dump, 'ListenersConfigDump');
    expect(listeners.version_info).toBe('l1');
    expect(listeners.static_listeners.map((l: Obj) => l.listener.name)).toEqual(['http']);
    expect(listeners.dynamic_listeners).toHaveLength(1);
    const [dynamic] = listeners.dynamic_listeners;
    expect(dynamic.name).toBe('from-lds');
    expect(dynamic.active_state.version_info).toBe('l1');
    expect(dynamic.active_state.listener['@type']).toBe(LISTENER);
    expect(dynamic.active_state.listener.name).toBe('from-lds');
    expect(isTime(dynamic.active_state.last_updated)).toBe(true);

    // both connection managers' inline route configurations, the LDS listener's included
    const routes = part(dump, 'RoutesConfigDump');
    const configs = routes.static_route_configs.map((r: Obj) => r.route_config);
    expect(configs.map((r: Obj) => [r['@type'], r.virtual_hosts[0].routes[0].route.cluster])).toEqual([
      ['type.googleapis.com/envoy.config.route.v3.RouteConfiguration', 'static'],
      ['type.googleapis.com/envoy.config.route.v3.RouteConfiguration', 'changed'],
    ]);
    expect(routes.static_route_configs.every((r: Obj) => isTime(r.last_updated))).toBe(true);
  });

  it('shows the new version of a file replaced by a rename; what it left unchanged keeps its version and time', async () => {
    const before = await dumpOf(proxy.adminPort!);
    const [kept, changed] = part(before, 'ClustersConfigDump').dynamic_active_clusters as Obj[];
    // the clocks of the two loads must differ for the times to tell them apart
    await waitFor(() => Date.now() > Date.parse(changed!.last_updated as string) + 5, {
      what: 'the clock to move past the first load',
      timeoutMs: 1000,
    });
    writeResponse('clusters.json', 'c2', CLUSTER, [
      cluster('kept', [backend.port]),
      cluster('changed', [backend.port], { connect_timeout: '2s' }),
      cluster('added', [backend.port]),
    ]);
    let after: Dump | undefined;
    await waitFor(
      async () => {
        after = await dumpOf(proxy.adminPort!);
        return part(after, 'ClustersConfigDump').version_info === 'c2';
      },
      { what: 'the dump of the replaced clusters file' },
    );
    const clusters = part(after!, 'ClustersConfigDump');
    const byName = new Map((clusters.dynamic_active_clusters as Obj[]).map((c) => [c.cluster.name, c]));
    expect([...byName.keys()]).toEqual(['kept', 'changed', 'added']);
    expect(byName.get('kept')).toEqual(kept);
    expect(byName.get('changed')!.version_info).toBe('c2');
    expect(byName.get('changed')!.cluster.connect_timeout).toBe('2s');
    expect(Date.parse(byName.get('changed')!.last_updated)).toBeGreaterThan(
      Date.parse(changed!.last_updated),
    );
    expect(byName.get('added')!.version_info).toBe('c2');
    // the listeners file did not change: its version and its listener's time stay
    expect(part(after!, 'ListenersConfigDump')).toEqual(part(before, 'ListenersConfigDump'));
    // and the proxy routes with the new configuration
    expect(proxy.clusters.has('added')).toBe(true);
  });
});
