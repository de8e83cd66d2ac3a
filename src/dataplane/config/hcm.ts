import { DEFAULT_BUFFER_LIMIT, type CodecLimits } from '../codec/http1.js';
import { pathNormalizationConfig, type PathNormalization } from '../http/path.js';
import {
  accessLogs,
  durationMs,
  http2Settings,
  type AccessLogConfig,
  type Http2Settings,
  type Obj,
} from './common.js';
import { routeTable, upgradeConfigs, type PerRouteReader, type RouteTable } from './route.js';
import type { PathError } from './supported.js';

/** One configured HTTP filter: its @type (the key of filters/registry.ts) and its converted config. */
interface HttpFilterConfig {
  type: string;
  config: unknown;
}

/** What conversion needs of an HTTP filter (filters/registry.ts has one per @type). */
export interface HttpFilterConverter {
  /** The router: it must be the last filter. */
  readonly terminal?: boolean;
  /** typed_config to the filter's config; undefined leaves the filter out (RBAC without rules). */
  convert(tc: Obj, p: string, errors: PathError[]): unknown;
  /** Its per-route configuration, if it has one. */
  readonly perRoute?: PerRouteReader;
}

export interface HcmConfig {
  statPrefix: string;
  routes: RouteTable;
  /** The HTTP filters in configured order, each with its converted config; the router is last. */
  filters: HttpFilterConfig[];
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
  /** HTTP/1 header limits and connection timeouts (codec/http1.ts). */
  http1: CodecLimits;
  /** normalize_path, merge_slashes, path_with_escaped_slashes_action (http/path.ts). */
  path: PathNormalization;
}

/** An http_connection_manager; `table` converts its HTTP filters, by @type. */
export function hcm(
  h: Obj,
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  table: ReadonlyMap<string, HttpFilterConverter>,
  /** The listener's per_connection_buffer_limit_bytes. */
  bufferLimitBytes: number = DEFAULT_BUFFER_LIMIT,
): HcmConfig {
  if (!h.route_config)
    errors.push({
      path: `${p}/route_config`,
      message: 'meshgen proxy needs an inline route_config (rds is not implemented)',
    });
  const readers = [...table.values()].flatMap((f) => (f.perRoute ? [f.perRoute] : []));
  return {
    statPrefix: String(h.stat_prefix),
    routes: routeTable(h.route_config ?? {}, `${p}/route_config`, clusterNames, errors, readers),
    filters: httpFilters((h.http_filters ?? []) as Obj[], p, errors, table),
    accessLogs: accessLogs(h.access_log, `${p}/access_log`, errors),
    useRemoteAddress: Boolean(h.use_remote_address),
    generateRequestId: h.generate_request_id === undefined ? true : Boolean(h.generate_request_id),
    preserveExternalRequestId: Boolean(h.preserve_external_request_id),
    stripAnyHostPort: Boolean(h.strip_any_host_port),
    codec: (h.codec_type ?? 'AUTO') as HcmConfig['codec'],
    http2: http2Settings(h.http2_protocol_options),
    upgrades: upgradeConfigs(h.upgrade_configs, `${p}/upgrade_configs`, errors) ?? new Map(),
    http1: {
      maxHeadersCount: Number(h.common_http_protocol_options?.max_headers_count ?? 100),
      maxHeadersBytes: Number(h.max_request_headers_kb ?? 60) * 1024,
      idleTimeoutMs: durationMs(h.common_http_protocol_options?.idle_timeout, 3_600_000),
      requestHeadersTimeoutMs: durationMs(h.request_headers_timeout, 0),
      drainTimeoutMs: durationMs(h.drain_timeout, 5000),
      bufferLimitBytes,
    },
    path: pathNormalizationConfig(h),
  };
}

function httpFilters(
  filters: Obj[],
  p: string,
  errors: PathError[],
  table: ReadonlyMap<string, HttpFilterConverter>,
): HttpFilterConfig[] {
  const out: HttpFilterConfig[] = [];
  filters.forEach((f, i) => {
    const type = f.typed_config?.['@type'] as string | undefined;
    const def = type === undefined ? undefined : table.get(type);
    if (!def) {
      // an @type the table lacks was refused by the field walk (config/supported.ts)
      errors.push({ path: `${p}/http_filters/${i}`, message: 'an HTTP filter needs a typed_config' });
      return;
    }
    if (def.terminal && i !== filters.length - 1)
      errors.push({ path: `${p}/http_filters/${i}`, message: 'the router must be the last HTTP filter' });
    const config = def.convert(f.typed_config as Obj, `${p}/http_filters/${i}/typed_config`, errors);
    if (config !== undefined) out.push({ type: type!, config });
  });
  const lastType = filters[filters.length - 1]?.typed_config?.['@type'] as string | undefined;
  if (!(lastType !== undefined && table.get(lastType)?.terminal))
    errors.push({
      path: `${p}/http_filters`,
      message: 'the last HTTP filter must be envoy.filters.http.router',
    });
  return out;
}
