import { randomUUID } from 'node:crypto';
import { getHeader, type Headers } from '../codec/http1.js';
import type { FilterCallbacks } from '../http/filter.js';
import { applyOps, hasOps, HOP } from '../http/headers.js';
import type { Ctx } from '../http/stream.js';
import { rewritePath, type RouteMatch } from './route-match.js';

/**
 * The upstream request head ("GET /p HTTP/1.1\r\nhost: …\r\n…\r\n\r\n") as the router sends it,
 * for a forwarded request and for an upgrade alike: hop-by-hop headers dropped, the path rewritten,
 * x-forwarded-for/-proto, x-request-id, x-envoy-original-path, x-envoy-expected-rq-timeout-ms, the
 * route's, virtual host's and route configuration's request header operations, the Host rewrite.
 * `upgrade`: the Upgrade token kept (with `connection: Upgrade`); the body length is then sent only
 * for a body. A body still arriving goes with its Content-Length, or chunked when it has none.
 */
export function upstreamHead(
  cb: FilterCallbacks,
  ctx: Ctx,
  m: RouteMatch,
  expectedTimeoutMs: number,
  upgrade?: string,
): string {
  const a = m.route.action;
  if (a.kind !== 'route') return '';
  const req = ctx.req;
  const path = rewritePath(m.route, req.path);
  const h = forwardedHeaders(cb, ctx);
  if (path !== req.path) {
    ctx.originalPath = req.path;
    h.push(['x-envoy-original-path', req.path]);
  }
  if (expectedTimeoutMs > 0) h.push(['x-envoy-expected-rq-timeout-ms', String(expectedTimeoutMs)]);
  if (hasOps(m.route.request)) applyOps(h, m.route.request, ctx);
  if (hasOps(m.vhost.request)) applyOps(h, m.vhost.request, ctx);
  if (hasOps(cb.cfg.routes.request)) applyOps(h, cb.cfg.routes.request, ctx);
  let head = `${req.method} ${path} HTTP/1.1\r\nhost: ${a.hostRewrite ?? ctx.authority}\r\n`;
  for (let i = 0; i < h.length; i++) head += `${h[i]![0]}: ${h[i]![1]}\r\n`;
  if (upgrade !== undefined) head += `connection: Upgrade\r\nupgrade: ${upgrade}\r\n`;
  const rh = req.headers;
  const stream = req.bodyStream;
  if (stream !== undefined)
    head +=
      stream.length === undefined ? 'transfer-encoding: chunked\r\n' : `content-length: ${stream.length}\r\n`;
  else if (
    req.body.length > 0 ||
    (upgrade === undefined &&
      (getHeader(rh, 'content-length') !== undefined || getHeader(rh, 'transfer-encoding') !== undefined))
  )
    head += `content-length: ${req.body.length}\r\n`;
  return head + '\r\n';
}

/** The request's headers as they go upstream, with x-forwarded-for/-proto and x-request-id. */
function forwardedHeaders(cb: FilterCallbacks, ctx: Ctx): Headers {
  const h: Headers = [];
  let hasXfp = false;
  let xff: string | undefined;
  const useRemote = cb.cfg.useRemoteAddress;
  const rh = ctx.req.headers;
  for (let i = 0; i < rh.length; i++) {
    const kv = rh[i]!;
    const k = kv[0];
    if (HOP.has(k) || k === 'host' || k === 'content-length') continue;
    if (k === 'x-request-id') ctx.requestId = kv[1];
    else if (k === 'x-forwarded-proto') hasXfp = true;
    else if (k === 'x-forwarded-for' && useRemote) {
      xff = xff === undefined ? kv[1] : `${xff},${kv[1]}`;
      continue;
    }
    h.push(kv);
  }
  if (useRemote) h.push(['x-forwarded-for', xff ? `${xff},${ctx.conn.remoteIp}` : ctx.conn.remoteIp]);
  if (!hasXfp) h.push(['x-forwarded-proto', cb.scheme]);
  if (!ctx.requestId && cb.cfg.generateRequestId) {
    ctx.requestId = randomUUID();
    h.push(['x-request-id', ctx.requestId]);
  }
  return h;
}
