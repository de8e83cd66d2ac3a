import { TYPE, typed, type Json } from './common.js';
import { FAULT_FILTER } from './routes.js';

const HCM = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';

const ROUTER = { name: 'envoy.filters.http.router', typed_config: typed(TYPE.router) };
/** Empty at the listener: faults come from each route's typed_per_filter_config only. */
const FAULT = { name: FAULT_FILTER, typed_config: typed(TYPE.fault) };

export interface HcmOptions {
  readonly statPrefix: string;
  readonly virtualHosts: Json[];
  readonly fault?: boolean;
  /** An RBAC filter, before the router. */
  readonly rbac?: Json;
  /** Edge settings: trust no x-envoy-* header from clients and match hosts without their port. */
  readonly edge?: boolean;
}

/**
 * The path RBAC, routing and the app all read (docs/envoy.md, "Paths"): RFC 3986 normalized, slashes
 * merged, and escaped slashes decoded with a redirect, so that `/refund/../admin`, `/refund/%2e%2e/admin`
 * and `/refund/..%2fadmin` are all `/admin` before an access rule for `/refund*` is checked. Istio's
 * strongest mode (DECODE_AND_MERGE_SLASHES) forwards the decoded path instead; the redirect makes the
 * client, Envoy and the app agree on it.
 */
const PATH_NORMALIZATION = {
  normalize_path: true,
  merge_slashes: true,
  path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
};

/** An HTTP connection manager with its routes inline: fault, RBAC, then the router. */
export function httpConnectionManager(o: HcmOptions): Json {
  const filters: Json[] = [];
  if (o.rbac) filters.push(o.rbac);
  if (o.fault) filters.push(FAULT);
  filters.push(ROUTER);
  return {
    name: HCM,
    typed_config: typed(TYPE.hcm, {
      stat_prefix: o.statPrefix,
      codec_type: 'AUTO',
      // external requests lose x-envoy-* headers (a client could otherwise ask for retries)
      use_remote_address: o.edge ? true : undefined,
      strip_any_host_port: o.edge ? true : undefined,
      ...PATH_NORMALIZATION,
      route_config: { name: o.statPrefix, virtual_hosts: o.virtualHosts },
      http_filters: filters,
    }),
  };
}

export function tcpProxyFilter(config: Json): Json {
  return { name: TCP_PROXY, typed_config: config };
}

export const TLS_INSPECTOR = {
  name: 'envoy.filters.listener.tls_inspector',
  typed_config: typed(TYPE.tlsInspector),
};
export const ORIGINAL_DST = {
  name: 'envoy.filters.listener.original_dst',
  typed_config: typed(TYPE.originalDst),
};
