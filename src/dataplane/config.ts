import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type YAMLModule from 'yaml';
import { checkEnvoy } from '../envoy/check.js';
import { mergeCors, type CorsPolicy, type CorsPolicyConfig } from './cors.js';
import { outlierConfig, type OutlierConfig } from './outlier.js';
import { regexRewrite, safeRegex, type Regex } from './regex.js';
import { supportedWalk, type PathError } from './supported.js';

// yaml is loaded when a bootstrap is first parsed: importing it would cost every meshgen command about 40 ms
const require = createRequire(import.meta.url);
let yaml: typeof YAMLModule | undefined;

/** The proxy's own typed configuration, converted from an Envoy v3 bootstrap. */
export interface ProxyConfig {
  node: { id: string; cluster: string };
  admin?: { address: SockAddr; accessLogPath?: string };
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  /** The bootstrap as read (for /config_dump). */
  raw: unknown;
}

export interface SockAddr {
  host: string;
  port: number;
}

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

export interface SanMatcher {
  type: 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS';
  test: StrMatch;
}

/** Downstream or upstream TLS: PEM material read at load time. */
export interface TlsConfig {
  cert?: string;
  key?: string;
  ca?: string;
  requireClientCert: boolean;
  sans: SanMatcher[];
  alpn: string[];
  sni?: string;
}

type NetworkFilter = { kind: 'http'; hcm: HcmConfig } | { kind: 'tcp'; tcp: TcpProxyConfig };

interface AccessLogConfig {
  /** A file path, or '/dev/stdout' / '/dev/stderr'. */
  path: string;
}

export interface HcmConfig {
  statPrefix: string;
  routes: RouteTable;
  /** fault and rbac filters, in configured order (the router is last). */
  filters: ({ kind: 'fault'; fault: FaultConfig } | { kind: 'rbac'; rbac: RbacConfig } | { kind: 'cors' })[];
  accessLogs: AccessLogConfig[];
  useRemoteAddress: boolean;
  generateRequestId: boolean;
  /** preserve_external_request_id: an edge request keeps the client's x-request-id (http/edge.ts). */
  preserveExternalRequestId: boolean;
  /** strip_any_host_port: the port is removed from the Host header before domain matching. */
  stripAnyHostPort: boolean;
  /** codec_type: AUTO tells HTTP/2 by ALPN h2 or the connection preface. */
  codec: 'AUTO' | 'HTTP1' | 'HTTP2';
  http2: Http2Settings;
  /** upgrade_configs: upgrade type (lower case) to enabled. */
  upgrades: Map<string, boolean>;
}

/** The Http2ProtocolOptions the proxy honours (unset: Envoy's defaults). */
interface Http2Settings {
  maxConcurrentStreams: number;
  initialStreamWindowSize: number;
  initialConnectionWindowSize: number;
  hpackTableSize: number;
}

/** Envoy's defaults for Http2ProtocolOptions. */
function http2Settings(o: Obj | undefined): Http2Settings {
  return {
    hpackTableSize: Number(o?.hpack_table_size ?? 4096),
    maxConcurrentStreams: Number(o?.max_concurrent_streams ?? 2147483647),
    initialStreamWindowSize: Number(o?.initial_stream_window_size ?? 268435456),
    initialConnectionWindowSize: Number(o?.initial_connection_window_size ?? 268435456),
  };
}

interface FaultConfig {
  delay?: { ms: number; percent: number };
  abort?: { status: number; percent: number };
}

export interface RbacConfig {
  action: 'ALLOW' | 'DENY';
  policies: { name: string; permissions: Permission[]; principals: Principal[] }[];
}

export type Permission =
  | { any: true }
  | { header: HeaderMatch }
  | { urlPath: StrMatch }
  | { and: Permission[] }
  | { or: Permission[] }
  | { not: Permission };
export type Principal =
  | { any: true }
  | { authenticated: StrMatch | null }
  | { header: HeaderMatch }
  | { and: Principal[] }
  | { or: Principal[] }
  | { not: Principal };

export interface TcpProxyConfig {
  statPrefix: string;
  clusters: { name: string; weight: number }[];
  idleTimeoutMs: number;
  /** max_downstream_connection_duration; 0: unlimited. */
  maxDurationMs: number;
  accessLogs: AccessLogConfig[];
}

/** A string matcher compiled to a predicate. */
export type StrMatch = (s: string) => boolean;

export interface HeaderMatch {
  name: string;
  /** undefined: present_match. */
  test?: StrMatch;
  present?: boolean;
  invert: boolean;
}

export interface HeaderOps {
  add: {
    key: string;
    value: string;
    action:
      'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
  }[];
  remove: string[];
}

export interface RouteTable {
  name: string;
  vhosts: VirtualHostConfig[];
  request: HeaderOps;
  response: HeaderOps;
}

export interface VirtualHostConfig {
  name: string;
  domains: string[];
  routes: RouteConfig[];
  request: HeaderOps;
  response: HeaderOps;
  retry?: RetryConfig;
}

