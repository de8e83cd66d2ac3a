import { outlierConfig, type OutlierConfig } from '../upstream/outlier.js';
import {
  bufferLimitBytes,
  durationMs,
  http2Settings,
  sockAddr,
  type Http2Settings,
  type Obj,
  type SockAddr,
} from './common.js';
import type { PathError } from './supported.js';
import { tlsContext, type TlsConfig } from './tls.js';

export interface ClusterConfig {
  name: string;
  type: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';
  connectTimeoutMs: number;
  /** per_connection_buffer_limit_bytes: what an upstream connection holds of a request body it sends. */
  bufferLimitBytes: number;
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

export function cluster(c: Obj, p: string, errors: PathError[]): ClusterConfig {
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
  const http2 = upstreamHttp2(c, p, errors);
  return {
    name: String(c.name),
    type,
    connectTimeoutMs: durationMs(c.connect_timeout, 5000),
    bufferLimitBytes: bufferLimitBytes(c.per_connection_buffer_limit_bytes),
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

/** The upstream protocol: HTTP/2 from typed_extension_protocol_options or http2_protocol_options. */
function upstreamHttp2(c: Obj, p: string, errors: PathError[]): ClusterConfig['http2'] {
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
  return http2;
}
