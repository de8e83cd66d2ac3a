import { getHeader, type Headers, type ParsedRequest } from '../codec/http1.js';

/** gRPC over the proxy: Envoy's local replies to gRPC requests and its retry_on gRPC conditions. */

/** Envoy's Grpc::Utility::httpToGrpcStatus. */
function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** Envoy's gRPC request test: content-type application/grpc or application/grpc+<codec>. */
function isGrpc(req: ParsedRequest): boolean {
  const ct = getHeader(req.headers, 'content-type');
  return ct !== undefined && (ct === 'application/grpc' || ct.startsWith('application/grpc+'));
}

/**
 * The head of a local reply to a gRPC request as Envoy makes it (trailers-only: HTTP 200,
 * content-type application/grpc, grpc-status from the HTTP status, grpc-message the
 * percent-encoded body); undefined for other requests.
 */
export function grpcLocalReply(
  req: ParsedRequest,
  status: number,
  body: string,
  extra: Headers,
): Headers | undefined {
  if (!isGrpc(req)) return undefined;
  const h: Headers = [
    ...extra,
    ['content-type', 'application/grpc'],
    ['grpc-status', String(httpToGrpcStatus(status))],
  ];
  if (body && req.method !== 'HEAD') h.push(['grpc-message', grpcPercentEncode(body)]);
  return h;
}

/** gRPC's percent-encoding of grpc-message: bytes outside 0x20-0x7e and '%' are %XX. */
function grpcPercentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s)) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** retry_on gRPC conditions: the grpc-status of the response headers (a trailers-only response). */
export function retryGrpc(statuses: Set<number>, h: Headers): boolean {
  const v = getHeader(h, 'grpc-status');
  return v !== undefined && statuses.has(Number(v));
}
