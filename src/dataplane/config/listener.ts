import {
  accessLogs,
  bufferLimitBytes,
  durationMs,
  sockAddr,
  type AccessLogConfig,
  type Obj,
  type SockAddr,
} from './common.js';
import { hcm, type HcmConfig, type HttpFilterConverter } from './hcm.js';
import { rbacConfig, type RbacConfig } from './rbac.js';
import type { PathError } from './supported.js';
import { tlsContext, type TlsConfig } from './tls.js';

export interface ListenerConfig {
  name: string;
  address: SockAddr;
  /**
   * Filter chains, chosen as Envoy does: by destination_port (the original destination with the
   * original_dst listener filter), then transport_protocol (tls_inspector), then SNI.
   */
  chains: ChainConfig[];
  /** The original_dst listener filter is configured. */
  originalDst: boolean;
  /** The tls_inspector listener filter is configured (transport_protocol is detected). */
  tlsInspector: boolean;
}

export interface ChainConfig {
  serverNames: string[];
  destinationPort?: number;
  /** envoy.filters.network.rbac filters before the terminal filter, in order. */
  rbac: RbacConfig[];
  transportProtocol?: string;
  /** ALPN protocols of the ClientHello (read by the tls_inspector), any of which selects the chain. */
  applicationProtocols: string[];
  tls?: TlsConfig;
  network: NetworkFilter;
}

type NetworkFilter = { kind: 'http'; hcm: HcmConfig } | { kind: 'tcp'; tcp: TcpProxyConfig };

export interface TcpProxyConfig {
  statPrefix: string;
  clusters: { name: string; weight: number }[];
  idleTimeoutMs: number;
  /** max_downstream_connection_duration; 0: unlimited. */
  maxDurationMs: number;
  accessLogs: AccessLogConfig[];
}

export function listener(
  l: Obj,
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  index: number,
  filters: ReadonlyMap<string, HttpFilterConverter>,
): ListenerConfig {
  const bufferLimit = bufferLimitBytes(l.per_connection_buffer_limit_bytes);
  const chains = ((l.filter_chains ?? []) as Obj[]).map((c, i) =>
    filterChain(c, `${p}/filter_chains/${i}`, clusterNames, errors, filters, bufferLimit),
  );
  if (!chains.length) errors.push({ path: `${p}/filter_chains`, message: 'a listener needs a filter chain' });
  const lf = ((l.listener_filters ?? []) as Obj[]).map((f) => String(f.typed_config?.['@type'] ?? ''));
  const tlsInspector = lf.includes('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector');
  const originalDst = lf.includes('envoy.extensions.filters.listener.original_dst.v3.OriginalDst');
  const byPort = new Map<number | undefined, ChainConfig[]>();
  for (const c of chains) byPort.set(c.destinationPort, [...(byPort.get(c.destinationPort) ?? []), c]);
  const mixed = [...byPort.values()].some((cs) => {
    const n = cs.filter((c) => c.tls).length;
    // plaintext and TLS chains side by side need transport_protocol on each (tls_inspector)
    return n && n !== cs.length && !(tlsInspector && cs.every((c) => c.transportProtocol));
  });
  if (mixed)
    errors.push({
      path: `${p}/filter_chains`,
      message:
        'mixing TLS and plaintext filter chains on one listener needs the tls_inspector listener filter and transport_protocol on each chain',
    });
  const seen = new Set<string>();
  chains.forEach((c, i) => {
    const k = `${c.destinationPort ?? ''}|${c.serverNames.join(',')}|${c.transportProtocol ?? ''}|${c.applicationProtocols.join(',')}`;
    if (seen.has(k))
      errors.push({
        path: `${p}/filter_chains/${i}`,
        message: 'multiple filter chains with the same matching rules',
      });
    seen.add(k);
  });
  return {
    name: String(l.name ?? `listener_${index}`),
    address: sockAddr(l.address, `${p}/address`, errors),
    chains,
    originalDst,
    tlsInspector,
  };
}

function filterChain(
  c: Obj,
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  httpFilters: ReadonlyMap<string, HttpFilterConverter>,
  bufferLimit: number,
): ChainConfig {
  const all = (c.filters ?? []) as Obj[];
  const fp = `${p}/filters`;
  const NET_RBAC = 'envoy.extensions.filters.network.rbac.v3.RBAC';
  const rbac: RbacConfig[] = [];
  let at = 0;
  for (; at < all.length - 1 && all[at]?.typed_config?.['@type'] === NET_RBAC; at++)
    if (all[at]!.typed_config.rules)
      rbac.push(rbacConfig(all[at]!.typed_config.rules, `${fp}/${at}/typed_config/rules`));
  const filters = all.slice(at);
  if (filters.length !== 1)
    errors.push({
      path: fp,
      message:
        'meshgen proxy implements network rbac filters followed by exactly one terminal filter per chain (http_connection_manager or tcp_proxy)',
    });
  const f = filters[0] ?? {};
  const fi = at;
  const t = f.typed_config?.['@type'] as string | undefined;
  let network: NetworkFilter;
  if (t === 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager')
    network = {
      kind: 'http',
      hcm: hcm(f.typed_config, `${fp}/${fi}/typed_config`, clusterNames, errors, httpFilters, bufferLimit),
    };
  else if (t === 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy')
    network = { kind: 'tcp', tcp: tcpProxy(f.typed_config as Obj, fp, fi, clusterNames, errors) };
  else {
    errors.push({ path: `${fp}/0`, message: 'a network filter needs a typed_config' });
    network = {
      kind: 'tcp',
      tcp: { statPrefix: '', clusters: [], idleTimeoutMs: 0, maxDurationMs: 0, accessLogs: [] },
    };
  }
  const m = (c.filter_chain_match ?? {}) as Obj;
  const tls = c.transport_socket
    ? tlsContext(c.transport_socket, `${p}/transport_socket`, errors, true)
    : undefined;
  return {
    serverNames: ((m.server_names ?? []) as string[]).map((x) => x.toLowerCase()),
    destinationPort: m.destination_port === undefined ? undefined : Number(m.destination_port),
    rbac,
    transportProtocol: m.transport_protocol,
    applicationProtocols: ((m.application_protocols ?? []) as string[]).map(String),
    tls,
    network,
  };
}

function tcpProxy(
  tc: Obj,
  fp: string,
  fi: number,
  clusterNames: Set<string>,
  errors: PathError[],
): TcpProxyConfig {
  const clusters = tc.cluster
    ? [{ name: String(tc.cluster), weight: 1 }]
    : ((tc.weighted_clusters?.clusters ?? []) as Obj[]).map((c) => ({
        name: String(c.name),
        weight: Number(c.weight ?? 0),
      }));
  clusters.forEach((c) => {
    if (!clusterNames.has(c.name))
      errors.push({ path: `${fp}/0/typed_config`, message: `unknown cluster ${c.name}` });
  });
  if (!clusters.length)
    errors.push({ path: `${fp}/0/typed_config`, message: 'tcp_proxy needs cluster or weighted_clusters' });
  return {
    statPrefix: String(tc.stat_prefix),
    clusters,
    idleTimeoutMs: durationMs(tc.idle_timeout, 3_600_000),
    maxDurationMs: durationMs(tc.max_downstream_connection_duration, 0),
    accessLogs: accessLogs(tc.access_log, `${fp}/${fi}/typed_config/access_log`, errors),
  };
}