export interface RouteConfig {
  name: string;
  match: {
    kind: 'prefix' | 'path' | 'regex';
    value: string;
    regex?: Regex;
    caseSensitive: boolean;
    headers: HeaderMatch[];
    query: { name: string; test?: StrMatch }[];
  };
  action: RouteActionConfig;
  request: HeaderOps;
  response: HeaderOps;
  /** typed_per_filter_config["envoy.filters.http.fault"]: replaces the fault filter's config. */
  fault?: FaultConfig;
  /** The CORS policy of the route (route and virtual host merged, cors.ts), if any. */
  cors?: CorsPolicy;
}

type RouteActionConfig =
  | {
      kind: 'route';
      clusters: { name: string; weight: number }[];
      totalWeight: number;
      prefixRewrite?: string;
      /** regex_rewrite: the path (without its query) rewritten. */
      regexRewrite?: (path: string) => string;
      hostRewrite?: string;
      timeoutMs: number;
      retry?: RetryConfig;
      mirrors: { cluster: string; fraction: number }[];
      hash: { kind: 'header' | 'cookie' | 'source_ip'; name: string; terminal: boolean }[];
      /** RouteAction.upgrade_configs: upgrade type (lower case) to enabled. */
      upgrades?: Map<string, boolean>;
    }
  | { kind: 'direct'; status: number; body?: string }
  | {
      kind: 'redirect';
      status: number;
      host?: string;
      port?: number;
      path?: string;
      prefixRewrite?: string;
      scheme?: string;
      stripQuery: boolean;
    };

export interface RetryConfig {
  on: Set<string>;
  numRetries: number;
  perTryTimeoutMs: number;
  statusCodes: Set<number>;
  baseIntervalMs: number;
  maxIntervalMs: number;
  /** grpc-status values retried (retry_on cancelled, deadline-exceeded, …); undefined: none. */
  grpcStatuses?: Set<number>;
}

export interface ClusterConfig {
  name: string;
  type: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';
  connectTimeoutMs: number;
  lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH';
  endpoints: { address: SockAddr; weight: number }[];
  dnsFamily: 0 | 4 | 6;
  tls?: TlsConfig;
  /**
   * The upstream protocol: typed_extension_protocol_options HttpProtocolOptions (explicit
   * HTTP/2, or the downstream's protocol), or the deprecated http2_protocol_options.
   */
  http2?: { settings: Http2Settings; downstreamOnly: boolean };
  circuit: { maxConnections: number; maxPending: number; maxRequests: number; maxRetries: number };
  outlier?: OutlierConfig;
  health?: {
    timeoutMs: number;
    intervalMs: number;
    unhealthyThreshold: number;
    healthyThreshold: number;
    http?: { path: string; host?: string };
  };
}

export interface ConfigResult {
  config?: ProxyConfig;
  errors: PathError[];
  warnings: string[];
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Parses "1.5s" (a proto Duration) to milliseconds. */
function durationMs(d: unknown, dflt: number): number {
  if (typeof d !== 'string') return dflt;
  return Math.round(parseFloat(d.slice(0, -1)) * 1000);
}

const DENOM: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };
function fraction(fp: Obj | undefined, dflt = 1): number {
  if (!fp) return dflt;
  return Number(fp.numerator ?? 0) / (DENOM[fp.denominator ?? 'HUNDRED'] ?? 100);
}

/** Reads a bootstrap file (YAML or JSON) and converts it; errors are data. */
export async function loadBootstrap(file: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    return { errors: [{ path: '/', message: `cannot read ${file}: ${(e as Error).message}` }], warnings: [] };
  }
  return parseBootstrap(text, file);
}

export function parseBootstrap(text: string, file = '<input>'): ConfigResult {
  let obj: unknown;
  try {
    const doc = (yaml ??= require('yaml') as typeof YAMLModule).parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length)
      return {
        errors: doc.errors.map((e) => ({ path: '/', message: `${file}: ${e.message}` })),
        warnings: [],
      };
    obj = doc.toJS();
  } catch (e) {
    return { errors: [{ path: '/', message: `${file}: ${(e as Error).message}` }], warnings: [] };
  }
  return convertBootstrap(obj);
}

export function convertBootstrap(obj: unknown): ConfigResult {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return { errors: [{ path: '/', message: 'a bootstrap must be a mapping' }], warnings: [] };
  const checked = checkEnvoy(obj);
  const split = (s: string): PathError => {
    const i = s.indexOf(': ');
    return { path: s.slice(0, i), message: s.slice(i + 2) };
  };
  if (!checked.ok) return { errors: checked.errors.map(split), warnings: checked.warnings };
  const walked = supportedWalk(obj);
  if (walked.errors.length) return { errors: walked.errors, warnings: checked.warnings };
  const errors: PathError[] = [];
  const config = convert(walked.value as Obj, obj, errors);
  return errors.length
    ? { errors, warnings: checked.warnings }
    : { config, errors, warnings: checked.warnings };
}

function sockAddr(a: Obj | undefined, p: string, errors: PathError[]): SockAddr {
  const s = a?.socket_address as Obj | undefined;
  if (!s) {
    errors.push({ path: p, message: 'a socket_address is required' });
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: String(s.address ?? ''), port: Number(s.port_value ?? 0) };
}

