import { randomUUID } from 'node:crypto';
import type { HcmConfig } from '../config/hcm.js';
import type { Headers } from '../codec/http1.js';

/**
 * What Envoy's ConnectionManagerUtility::mutateRequestHeaders does to the headers of an external
 * request before any filter sees them (source/common/http/conn_manager_utility.cc). Every request is
 * external here: Envoy counts a request as internal only when its address is in the connection
 * manager's internal_address_config, which by default (Envoy 1.33 and later) holds no address, and
 * which meshgen proxy does not implement.
 *
 * - Every request loses `x-envoy-internal` and the x-envoy-* headers that steer Envoy itself
 *   (cleanInternalHeaders): a caller must not choose retries, timeouts or tracing.
 * - An edge request (use_remote_address: the connection manager faces clients) also loses the
 *   headers only Envoy may have set (`x-envoy-original-path`, the decorator and downstream service
 *   names); its x-forwarded-proto is the connection's scheme whatever the client sent; it gets
 *   x-envoy-external-address (the client's address); and its x-request-id is generated anew
 *   (unless preserve_external_request_id, or generate_request_id is off).
 */

/** Removed from every external request (cleanInternalHeaders, and x-envoy-internal before it). */
const INTERNAL = new Set([
  'x-envoy-internal',
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace',
  'x-envoy-ip-tags',
  'x-envoy-original-url',
  'x-envoy-hedge-on-per-try-timeout',
]);

/** Also removed from edge requests; the last three are then set by the proxy. */
const EDGE = new Set([
  'x-envoy-decorator-operation',
  'x-envoy-downstream-service-cluster',
  'x-envoy-downstream-service-node',
  'x-envoy-original-path',
  'x-forwarded-proto',
  'x-envoy-external-address',
  'x-request-id',
]);

type EdgeConfig = Pick<HcmConfig, 'useRemoteAddress' | 'generateRequestId' | 'preserveExternalRequestId'>;

/** Sanitizes the request headers `h` in place, as Envoy does for an external request. */
export function mutateRequestHeaders(
  h: Headers,
  cfg: EdgeConfig,
  remoteIp: string,
  scheme: 'http' | 'https',
): void {
  const edge = cfg.useRemoteAddress;
  const newId = edge && cfg.generateRequestId && !cfg.preserveExternalRequestId;
  let w = 0;
  for (let i = 0; i < h.length; i++) {
    const kv = h[i]!;
    const k = kv[0];
    // most headers do not start with "x-": one comparison each
    if (k.charCodeAt(0) === 120 && k.charCodeAt(1) === 45 && drop(k, edge, newId)) continue;
    h[w++] = kv;
  }
  h.length = w;
  if (!edge) return;
  h.push(['x-forwarded-proto', scheme], ['x-envoy-external-address', remoteIp]);
  if (newId) h.push(['x-request-id', randomUUID()]);
}

function drop(k: string, edge: boolean, newId: boolean): boolean {
  if (INTERNAL.has(k)) return true;
  if (!edge || !EDGE.has(k)) return false;
  // the client's own request id stays when Envoy would keep it
  return k !== 'x-request-id' || newId;
}
