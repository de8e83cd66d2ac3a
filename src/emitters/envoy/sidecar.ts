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
import { inboundTls } from './tls.js';

/** The names a caller may use for a backend, as Host headers: name, name.namespace, FQDN, local address; each with and without the port. */
function backendDomains(b: ResolvedBackend): string[] {
  const names = [b.name, `${b.name}.${b.namespace}`, b.fqdn, b.localAddress];
  return [...names, ...names.map((n) => `${n}:${b.port}`)];
}

/**
 * The outbound side, the same in every sidecar: one listener per backend on its local address and
 * port (the SmartStack pattern), with that backend's routes; and the clusters those routes name.
 * Built once per mesh; each sidecar then adds its own certificate to the clusters.
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

/** The clusters of the outbound side, presenting the certificate of workload `caller`. */
export function outboundClusters(
  mesh: ResolvedMesh,
  outbound: Outbound,
  settings: EnvoySettings,
  caller: string,
): Json[] {
  return outbound.clusters.map(({ name, key }) => {
    const backend = mesh.backendsByName.get(key.backend)!;
    const versions = key.version === undefined ? backend.versions.map((v) => v.name) : [key.version];
    return buildCluster({ name, backend, versions, certDir: settings.certDir, caller });
  });
}

/** What only this sidecar has: its node, admin, inbound listener and inbound clusters. */
export interface SidecarOwn {
  readonly head: Json;
  readonly listeners: Json[];
  readonly clusters: Json[];
}

export function buildSidecarOwn(mesh: ResolvedMesh, b: ResolvedBackend, settings: EnvoySettings): SidecarOwn {
  const inbound = buildInbound(mesh, b, settings);
  return {
    head: {
      node: { id: `sidecar-${b.name}`, cluster: b.name },
      admin: { address: socketAddress('127.0.0.1', settings.adminPort) },
    },
    listeners: inbound.listener ? [inbound.listener] : [],
    clusters: inbound.clusters,
  };
}

/** The bootstrap of the sidecar that runs beside each instance of backend `b`, as one object. */
export function buildSidecar(
  mesh: ResolvedMesh,
  b: ResolvedBackend,
  outbound: Outbound,
  settings: EnvoySettings,
): Json {
  const own = buildSidecarOwn(mesh, b, settings);
  return {
    ...own.head,
    static_resources: {
      listeners: [...own.listeners, ...outbound.listeners],
      clusters: [...own.clusters, ...outboundClusters(mesh, outbound, settings, b.name)],
    },
  };
}
