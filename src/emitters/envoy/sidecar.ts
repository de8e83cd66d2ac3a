import type { Diagnostic } from '../../model/diagnostics.js';
import type { ResolvedBackend, ResolvedMesh } from '../../model/types.js';
import { OrderedSet, TYPE, socketAddress, typed, type Json } from './common.js';
import {
  buildCluster,
  clusterName,
  http2Options,
  isHttp2,
  loadAssignment,
  orderClusterKeys,
} from './clusters.js';
import { ORIGINAL_DST, TLS_INSPECTOR, httpConnectionManager, tcpProxyFilter } from './listeners.js';
import { httpRbacFilter, networkRbacFilter, rbacRules } from './rbac.js';
import { buildHttpRoute, buildTcpProxy, type ClusterKey } from './routes.js';
import type { EnvoySettings } from './settings.js';
import { WORKLOAD_SECRET, callersUseTls, inboundTls, workloadSecret } from './tls.js';

/** The names a caller may use for a backend, as Host headers: name, name.namespace, FQDN, local address; each with and without the port. */
function backendDomains(b: ResolvedBackend): string[] {
  const names = [b.name, `${b.name}.${b.namespace}`, b.fqdn, b.localAddress];
  return [...names, ...names.map((n) => `${n}:${b.port}`)];
}

/**
 * The outbound side, the same in every sidecar: one listener per backend on its local address and
 * port (the SmartStack pattern), with that backend's routes; and the clusters those routes name.
 * Built once per mesh and written once, in the shared discovery files every sidecar reads; the
 * clusters present the certificate of the sidecar's `workload` secret.
 */
export interface Outbound {
  readonly listeners: Json[];
  readonly clusters: { name: string; key: ClusterKey }[];
}

export function buildOutbound(mesh: ResolvedMesh, diagnostics: Diagnostic[]): Outbound {
  const listeners: Json[] = [];
  const names = new OrderedSet<string>();
  const keys = new Map<string, ClusterKey>();
  const need = (ks: ClusterKey[]) => {
    for (const k of ks) {
      const name = clusterName(k.backend, k.version);
      names.add(name);
      keys.set(name, k);
    }
  };
  for (const b of mesh.backends) {
    const name = `outbound|${b.name}`;
    const listener: Json = { name, address: socketAddress(b.localAddress, b.port) };
    if (b.protocol === 'tcp') {
      // TCP routes have no match: the first takes every connection
      const t = buildTcpProxy(mesh, b.routes[0]!, '', name);
      need(t.clusters);
      listener.filter_chains = [{ filters: [tcpProxyFilter(t.config)] }];
    } else {
      const routes: Json[] = [];
      let fault = false;
      for (const r of b.routes) {
        const built = buildHttpRoute(mesh, r, '', diagnostics);
        routes.push(...built.routes);
        need(built.clusters);
        fault ||= built.usesFault;
      }
      // a request no route accepts gets Envoy's own 404
      const vh = { name: b.name, domains: backendDomains(b), routes };
      listener.filter_chains = [
        { filters: [httpConnectionManager({ statPrefix: name, virtualHosts: [vh], fault })] },
      ];
    }
    listeners.push(listener);
  }
  return {
    listeners,
    clusters: orderClusterKeys(
      mesh,
      names.items.map((name) => ({ name, key: keys.get(name)! })),
    ),
  };
}

/** The distinct ports of a backend's endpoints: where its app instances listen. */
function appPorts(b: ResolvedBackend): number[] {
  const ports = new OrderedSet<number>();
  for (const v of b.versions) for (const e of v.endpoints) ports.add(e.port);
  return ports.items;
}

/**
 * The inbound listener: callers' connections to one of the backend's endpoints, redirected to the
 * inbound port by interception (original_dst restores the port they were sent to), are matched by
 * that port, checked (mTLS, then RBAC) and forwarded to the app on 127.0.0.1 at the same port.
 */