function convert(b: Obj, raw: unknown, errors: PathError[]): ProxyConfig {
  const sr = (b.static_resources ?? {}) as Obj;
  const clusters: ClusterConfig[] = ((sr.clusters ?? []) as Obj[]).map((c, i) =>
    cluster(c, `/static_resources/clusters/${i}`, errors),
  );
  const names = new Set<string>();
  clusters.forEach((c, i) => {
    if (names.has(c.name))
      errors.push({
        path: `/static_resources/clusters/${i}/name`,
        message: `duplicate cluster name ${c.name}`,
      });
    names.add(c.name);
  });
  const listeners: ListenerConfig[] = ((sr.listeners ?? []) as Obj[]).map((l, i) =>
    listener(l, `/static_resources/listeners/${i}`, names, errors, i),
  );
  const admin = b.admin?.address
    ? {
        address: sockAddr(b.admin.address, '/admin/address', errors),
        accessLogPath: b.admin.access_log_path as string | undefined,
      }
    : undefined;
  return {
    node: { id: String(b.node?.id ?? ''), cluster: String(b.node?.cluster ?? '') },
    admin,
    listeners,
    clusters,
    raw,
  };
}

function cluster(c: Obj, p: string, errors: PathError[]): ClusterConfig {
  const endpoints: ClusterConfig['endpoints'] = [];
  ((c.load_assignment?.endpoints ?? []) as Obj[]).forEach((le, i) =>
    ((le.lb_endpoints ?? []) as Obj[]).forEach((e, j) => {
      endpoints.push({
        address: sockAddr(
          e.endpoint?.address,
          `${p}/load_assignment/endpoints/${i}/lb_endpoints/${j}/endpoint/address`,
          errors,
        ),
        weight: Number(e.load_balancing_weight ?? 1),
      });
    }),
  );
  const type = (c.type ?? 'STATIC') as ClusterConfig['type'];
  if (type === 'LOGICAL_DNS' && endpoints.length !== 1)
    errors.push({
      path: `${p}/load_assignment`,
      message: 'LOGICAL_DNS clusters must have a single endpoint (as in Envoy)',
    });
  if (type === 'STATIC')
    endpoints.forEach((e, i) => {
      if (!/^[\d.]+$|:/.test(e.address.host))
        errors.push({
          path: `${p}/load_assignment/endpoints/${i}`,
          message: `STATIC cluster endpoint ${e.address.host} is not an IP address`,
        });
    });
  const th =
    ((c.circuit_breakers?.thresholds ?? []) as Obj[]).find((t) => (t.priority ?? 'DEFAULT') === 'DEFAULT') ??
    {};
  const od = c.outlier_detection as Obj | undefined;
  const hcs = (c.health_checks ?? []) as Obj[];
  if (hcs.length > 1)
    errors.push({
      path: `${p}/health_checks/1`,
      message: 'only one health check per cluster is implemented by meshgen proxy',
    });
  const hc = hcs[0];
  if (hc && !hc.http_health_check && !hc.tcp_health_check)
    errors.push({
      path: `${p}/health_checks/0`,
      message: 'a health check needs http_health_check or tcp_health_check',
    });
  const fam = c.dns_lookup_family;
  let http2: ClusterConfig['http2'];
  if (c.http2_protocol_options)
    http2 = { settings: http2Settings(c.http2_protocol_options), downstreamOnly: false };
  for (const [k, v] of Object.entries((c.typed_extension_protocol_options ?? {}) as Record<string, Obj>)) {
    const HPO = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
    if (k !== HPO || v?.['@type'] !== HPO) {
      // Envoy looks the options up by this key: under another one they would not apply
      errors.push({
        path: `${p}/typed_extension_protocol_options/${k}`,
        message: `meshgen proxy implements only ${HPO} here, under the key ${HPO}`,
      });
      continue;
    }
    const pick = (v.explicit_http_config ?? v.use_downstream_protocol_config) as Obj | undefined;
    if (!pick) {
      errors.push({
        path: `${p}/typed_extension_protocol_options/${k}`,
        message: 'HttpProtocolOptions needs explicit_http_config or use_downstream_protocol_config',
      });
      continue;
    }
    if (v.use_downstream_protocol_config)
      http2 = { settings: http2Settings(pick.http2_protocol_options), downstreamOnly: true };
    else if (pick.http2_protocol_options)
      http2 = { settings: http2Settings(pick.http2_protocol_options), downstreamOnly: false };
    else http2 = undefined;
  }
  return {
    name: String(c.name),
    type,
    connectTimeoutMs: durationMs(c.connect_timeout, 5000),
    lbPolicy: (c.lb_policy ?? 'ROUND_ROBIN') as ClusterConfig['lbPolicy'],
    endpoints,
    tls: c.transport_socket
      ? tlsContext(c.transport_socket, `${p}/transport_socket`, errors, false)
      : undefined,
    dnsFamily: fam === 'V4_ONLY' ? 4 : fam === 'V6_ONLY' ? 6 : 0,
    http2,
    circuit: {
      maxConnections: Number(th.max_connections ?? 1024),
      maxPending: Number(th.max_pending_requests ?? 1024),
      maxRequests: Number(th.max_requests ?? 1024),
      maxRetries: Number(th.max_retries ?? 3),
    },
    outlier: od ? outlierConfig(od) : undefined,
    health: hc
      ? {
          timeoutMs: durationMs(hc.timeout, 1000),
          intervalMs: durationMs(hc.interval, 1000),
          unhealthyThreshold: Number(hc.unhealthy_threshold ?? 1),
          healthyThreshold: Number(hc.healthy_threshold ?? 1),
          http: hc.http_health_check
            ? { path: String(hc.http_health_check.path), host: hc.http_health_check.host }
            : undefined,
        }
      : undefined,
  };
}

