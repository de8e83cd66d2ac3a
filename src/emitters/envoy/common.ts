import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';

/** Plain JSON-shaped data: what the bootstraps are built from. */
export type Json = Record<string, unknown>;

/** Envoy v3 message types packed in `Any` (`typed_config`), by what they do. */
export const TYPE = {
  hcm: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'envoy.extensions.filters.http.router.v3.Router',
  fault: 'envoy.extensions.filters.http.fault.v3.HTTPFault',
  httpRbac: 'envoy.extensions.filters.http.rbac.v3.RBAC',
  networkRbac: 'envoy.extensions.filters.network.rbac.v3.RBAC',
  tcpProxy: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  downstreamTls: 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  upstreamTls: 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  httpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  tlsInspector: 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  originalDst: 'envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  previousHosts: 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  listener: 'envoy.config.listener.v3.Listener',
  cluster: 'envoy.config.cluster.v3.Cluster',
} as const;

/** `{ '@type': 'type.googleapis.com/<type>', ...fields }`: an `Any` in proto3 JSON. */
export function typed(type: string, fields: Json = {}): Json {
  return { '@type': `type.googleapis.com/${type}`, ...fields };
}

/** Milliseconds as a proto3 JSON Duration: 500 -> "0.5s", 90000 -> "90s". */
export function duration(ms: number): string {
  const total = Math.round(ms * 1e6); // nanoseconds
  const seconds = Math.floor(total / 1e9);
  const nanos = total - seconds * 1e9;
  if (nanos === 0) return `${seconds}s`;
  return `${seconds}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}s`;
}

/**
 * A percentage as Envoy's FractionalPercent, with the smallest denominator that holds it exactly
 * (HUNDRED, TEN_THOUSAND or MILLION). Undefined when not even a millionth holds it.
 */
function fractionalPercent(percent: number): Json | undefined {
  for (const [denominator, scale] of [
    ['HUNDRED', 1],
    ['TEN_THOUSAND', 100],
    ['MILLION', 10_000],
  ] as const) {
    const n = percent * scale;
    if (Math.abs(n - Math.round(n)) < 1e-9) return { numerator: Math.round(n), denominator };
  }
  return undefined;
}

/** FractionalPercent, rounded to a millionth with a diagnostic when the percentage is finer. */
export function percentOrApprox(
  percent: number,
  what: string,
  pointer: string,
  diagnostics: Diagnostic[],
): Json {
  const exact = fractionalPercent(percent);
  if (exact) return exact;
  const numerator = Math.round(percent * 10_000);
  diagnostics.push(
    diagnostic(
      'MG3002',
      `${what}: Envoy counts in millionths, so ${percent}% becomes ${numerator / 10_000}%`,
      {
        pointer,
        target: 'envoy',
      },
    ),
  );
  return { numerator, denominator: 'MILLION' };
}

export function socketAddress(address: string, port: number): Json {
  return { socket_address: { address, port_value: port } };
}

/** Stable order without sorting the world: first-seen order of keys. */
export class OrderedSet<T> {
  private readonly seen = new Set<T>();
  readonly items: T[] = [];
  add(item: T): void {
    if (this.seen.has(item)) return;
    this.seen.add(item);
    this.items.push(item);
  }
  has(item: T): boolean {
    return this.seen.has(item);
  }
}