function buildInbound(
  mesh: ResolvedMesh,
  b: ResolvedBackend,
  settings: EnvoySettings,
): { listener?: Json; clusters: Json[] } {
  const ports = appPorts(b);
  if (ports.length === 0) return { clusters: [] };
  const tcp = b.protocol === 'tcp';
  const rules = rbacRules(b, mesh.trustDomain, !tcp);
  const chains: Json[] = [];
  const clusters: Json[] = [];
  for (const port of ports) {
    const name = `inbound|${port}`;
    const filters: Json[] = tcp
      ? [
          ...(rules ? [networkRbacFilter(rules, name)] : []),
          tcpProxyFilter(typed(TYPE.tcpProxy, { stat_prefix: name, cluster: name })),
        ]
      : [
          httpConnectionManager({
            statPrefix: name,
            rbac: rules && httpRbacFilter(rules),
            virtualHosts: [
              // the caller's route timeout governs; this hop adds no limit of its own
              {
                name: 'app',
                domains: ['*'],
                routes: [{ match: { prefix: '/' }, route: { cluster: name, timeout: '0s' } }],
              },
            ],
          }),
        ];
    const tls = inboundTls(settings.certDir, b, mesh.trustDomain);
    if (b.mtlsMode === 'strict')
      chains.push({ name, filter_chain_match: { destination_port: port }, filters, transport_socket: tls });
    else if (b.mtlsMode === 'permissive')
      chains.push(
        {
          name: `${name}|tls`,
          filter_chain_match: { destination_port: port, transport_protocol: 'tls' },
          filters,
          transport_socket: tls,
        },
        {
          name: `${name}|plaintext`,
          filter_chain_match: { destination_port: port, transport_protocol: 'raw_buffer' },
          filters,
        },
      );
    else chains.push({ name, filter_chain_match: { destination_port: port }, filters });
    clusters.push({
      name,
      connect_timeout: '5s',
      ...loadAssignment(name, [{ address: `127.0.0.1:${port}`, host: '127.0.0.1', port, family: 'ipv4' }]),
      typed_extension_protocol_options: isHttp2(b) ? http2Options() : undefined,
    });
  }
  return {
    listener: {
      name: 'inbound',
      address: socketAddress('0.0.0.0', settings.inboundPort),
      listener_filters: b.mtlsMode === 'permissive' ? [ORIGINAL_DST, TLS_INSPECTOR] : [ORIGINAL_DST],
      filter_chains: chains,
    },
    clusters,
  };
}

/** The clusters of the outbound side, presenting the sidecar's `workload` secret. */
export function outboundClusters(mesh: ResolvedMesh, outbound: Outbound, settings: EnvoySettings): Json[] {
  return outbound.clusters.map(({ name, key }) => {
    const backend = mesh.backendsByName.get(key.backend)!;
    const versions = key.version === undefined ? backend.versions.map((v) => v.name) : [key.version];
    return buildCluster({
      name,
      backend,
      versions,
      certDir: settings.certDir,
      caller: { secret: WORKLOAD_SECRET },
    });
  });
}

/** The shared files, by what they hold: `<name>.yaml` or `<name>.json` in the output and in discoveryDir. */
export const DISCOVERY_FILES = { listeners: 'outbound-listeners', clusters: 'outbound-clusters' } as const;

/**
 * A discovery file as Envoy reads a path config source: a DiscoveryResponse whose `resources` are
 * the listeners (LDS) or clusters (CDS), each an `Any` with its `@type`.
 */
export function discoveryResponse(type: string, resources: readonly Json[]): Json {
  return { resources: resources.map((r) => typed(type, r)) };
}

/** LDS or CDS from the shared file `<discoveryDir>/<name>.<ext>`, watched by Envoy for moves. */
function pathSource(settings: EnvoySettings, name: string): Json {
  const ext = settings.format === 'json' ? 'json' : 'yaml';
  return {
    path_config_source: { path: `${settings.discoveryDir}/${name}.${ext}` },
    resource_api_version: 'V3',
  };
}

/** Whether some backend is called in mTLS: each sidecar then holds its `workload` secret. */
export function meshUsesTls(mesh: ResolvedMesh): boolean {
  return mesh.backends.some(callersUseTls);
}

/**
 * The bootstrap of the sidecar that runs beside each instance of backend `b`: its node and admin,
 * its inbound listener and clusters, its `workload` secret (when `tls`: some backend is called in
 * mTLS, `meshUsesTls`, asked once for all the sidecars), and the shared outbound listeners and
 * clusters through `dynamic_resources`.
 */
export function buildSidecar(
  mesh: ResolvedMesh,
  b: ResolvedBackend,
  settings: EnvoySettings,
  tls: boolean,
): Json {
  const inbound = buildInbound(mesh, b, settings);
  return {
    node: { id: `sidecar-${b.name}`, cluster: b.name },
    admin: { address: socketAddress('127.0.0.1', settings.adminPort) },
    static_resources: {
      listeners: inbound.listener ? [inbound.listener] : [],
      clusters: inbound.clusters,
      secrets: tls ? [workloadSecret(settings.certDir, b.name)] : undefined,
    },
    dynamic_resources: {
      lds_config: pathSource(settings, DISCOVERY_FILES.listeners),
      cds_config: pathSource(settings, DISCOVERY_FILES.clusters),
    },
  };
}
