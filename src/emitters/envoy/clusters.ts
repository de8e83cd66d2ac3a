import type { Endpoint, LoadBalancer, ResolvedBackend, ResolvedMesh } from '../../model/types.js';
import { TYPE, duration, socketAddress, typed, type Json } from './common.js';
import { callersUseTls, upstreamTls, type Caller } from './tls.js';

const LB_POLICY: Record<LoadBalancer, string> = {
  'round-robin': 'ROUND_ROBIN',
  'least-request': 'LEAST_REQUEST',
  random: 'RANDOM',
  'ring-hash': 'RING_HASH',
};

/** `<backend>|<version>` for one version, `<backend>` for all of them as one pool. */
export function clusterName(backend: string, version: string | undefined, prefix = ''): string {
  return `${prefix}${version === undefined ? backend : `${backend}|${version}`}`;
}

/**
 * Orders cluster keys as the mesh lists backends and versions (all-versions pools after a backend's
 * versions), so bootstraps read in the order of the mesh file.
 */
export function orderClusterKeys<T extends { key: { backend: string; version: string | undefined } }>(
  mesh: ResolvedMesh,
  items: T[],
): T[] {
  const rank = new Map<string, number>();
  let i = 0;
  for (const b of mesh.backends) {
    for (const v of b.versions) rank.set(`${b.name}|${v.name}`, i++);
    rank.set(b.name, i++);
  }
  const of = (k: T['key']) =>
    rank.get(k.version === undefined ? k.backend : `${k.backend}|${k.version}`) ?? i;
  return items.sort((a, b) => of(a.key) - of(b.key));
}

export function isHttp2(backend: ResolvedBackend): boolean {
  return backend.protocol === 'http2' || backend.protocol === 'grpc';
}

/** HTTP/2 to the upstream, for http2 and grpc backends. */
export function http2Options(): Json {
  return {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': typed(TYPE.httpProtocolOptions, {
      explicit_http_config: { http2_protocol_options: {} },
    }),
  };
}

/** STATIC when every endpoint is an IP address, STRICT_DNS when one is a host name. */
export function loadAssignment(
  name: string,
  endpoints: readonly Endpoint[],
): { type: string; load_assignment: Json } {
  return {
    type: endpoints.some((e) => e.family === 'dns') ? 'STRICT_DNS' : 'STATIC',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        { lb_endpoints: endpoints.map((e) => ({ endpoint: { address: socketAddress(e.host, e.port) } })) },
      ],
    },
  };
}

export interface ClusterOptions {
  readonly name: string;
  readonly backend: ResolvedBackend;
  /** The versions the cluster pools. */
  readonly versions: readonly string[];
  /** The certDir and the certificate the caller presents. */
  readonly certDir: string;
  readonly caller: Caller;
}

/**
 * One cluster: the endpoints of some versions of a backend, with the backend's policies. A version
 * without endpoints is reported once per mesh (MG3003, see checkEndpoints in ../proxy).
 */
export function buildCluster({ name, backend: b, versions, certDir, caller }: ClusterOptions): Json {
  const wanted = new Set(versions);
  const endpoints: Endpoint[] = [];
  for (const v of b.versions) if (wanted.has(v.name)) endpoints.push(...v.endpoints);
  const cb = b.circuitBreaker;
  const od = b.outlierDetection;
  const hc = b.healthCheck;
  return {
    name,
    connect_timeout: '5s',
    ...loadAssignment(name, endpoints),
    lb_policy: LB_POLICY[b.loadBalancer],
    circuit_breakers: cb && {
      thresholds: [
        {
          max_connections: cb.maxConnections,
          max_pending_requests: cb.maxPendingRequests,
          max_requests: cb.maxRequests,
          max_retries: cb.maxRetries,
        },
      ],
    },
    outlier_detection: od && {
      consecutive_5xx: od.consecutiveErrors,
      interval: duration(od.intervalMs),
      base_ejection_time: duration(od.baseEjectionTimeMs),
      max_ejection_percent: od.maxEjectionPercent,
      // Envoy also ejects by success rate unless told not to; the mesh asks for consecutive errors only
      enforcing_success_rate: 0,
    },
    health_checks: hc && [
      {
        timeout: duration(hc.timeoutMs),
        interval: duration(hc.intervalMs),
        healthy_threshold: hc.healthyThreshold,
        unhealthy_threshold: hc.unhealthyThreshold,
        ...(b.protocol === 'tcp'
          ? { tcp_health_check: {} }
          : { http_health_check: { path: hc.path, codec_client_type: isHttp2(b) ? 'HTTP2' : undefined } }),
      },
    ],
    typed_extension_protocol_options: isHttp2(b) ? http2Options() : undefined,
    transport_socket: callersUseTls(b) ? upstreamTls(certDir, caller, b) : undefined,
  };
}
