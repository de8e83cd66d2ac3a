import type { HeaderOps } from '../config/common.js';
import type { Headers } from '../codec/http1.js';

/** Hop-by-hop headers: never forwarded either way. */
export const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** Header fields an HTTP/2 message never carries (RFC 9113 8.2.2), dropped from HTTP/1.1 heads. */
export const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'http2-settings',
]);

/** What %-operators in header values read of a request (http/stream.ts's Ctx). */
export interface FormatContext {
  readonly start: number;
  readonly upstreamHost: string;
  readonly protocol: string;
  readonly conn: { readonly remoteIp: string; readonly socket: { readonly remotePort?: number } };
}

/** Applies request_headers_to_add/remove (or the response ones) to h. */
export function applyOps(h: Headers, ops: HeaderOps, ctx: FormatContext): void {
  if (ops.remove.length) {
    for (let i = h.length - 1; i >= 0; i--) if (ops.remove.includes(h[i]![0])) h.splice(i, 1);
  }
  for (const a of ops.add) {
    const v = a.value.includes('%') ? expandHeaderValue(a.value, ctx) : a.value;
    const exists = h.some((kv) => kv[0] === a.key);
    switch (a.action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        h.push([a.key, v]);
        break;
      case 'ADD_IF_ABSENT':
        if (!exists) h.push([a.key, v]);
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
      case 'OVERWRITE_IF_EXISTS':
        if (exists || a.action === 'OVERWRITE_IF_EXISTS_OR_ADD') {
          for (let i = h.length - 1; i >= 0; i--) if (h[i]![0] === a.key) h.splice(i, 1);
          h.push([a.key, v]);
        }
        break;
    }
  }
}

/** The few command operators Envoy expands in header values that the proxy knows. */
const OPERATORS: Readonly<Record<string, (ctx: FormatContext) => string>> = {
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (ctx) => ctx.conn.remoteIp,
  DOWNSTREAM_REMOTE_ADDRESS: (ctx) => `${ctx.conn.remoteIp}:${ctx.conn.socket.remotePort}`,
  UPSTREAM_REMOTE_ADDRESS: (ctx) => ctx.upstreamHost,
  PROTOCOL: (ctx) => ctx.protocol,
  START_TIME: (ctx) => new Date(ctx.start).toISOString(),
};

/**
 * Expands a header value as Envoy's formatter reads it, left to right: `%%` is a literal `%`, and
 * `%NAME%` an operator (so `%%START_TIME%%` is the text `%START_TIME%`, not a time between two `%`).
 */
export function expandHeaderValue(v: string, ctx: FormatContext): string {
  return v.replace(/%%|%([A-Z_]+)%/g, (text, name: string | undefined) => {
    if (name === undefined) return '%';
    const op = OPERATORS[name];
    return op ? op(ctx) : text;
  });
}

/** Are there header operations at all (most routes have none)? */
export const hasOps = (o: HeaderOps): boolean => o.add.length > 0 || o.remove.length > 0;

/** strip_any_host_port: "host:port" and "[v6]:port" lose the port. */
export function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const i = authority.lastIndexOf(':');
  return i < 0 || authority.indexOf(':') !== i ? authority : authority.slice(0, i);
}