function accessLogs(list: Obj[] | undefined, p: string, errors: PathError[]): AccessLogConfig[] {
  return (list ?? []).map((a, i) => {
    const t = a.typed_config?.['@type'] as string | undefined;
    if (t === 'envoy.extensions.access_loggers.file.v3.FileAccessLog')
      return { path: String(a.typed_config.path) };
    if (t === 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog') return { path: '/dev/stdout' };
    if (t === 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog') return { path: '/dev/stderr' };
    errors.push({ path: `${p}/${i}`, message: 'an access log needs a typed_config' });
    return { path: '/dev/null' };
  });
}

function listener(
  l: Obj,
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  index: number,
): ListenerConfig {
  const chains = ((l.filter_chains ?? []) as Obj[]).map((c, i) =>
    filterChain(c, `${p}/filter_chains/${i}`, clusterNames, errors),
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

function filterChain(c: Obj, p: string, clusterNames: Set<string>, errors: PathError[]): ChainConfig {
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
    network = { kind: 'http', hcm: hcm(f.typed_config, `${fp}/${fi}/typed_config`, clusterNames, errors) };
  else if (t === 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy') {
    const tc = f.typed_config as Obj;
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
    network = {
      kind: 'tcp',
      tcp: {
        statPrefix: String(tc.stat_prefix),
        clusters,
        idleTimeoutMs: durationMs(tc.idle_timeout, 3_600_000),
        maxDurationMs: durationMs(tc.max_downstream_connection_duration, 0),
        accessLogs: accessLogs(tc.access_log, `${fp}/${fi}/typed_config/access_log`, errors),
      },
    };
  } else {
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

function hcm(h: Obj, p: string, clusterNames: Set<string>, errors: PathError[]): HcmConfig {
  if (!h.route_config)
    errors.push({
      path: `${p}/route_config`,
      message: 'meshgen proxy needs an inline route_config (rds is not implemented)',
    });
  const filters = (h.http_filters ?? []) as Obj[];
  const out: HcmConfig['filters'] = [];
  filters.forEach((f, i) => {
    const t = f.typed_config?.['@type'] as string | undefined;
    const tc = (f.typed_config ?? {}) as Obj;
    const last = i === filters.length - 1;
    if (t === 'envoy.extensions.filters.http.router.v3.Router') {
      if (!last)
        errors.push({ path: `${p}/http_filters/${i}`, message: 'the router must be the last HTTP filter' });
    } else if (t === 'envoy.extensions.filters.http.fault.v3.HTTPFault') {
      out.push({ kind: 'fault', fault: faultConfig(tc) });
    } else if (t === 'envoy.extensions.filters.http.cors.v3.Cors') {
      out.push({ kind: 'cors' });
    } else if (t === 'envoy.extensions.filters.http.rbac.v3.RBAC') {
      if (tc.rules)
        out.push({ kind: 'rbac', rbac: rbacConfig(tc.rules, `${p}/http_filters/${i}/typed_config/rules`) });
    } else errors.push({ path: `${p}/http_filters/${i}`, message: 'an HTTP filter needs a typed_config' });
  });
  const lastT = filters[filters.length - 1]?.typed_config?.['@type'];
  if (lastT !== 'envoy.extensions.filters.http.router.v3.Router')
    errors.push({
      path: `${p}/http_filters`,
      message: 'the last HTTP filter must be envoy.filters.http.router',
    });
  return {
    statPrefix: String(h.stat_prefix),
    routes: routeTable(h.route_config ?? {}, `${p}/route_config`, clusterNames, errors),
    filters: out,
    accessLogs: accessLogs(h.access_log, `${p}/access_log`, errors),
    useRemoteAddress: Boolean(h.use_remote_address),
    generateRequestId: h.generate_request_id === undefined ? true : Boolean(h.generate_request_id),
    preserveExternalRequestId: Boolean(h.preserve_external_request_id),
    stripAnyHostPort: Boolean(h.strip_any_host_port),
    codec: (h.codec_type ?? 'AUTO') as HcmConfig['codec'],
    http2: http2Settings(h.http2_protocol_options),
    upgrades: upgradeConfigs(h.upgrade_configs, `${p}/upgrade_configs`, errors) ?? new Map(),
  };
}

/** upgrade_configs (HCM or route): HTTP/1.1 Upgrade tokens to enabled; CONNECT and h2c are refused. */
function upgradeConfigs(
  list: Obj[] | undefined,
  p: string,
  errors: PathError[],
): Map<string, boolean> | undefined {
  if (!list) return undefined;
  const out = new Map<string, boolean>();
  list.forEach((u, i) => {
    const t = String(u.upgrade_type ?? '').toLowerCase();
    if (t === 'connect' || t === 'h2c')
      errors.push({
        path: `${p}/${i}/upgrade_type`,
        message: `upgrade_type ${u.upgrade_type} is not implemented by meshgen proxy (HTTP/1.1 Upgrade such as websocket is)`,
      });
    out.set(t, u.enabled === undefined ? true : Boolean(u.enabled));
  });
  return out;
}

function faultConfig(tc: Obj): FaultConfig {
  return {
    delay: tc.delay
      ? { ms: durationMs(tc.delay.fixed_delay, 0), percent: fraction(tc.delay.percentage) }
      : undefined,
    abort: tc.abort
      ? { status: Number(tc.abort.http_status ?? 503), percent: fraction(tc.abort.percentage) }
      : undefined,
  };
}

function stringMatcher(m: Obj, p: string, errors: PathError[]): StrMatch {
  const ic = Boolean(m.ignore_case);
  const norm = ic ? (s: string) => s.toLowerCase() : (s: string) => s;
  if (m.exact !== undefined) {
    const v = norm(String(m.exact));
    return (s) => norm(s) === v;
  }
  if (m.prefix !== undefined) {
    const v = norm(String(m.prefix));
    return (s) => norm(s).startsWith(v);
  }
  if (m.suffix !== undefined) {
    const v = norm(String(m.suffix));
    return (s) => norm(s).endsWith(v);
  }
  if (m.contains !== undefined) {
    const v = norm(String(m.contains));
    return (s) => norm(s).includes(v);
  }
  if (m.safe_regex) {
    const re = safeRegex(m.safe_regex.regex, `${p}/safe_regex/regex`, errors);
    return (s) => re.test(s);
  }
  errors.push({ path: p, message: 'a string matcher needs exact, prefix, suffix, contains or safe_regex' });
  return () => false;
}

function headerMatcher(h: Obj, p: string, errors: PathError[]): HeaderMatch {
  const name = String(h.name).toLowerCase();
  const invert = Boolean(h.invert_match);
  if (h.present_match !== undefined) return { name, present: Boolean(h.present_match), invert };
  if (h.exact_match !== undefined) return { name, test: (s) => s === h.exact_match, invert };
  if (h.prefix_match !== undefined) return { name, test: (s) => s.startsWith(h.prefix_match), invert };
  if (h.suffix_match !== undefined) return { name, test: (s) => s.endsWith(h.suffix_match), invert };
  if (h.contains_match !== undefined) return { name, test: (s) => s.includes(h.contains_match), invert };
  if (h.safe_regex_match) {
    const re = safeRegex(h.safe_regex_match.regex, `${p}/safe_regex_match/regex`, errors);
    return { name, test: (s) => re.test(s), invert };
  }
  if (h.string_match)
    return { name, test: stringMatcher(h.string_match, `${p}/string_match`, errors), invert };
  // no match specifier: Envoy treats the header as present_match
  return { name, present: true, invert };
}

function headerOps(o: Obj, p: string, errors: PathError[]): HeaderOps {
  const add = ((o.request_headers_to_add ?? o.response_headers_to_add ?? []) as Obj[]).map((hv, i) => {
    const key = String(hv.header?.key ?? '').toLowerCase();
    if (!key) errors.push({ path: `${p}/${i}/header/key`, message: 'header key is required' });
    let action = (hv.append_action ?? 'APPEND_IF_EXISTS_OR_ADD') as HeaderOps['add'][number]['action'];
    if (hv.append === false) action = 'OVERWRITE_IF_EXISTS_OR_ADD';
    return { key, value: String(hv.header?.value ?? ''), action };
  });
  const remove = ((o.request_headers_to_remove ?? o.response_headers_to_remove ?? []) as string[]).map((s) =>
    s.toLowerCase(),
  );
  return { add, remove };
}

function opsPair(o: Obj, p: string, errors: PathError[]): { request: HeaderOps; response: HeaderOps } {
  return {
    request: headerOps(
      {
        request_headers_to_add: o.request_headers_to_add,
        request_headers_to_remove: o.request_headers_to_remove,
      },
      `${p}/request_headers_to_add`,
      errors,
    ),
    response: headerOps(
      {
        response_headers_to_add: o.response_headers_to_add,
        response_headers_to_remove: o.response_headers_to_remove,
      },
      `${p}/response_headers_to_add`,
      errors,
    ),
  };
}

/** retry_on conditions on the grpc-status of a response's headers (Envoy's x-envoy-retry-grpc-on). */
const GRPC_RETRY_ON: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

function retryConfig(r: Obj): RetryConfig {
  const on = new Set(
    String(r.retry_on ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const grpc = [...on].filter((x) => x in GRPC_RETRY_ON).map((x) => GRPC_RETRY_ON[x]!);
  return {
    on,
    grpcStatuses: grpc.length ? new Set(grpc) : undefined,
    numRetries: r.num_retries === undefined ? 1 : Number(r.num_retries),
    perTryTimeoutMs: durationMs(r.per_try_timeout, 0),
    statusCodes: new Set(((r.retriable_status_codes ?? []) as number[]).map(Number)),
    baseIntervalMs: durationMs(r.retry_back_off?.base_interval, 25),
    maxIntervalMs: durationMs(
      r.retry_back_off?.max_interval,
      durationMs(r.retry_back_off?.base_interval, 25) * 10,
    ),
  };
}

function routeTable(rc: Obj, p: string, clusterNames: Set<string>, errors: PathError[]): RouteTable {
  const vhosts = ((rc.virtual_hosts ?? []) as Obj[]).map((vh, i) => {
    const vp = `${p}/virtual_hosts/${i}`;
    const vhRetry = vh.retry_policy ? retryConfig(vh.retry_policy) : undefined;
    const vhCors = corsOf(vh, vp, errors);
    for (const [fname, fc] of Object.entries((vh.typed_per_filter_config ?? {}) as Record<string, Obj>))
      if (fc?.['@type'] !== CORS_POLICY)
        errors.push({
          path: `${vp}/typed_per_filter_config/${fname}`,
          message:
            'meshgen proxy implements typed_per_filter_config on a virtual host only for CORS (CorsPolicy)',
        });
    const routes = ((vh.routes ?? []) as Obj[]).map((r, j) =>
      route(r, `${vp}/routes/${j}`, clusterNames, errors, vhRetry, vhCors),
    );
    return {
      name: String(vh.name),
      domains: ((vh.domains ?? []) as string[]).map((d) => d.toLowerCase()),
      routes,
      retry: vhRetry,
      ...opsPair(vh, vp, errors),
    };
  });
  const seen = new Map<string, number>();
  vhosts.forEach((vh, i) =>
    vh.domains.forEach((d) => {
      if (seen.has(d))
        errors.push({
          path: `${p}/virtual_hosts/${i}/domains`,
          message: `domain "${d}" is already in virtual host ${seen.get(d)}`,
        });
      seen.set(d, i);
    }),
  );
  return { name: String(rc.name ?? ''), vhosts, ...opsPair(rc, p, errors) };
}

function route(
  r: Obj,
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  vhRetry?: RetryConfig,
  vhCors?: { typed?: CorsPolicyConfig; legacy?: CorsPolicyConfig },
): RouteConfig {
  const m = (r.match ?? {}) as Obj;
  const caseSensitive = m.case_sensitive === undefined ? true : Boolean(m.case_sensitive);
  let match: RouteConfig['match'];
  const headers = ((m.headers ?? []) as Obj[]).map((h, i) =>
    headerMatcher(h, `${p}/match/headers/${i}`, errors),
  );
  const query = ((m.query_parameters ?? []) as Obj[]).map((q, i) => ({
    name: String(q.name),
    test: q.string_match
      ? stringMatcher(q.string_match, `${p}/match/query_parameters/${i}/string_match`, errors)
      : undefined,
  }));
  if (m.prefix !== undefined)
    match = {
      kind: 'prefix',
      value: caseSensitive ? m.prefix : m.prefix.toLowerCase(),
      caseSensitive,
      headers,
      query,
    };
  else if (m.path !== undefined)
    match = {
      kind: 'path',
      value: caseSensitive ? m.path : m.path.toLowerCase(),
      caseSensitive,
      headers,
      query,
    };
  else if (m.safe_regex)
    match = {
      kind: 'regex',
      value: String(m.safe_regex.regex),
      // as Envoy: case_sensitive is ignored for safe_regex
      regex: safeRegex(m.safe_regex.regex, `${p}/match/safe_regex/regex`, errors),
      caseSensitive,
      headers,
      query,
    };
  else {
    errors.push({ path: `${p}/match`, message: 'a route match needs prefix, path or safe_regex' });
    match = { kind: 'prefix', value: '/', caseSensitive, headers, query };
  }
  let action: RouteActionConfig;
  if (r.route) {
    const ra = r.route as Obj;
    const clusters: { name: string; weight: number }[] = ra.cluster
      ? [{ name: String(ra.cluster), weight: 1 }]
      : ((ra.weighted_clusters?.clusters ?? []) as Obj[]).map((c) => ({
          name: String(c.name),
          weight: Number(c.weight ?? 0),
        }));
    const total = clusters.reduce((a, c) => a + c.weight, 0);
    if (
      ra.weighted_clusters?.total_weight !== undefined &&
      Number(ra.weighted_clusters.total_weight) !== total
    )
      errors.push({
        path: `${p}/route/weighted_clusters/total_weight`,
        message: `total_weight ${ra.weighted_clusters.total_weight} differs from the sum of weights ${total}`,
      });
    if (!clusters.length)
      errors.push({ path: `${p}/route`, message: 'a route action needs cluster or weighted_clusters' });
    else if (total <= 0)
      errors.push({ path: `${p}/route/weighted_clusters`, message: 'weights must sum to more than 0' });
    for (const c of clusters)
      if (!clusterNames.has(c.name))
        errors.push({ path: `${p}/route`, message: `route: unknown cluster '${c.name}'` });
    const mirrors = ((ra.request_mirror_policies ?? []) as Obj[]).map((mp, i) => {
      if (!clusterNames.has(mp.cluster))
        errors.push({
          path: `${p}/route/request_mirror_policies/${i}/cluster`,
          message: `unknown cluster '${mp.cluster}'`,
        });
      return {
        cluster: String(mp.cluster),
        fraction: mp.runtime_fraction ? fraction(mp.runtime_fraction.default_value, 0) : 1,
      };
    });
    if (ra.prefix_rewrite !== undefined && match.kind !== 'prefix')
      errors.push({ path: `${p}/route/prefix_rewrite`, message: 'prefix_rewrite needs a prefix match' });
    action = {
      kind: 'route',
      clusters,
      totalWeight: total,
      prefixRewrite: ra.prefix_rewrite,
      regexRewrite: ra.regex_rewrite
        ? regexRewrite(ra.regex_rewrite, `${p}/route/regex_rewrite`, errors)
        : undefined,
      hostRewrite: ra.host_rewrite_literal,
      timeoutMs: durationMs(ra.timeout, 15_000),
      retry: ra.retry_policy ? retryConfig(ra.retry_policy) : vhRetry,
      mirrors,
      hash: ((ra.hash_policy ?? []) as Obj[]).map((h) => ({
        kind: h.header ? 'header' : h.cookie ? 'cookie' : 'source_ip',
        name: h.header ? String(h.header.header_name).toLowerCase() : h.cookie ? String(h.cookie.name) : '',
        terminal: Boolean(h.terminal),
      })),
      upgrades: upgradeConfigs(ra.upgrade_configs, `${p}/route/upgrade_configs`, errors),
    };
  } else if (r.direct_response) {
    action = {
      kind: 'direct',
      status: Number(r.direct_response.status),
      body:
        r.direct_response.body?.inline_string ??
        (r.direct_response.body?.inline_bytes
          ? Buffer.from(r.direct_response.body.inline_bytes, 'base64').toString()
          : undefined),
    };
  } else if (r.redirect) {
    const rd = r.redirect as Obj;
    const codes: Record<string, number> = {
      MOVED_PERMANENTLY: 301,
      FOUND: 302,
      SEE_OTHER: 303,
      TEMPORARY_REDIRECT: 307,
      PERMANENT_REDIRECT: 308,
    };
    action = {
      kind: 'redirect',
      status: codes[rd.response_code ?? 'MOVED_PERMANENTLY'] ?? 301,
      host: rd.host_redirect,
      port: rd.port_redirect,
      path: rd.path_redirect,
      prefixRewrite: rd.prefix_rewrite,
      scheme: rd.https_redirect ? 'https' : rd.scheme_redirect,
      stripQuery: Boolean(rd.strip_query),
    };
  } else {
    errors.push({ path: p, message: 'a route needs route, redirect or direct_response' });
    action = { kind: 'direct', status: 500 };
  }
  let fault: FaultConfig | undefined;
  for (const [fname, fc] of Object.entries((r.typed_per_filter_config ?? {}) as Record<string, Obj>)) {
    if (fc?.['@type'] === 'envoy.extensions.filters.http.fault.v3.HTTPFault') fault = faultConfig(fc);
    else if (fc?.['@type'] !== CORS_POLICY)
      errors.push({
        path: `${p}/typed_per_filter_config/${fname}`,
        message:
          'meshgen proxy implements typed_per_filter_config only for the fault filter (HTTPFault) and CORS (CorsPolicy)',
      });
  }
  // as Envoy: the per-filter policies (route, then virtual host); the deprecated cors fields only without them
  const own = corsOf(r, p, errors, r.route?.cors as Obj | undefined, `${p}/route/cors`);
  const typed = [own.typed, vhCors?.typed].filter((x): x is CorsPolicyConfig => !!x);
  const legacy = [own.legacy, vhCors?.legacy].filter((x): x is CorsPolicyConfig => !!x);
  const cors = action.kind === 'route' ? mergeCors(typed.length ? typed : legacy) : undefined;
  return { name: String(r.name ?? ''), match, action, ...opsPair(r, p, errors), fault, cors };
}

const CORS_POLICY = 'envoy.extensions.filters.http.cors.v3.CorsPolicy';

/** A route's or virtual host's CORS policy: typed_per_filter_config, and the deprecated `cors` field. */
function corsOf(
  o: Obj,
  p: string,
  errors: PathError[],
  legacy: Obj | undefined = o.cors,
  legacyPath = `${p}/cors`,
): { typed?: CorsPolicyConfig; legacy?: CorsPolicyConfig } {
  let typed: CorsPolicyConfig | undefined;
  for (const [fname, fc] of Object.entries((o.typed_per_filter_config ?? {}) as Record<string, Obj>))
    if (fc?.['@type'] === CORS_POLICY)
      typed = corsPolicy(fc, `${p}/typed_per_filter_config/${fname}`, errors);
  return { typed, legacy: legacy ? corsPolicy(legacy, legacyPath, errors) : undefined };
}

function corsPolicy(c: Obj, p: string, errors: PathError[]): CorsPolicyConfig {
  const nonEmpty = (v: unknown) => (v === undefined || v === '' ? undefined : String(v));
  return {
    origins: c.allow_origin_string_match
      ? (c.allow_origin_string_match as Obj[]).map((m, i) =>
          stringMatcher(m, `${p}/allow_origin_string_match/${i}`, errors),
        )
      : undefined,
    allowMethods: nonEmpty(c.allow_methods),
    allowHeaders: nonEmpty(c.allow_headers),
    exposeHeaders: nonEmpty(c.expose_headers),
    maxAge: nonEmpty(c.max_age),
    allowCredentials: c.allow_credentials === undefined ? undefined : Boolean(c.allow_credentials),
    forwardNotMatchingPreflights:
      c.forward_not_matching_preflights === undefined
        ? undefined
        : Boolean(c.forward_not_matching_preflights),
    enabled: c.filter_enabled ? fraction(c.filter_enabled.default_value, 0) : undefined,
    shadow: c.shadow_enabled ? fraction(c.shadow_enabled.default_value, 0) : undefined,
  };
}

function rbacConfig(r: Obj, p: string): RbacConfig {
  const errors: PathError[] = [];
  const perm = (x: Obj, pp: string): Permission => {
    if (x.any) return { any: true };
    if (x.header) return { header: headerMatcher(x.header, `${pp}/header`, errors) };
    if (x.url_path) return { urlPath: stringMatcher(x.url_path.path ?? {}, `${pp}/url_path/path`, errors) };
    if (x.and_rules)
      return {
        and: (x.and_rules.rules ?? []).map((y: Obj, i: number) => perm(y, `${pp}/and_rules/rules/${i}`)),
      };
    if (x.or_rules)
      return {
        or: (x.or_rules.rules ?? []).map((y: Obj, i: number) => perm(y, `${pp}/or_rules/rules/${i}`)),
      };
    if (x.not_rule) return { not: perm(x.not_rule, `${pp}/not_rule`) };
    return { any: true };
  };
  const princ = (x: Obj, pp: string): Principal => {
    if (x.any) return { any: true };
    if (x.authenticated)
      return {
        authenticated: x.authenticated.principal_name
          ? stringMatcher(x.authenticated.principal_name, pp, errors)
          : null,
      };
    if (x.header) return { header: headerMatcher(x.header, `${pp}/header`, errors) };
    if (x.and_ids)
      return { and: (x.and_ids.ids ?? []).map((y: Obj, i: number) => princ(y, `${pp}/and_ids/ids/${i}`)) };
    if (x.or_ids)
      return { or: (x.or_ids.ids ?? []).map((y: Obj, i: number) => princ(y, `${pp}/or_ids/ids/${i}`)) };
    if (x.not_id) return { not: princ(x.not_id, `${pp}/not_id`) };
    return { any: true };
  };
  return {
    action: (r.action ?? 'ALLOW') as 'ALLOW' | 'DENY',
    policies: Object.entries((r.policies ?? {}) as Record<string, Obj>).map(([name, pol]) => ({
      name,
      permissions: ((pol.permissions ?? []) as Obj[]).map((x, i) =>
        perm(x, `${p}/policies/${name}/permissions/${i}`),
      ),
      principals: ((pol.principals ?? []) as Obj[]).map((x, i) =>
        princ(x, `${p}/policies/${name}/principals/${i}`),
      ),
    })),
  };
}

function dataSource(d: Obj | undefined, p: string, errors: PathError[]): string | undefined {
  if (!d) return undefined;
  if (d.inline_string !== undefined) return String(d.inline_string);
  if (d.inline_bytes !== undefined) return Buffer.from(String(d.inline_bytes), 'base64').toString();
  if (d.filename !== undefined) {
    try {
      return readFileSync(String(d.filename), 'utf8');
    } catch (e) {
      errors.push({ path: `${p}/filename`, message: `cannot read ${d.filename}: ${(e as Error).message}` });
    }
  }
  return undefined;
}

function tlsContext(ts: Obj, p: string, errors: PathError[], downstream: boolean): TlsConfig | undefined {
  const tc = ts.typed_config as Obj | undefined;
  const want = downstream
    ? 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext'
    : 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
  if (!tc || tc['@type'] !== want) {
    errors.push({
      path: `${p}/typed_config`,
      message: `a TLS transport socket needs a typed_config of ${want}`,
    });
    return undefined;
  }
  const cp = `${p}/typed_config/common_tls_context`;
  const common = (tc.common_tls_context ?? {}) as Obj;
  const certs = (common.tls_certificates ?? []) as Obj[];
  if (certs.length > 1)
    errors.push({
      path: `${cp}/tls_certificates`,
      message: 'one certificate per context is implemented by meshgen proxy',
    });
  const vc = common.validation_context as Obj | undefined;
  const sans = ((vc?.match_typed_subject_alt_names ?? []) as Obj[]).map((m, i) => ({
    type: String(m.san_type) as SanMatcher['type'],
    test: stringMatcher(
      m.matcher ?? {},
      `${cp}/validation_context/match_typed_subject_alt_names/${i}/matcher`,
      errors,
    ),
  }));
  const out: TlsConfig = {
    cert: dataSource(certs[0]?.certificate_chain, `${cp}/tls_certificates/0/certificate_chain`, errors),
    key: dataSource(certs[0]?.private_key, `${cp}/tls_certificates/0/private_key`, errors),
    ca: dataSource(vc?.trusted_ca, `${cp}/validation_context/trusted_ca`, errors),
    requireClientCert: Boolean(tc.require_client_certificate),
    sans,
    alpn: (common.alpn_protocols ?? []) as string[],
    sni: tc.sni,
  };
  if (downstream && (!out.cert || !out.key))
    errors.push({
      path: `${cp}/tls_certificates`,
      message: 'a downstream TLS context needs a certificate and key',
    });
  if (out.requireClientCert && !out.ca)
    errors.push({
      path: `${cp}/validation_context`,
      message: 'require_client_certificate needs a validation context with trusted_ca',
    });
  return out;
}
