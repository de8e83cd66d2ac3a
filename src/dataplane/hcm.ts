import { randomUUID } from 'node:crypto';
import { escapeRegex } from '../model/regex.js';
import type net from 'node:net';
import type {
  HcmConfig,
  HeaderOps,
  Permission,
  Principal,
  RbacConfig,
  RetryConfig,
  RouteConfig,
  VirtualHostConfig,
} from './config.js';
import {
  getHeader,
  httpDate,
  HttpError,
  RequestParser,
  type Headers,
  type ParsedRequest,
  type ResponseHead,
} from './http1.js';
import { hash32 } from './lb.js';
import {
  headerMatches,
  matchRoute,
  pickWeighted,
  redirectLocation,
  rewritePath,
  type RouteRequest,
} from './router.js';
import type { Stat, Stats } from './stats.js';
import type { AcquireCallback, AcquireError, Cluster, Exchange, Host, UpConn } from './upstream.js';
import type { AccessLogger } from './accesslog.js';
import { grpcLocalReply, H2Listener, PROTOCOL, retryGrpc } from './h2.js';
import { connectionUpgrade, forwardUpgrade, upgradeAllowed } from './upgrade.js';
import { applyCors, corsDecide } from './cors.js';
import { mutateRequestHeaders } from './http/edge.js';

export interface Runtime {
  clusters: Map<string, Cluster>;
  stats: Stats;
  logger(path: string): AccessLogger;
  /** Set while draining: responses carry `connection: close`. */
  draining: boolean;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** Buffer's own latin1 writer: Buffer.write(s, 0, 'latin1') without its argument juggling. */
type Latin1Buffer = Buffer & { latin1Write(s: string, offset: number): number };

/** Writes the pending response head, with the first body bytes in the same buffer. */
export function flushHead(ctx: Ctx, body?: Buffer): boolean {
  const h2 = ctx.h2;
  if (h2 !== undefined) return body ? h2.write(body) : true;
  const h = ctx.pendingHead;
  const sock = ctx.conn.socket;
  if (h === undefined) return body ? sock.write(body) : true;
  ctx.pendingHead = undefined;
  if (!body || body.length === 0) return sock.write(h, 'latin1');
  const out = Buffer.allocUnsafe(h.length + body.length) as Latin1Buffer;
  out.latin1Write(h, 0);
  body.copy(out, h.length);
  return sock.write(out);
}
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

/** What a request waiting on something (a fault delay, an upstream) does when it is given up. */
export interface Cancelable {
  cancel(): void;
}

/**
 * The downstream side of a request other than HTTP/1.1 (an HTTP/2 stream, src/dataplane/h2.ts):
 * how the response head, body and trailers are written. HTTP/1.1 requests leave it undefined and
 * write to their socket directly.
 */
export interface H2Down {
  /** Sets the response head (sent with the first body bytes or the end). */
  head(status: number, h: Headers): void;
  /** Body bytes; false when the stream wants to drain. */
  write(b: Buffer): boolean;
  /** Ends the response, with trailers if any. */
  end(trailers?: Headers): void;
  /** Aborts the response (after its head went out). */
  reset(): void;
  onDrain(cb: () => void): void;
}

/** What the pipeline needs of a downstream connection: DownConn (HTTP/1.1), or an HTTP/2 stream. */
export interface DownConnection {
  readonly socket: net.Socket;
  readonly remoteIp: string;
  readonly principal: string[] | null;
  ctx: Ctx | null;
  finished(keepAlive: boolean): void;
}

/** One downstream request's state, shared by the filters, the router and the access log. */
export class Ctx {
  readonly start = Date.now();
  flags = '-';
  status = 0;
  bytesSent = 0;
  upstreamHost = '-';
  serviceTime = '-';
  requestId: string | undefined = undefined;
  originalPath: string | undefined = undefined;
  done = false;
  headSent = false;
  pendingHead: string | undefined = undefined;
  /** Aborts the upstream side (or a fault delay) when the downstream connection goes away. */
  cancel: Cancelable | undefined = undefined;
  /** Set by the CORS filter: headers the response gets (cors.ts). */
  cors: Headers | undefined = undefined;

  constructor(
    readonly req: ParsedRequest,
    readonly conn: DownConnection,
    readonly authority: string,
    /** Set for HTTP/2 streams. */
    readonly h2: H2Down | undefined,
  ) {}
}

export class DownConn implements DownConnection {
  readonly parser = new RequestParser();
  busy = false;
  closed = false;
  served = 0;
  ctx: Ctx | null = null;
  readonly remoteIp: string;

  constructor(
    readonly socket: net.Socket,
    readonly hcm: HttpConnectionManager,
    readonly principal: string[] | null,
  ) {
    this.remoteIp = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.parser.push(d);
      if (!this.busy) this.next();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.hcm.connClosed(this);
      const c = this.ctx;
      if (c && !c.done) {
        c.done = true;
        c.flags = c.flags === '-' ? 'DC' : c.flags;
        c.cancel?.cancel();
        this.hcm.log(c);
      }
    });
    socket.on('end', () => {
      if (!this.busy) socket.end();
    });
  }

  next(): void {
    if (this.closed) return;
    let req: ParsedRequest | null;
    try {
      req = this.parser.next();
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(400, 'bad request');
      this.hcm.stats.inc(`${this.hcm.p}downstream_rq_total`);
      this.hcm.stats.inc(`${this.hcm.p}downstream_rq_${(err.status / 100) | 0}xx`);
      const body = err.status === 431 ? '' : 'Bad Request';
      this.socket.end(
        `HTTP/1.1 ${err.status} ${REASONS[err.status] ?? 'Error'}\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`,
      );
      this.closed = true;
      return;
    }
    if (!req) {
      if (this.parser.expectContinue) {
        this.parser.expectContinue = false;
        this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      }
      if (this.socket.readableEnded && this.parser.buffered === 0) this.socket.end();
      return;
    }
    this.busy = true;
    this.hcm.handle(this, req);
  }

  /** The response went out: read the next request, or close. */
  finished(keepAlive: boolean): void {
    this.served++;
    this.busy = false;
    this.ctx = null;
    if (!keepAlive || this.hcm.rt.draining) {
      this.socket.end();
      this.closed = true;
      return;
    }
    if (this.parser.buffered) this.next();
    else if (this.socket.readableEnded) this.socket.end();
  }
}

export function applyOps(h: Headers, ops: HeaderOps, ctx: Ctx): void {
  if (ops.remove.length) {
    for (let i = h.length - 1; i >= 0; i--) if (ops.remove.includes(h[i]![0])) h.splice(i, 1);
  }
  for (const a of ops.add) {
    const v = a.value.includes('%') ? expand(a.value, ctx) : a.value;
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
const OPERATORS: Readonly<Record<string, (ctx: Ctx) => string>> = {
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (ctx) => ctx.conn.remoteIp,
  DOWNSTREAM_REMOTE_ADDRESS: (ctx) => `${ctx.conn.remoteIp}:${ctx.conn.socket.remotePort}`,
  UPSTREAM_REMOTE_ADDRESS: (ctx) => ctx.upstreamHost,
  PROTOCOL: (ctx) => PROTOCOL[ctx.req.version],
  START_TIME: (ctx) => new Date(ctx.start).toISOString(),
};

/**
 * Expands a header value as Envoy's formatter reads it, left to right: `%%` is a literal `%`, and
 * `%NAME%` an operator (so `%%START_TIME%%` is the text `%START_TIME%`, not a time between two `%`).
 */
function expand(v: string, ctx: Ctx): string {
  return v.replace(/%%|%([A-Z_]+)%/g, (text, name: string | undefined) => {
    if (name === undefined) return '%';
    const op = OPERATORS[name];
    return op ? op(ctx) : text;
  });
}

/** Are there header operations at all (most routes have none)? */
const hasOps = (o: HeaderOps): boolean => o.add.length > 0 || o.remove.length > 0;

/** strip_any_host_port: "host:port" and "[v6]:port" lose the port. */
function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const i = authority.lastIndexOf(':');
  return i < 0 || authority.indexOf(':') !== i ? authority : authority.slice(0, i);
}

/** The router's and RBAC's view of a parsed request. */
class RouteReq implements RouteRequest {
  readonly method: string;
  readonly path: string;
  constructor(
    private readonly req: ParsedRequest,
    readonly authority: string,
  ) {
    this.method = req.method;
    this.path = req.path;
  }
  header(name: string): string | undefined {
    return getHeader(this.req.headers, name);
  }
}

function permMatches(p: Permission, rr: RouteRequest): boolean {
  if ('any' in p) return true;
  if ('header' in p) return headerMatches(p.header, rr);
  if ('urlPath' in p) {
    const q = rr.path.indexOf('?');
    return p.urlPath(q < 0 ? rr.path : rr.path.slice(0, q));
  }
  if ('and' in p) return p.and.every((x) => permMatches(x, rr));
  if ('or' in p) return p.or.some((x) => permMatches(x, rr));
  return !permMatches(p.not, rr);
}

function principalMatches(p: Principal, rr: RouteRequest, peer: string[] | null): boolean {
  if ('any' in p) return true;
  if ('authenticated' in p) {
    if (!peer) return false;
    const m = p.authenticated;
    return m === null || peer.some((n) => m(n));
  }
  if ('header' in p) return headerMatches(p.header, rr);
  if ('and' in p) return p.and.every((x) => principalMatches(x, rr, peer));
  if ('or' in p) return p.or.some((x) => principalMatches(x, rr, peer));
  return !principalMatches(p.not, rr, peer);
}

/** RBAC: ALLOW lets through requests some policy matches; DENY refuses them. */
export function rbacAllows(r: RbacConfig, rr: RouteRequest, peer: string[] | null): boolean {
  const hit = r.policies.some(
    (pol) =>
      pol.permissions.some((x) => permMatches(x, rr)) &&
      pol.principals.some((x) => principalMatches(x, rr, peer)),
  );
  return r.action === 'ALLOW' ? hit : !hit;
}

const RETRY_STATUS_5XX = (s: number) => s >= 500;
const GATEWAY = (s: number) => s === 502 || s === 503 || s === 504;

/** The HTTP connection manager of one listener: filters, router, upstream exchange. */
export class HttpConnectionManager {
  readonly p: string;
  readonly stats: Stats;
  private readonly conns = new Set<DownConn>();
  /** HTTP/2 connections (codec_type AUTO or HTTP2). */
  private readonly h2: H2Listener | undefined;
  /** The stats every request touches, resolved once. */
  private readonly sRqTotal: Stat;
  private readonly sRqCompleted: Stat;
  private readonly sRqClass: Stat[] = [];
  /** Response header operations at the route-configuration level (checked once, not per request). */
  private readonly configResponseOps: boolean;

  constructor(
    readonly cfg: HcmConfig,
    readonly rt: Runtime,
    readonly scheme: 'http' | 'https' = 'http',
  ) {
    this.p = `http.${cfg.statPrefix}.`;
    this.stats = rt.stats;
    this.sRqTotal = this.stats.counter(`${this.p}downstream_rq_total`);
    this.sRqCompleted = this.stats.counter(`${this.p}downstream_rq_completed`);
    this.configResponseOps = hasOps(cfg.routes.response);
    this.h2 = cfg.codec === 'HTTP1' ? undefined : new H2Listener(this, cfg);
  }

  onConnection(socket: net.Socket, principal: string[] | null = null): void {
    this.stats.inc(`${this.p}downstream_cx_total`);
    this.stats.gauge(`${this.p}downstream_cx_active`, 1);
    // HTTP/2 by ALPN or the connection preface (h2.ts), else HTTP/1.1
    if (this.h2 !== undefined) this.h2.accept(socket, principal);
    else this.http1(socket, principal);
  }

  http1(socket: net.Socket, principal: string[] | null): void {
    this.stats.inc(`${this.p}downstream_cx_http1_total`);
    this.conns.add(new DownConn(socket, this, principal));
  }

  connClosed(c: DownConn): void {
    if (this.conns.delete(c)) this.stats.gauge(`${this.p}downstream_cx_active`, -1);
  }

  /**
   * Drain: closes keep-alive connections idle between requests now, the others after their current
   * (or first) request; the drain time bounds the wait.
   */
  drain(): void {
    for (const c of this.conns) if (!c.busy && c.served > 0 && c.parser.buffered === 0) c.socket.end();
    this.h2?.drain();
  }

  get activeConnections(): number {
    return this.conns.size + (this.h2 ? this.h2.sessions.size : 0);
  }

  /** downstream_rq_<N>xx */
  countResponse(status: number): void {
    const n = (status / 100) | 0;
    (this.sRqClass[n] ??= this.stats.counter(`${this.p}downstream_rq_${n}xx`)).value++;
  }

  handle(conn: DownConnection, req: ParsedRequest, h2?: H2Down): void {
    // as Envoy before any filter: x-envoy-* from callers dropped, edge requests' headers set (http/edge.ts)
    mutateRequestHeaders(req.headers, this.cfg, conn.remoteIp, this.scheme);
    const host = getHeader(req.headers, 'host') ?? '';
    const ctx = new Ctx(req, conn, this.cfg.stripAnyHostPort ? stripPort(host) : host, h2);
    conn.ctx = ctx;
    this.sRqTotal.value++;
    this.runFilters(ctx, new RouteReq(req, ctx.authority), 0);
  }

  private runFilters(ctx: Ctx, rr: RouteRequest, i: number): void {
    const filters = this.cfg.filters;
    for (; i < filters.length; i++) {
      const f = filters[i]!;
      if (f.kind === 'rbac') {
        if (!rbacAllows(f.rbac, rr, ctx.conn.principal)) {
          this.stats.inc(`${this.p}rbac.denied`);
          return this.local(ctx, 403, 'RBAC: access denied', 'RBAC');
        }
        this.stats.inc(`${this.p}rbac.allowed`);
      } else if (f.kind === 'cors') {
        // CORS (cors.ts): only routes with a policy; a preflight from an allowed origin is answered here
        const pol = matchRoute(this.cfg.routes, rr)?.route.cors;
        if (!pol) continue;
        const d = corsDecide(pol, rr, (s) => this.stats.inc(`${this.p}cors.${s}`));
        if (d.kind === 'preflight')
          return this.local(ctx, 200, '', ctx.flags, undefined, undefined, d.headers);
        if (d.kind === 'simple') ctx.cors = d.headers;
      } else {
        // as Envoy: the route's typed_per_filter_config replaces the filter's own configuration
        const fault = matchRoute(this.cfg.routes, rr)?.route.fault ?? f.fault;
        if (
          fault.delay &&
          fault.delay.ms > 0 &&
          Math.random() < fault.delay.percent &&
          !ctx.flags.includes('DI')
        ) {
          this.stats.inc(`${this.p}fault.delays_injected`);
          ctx.flags = 'DI';
          const next = i;
          const t = setTimeout(() => {
            if (!ctx.done) this.runFilters(ctx, rr, next);
          }, fault.delay.ms);
          ctx.cancel = { cancel: () => clearTimeout(t) };
          return;
        }
        if (fault.abort && Math.random() < fault.abort.percent) {
          this.stats.inc(`${this.p}fault.aborts_injected`);
          return this.local(
            ctx,
            fault.abort.status,
            'fault filter abort',
            ctx.flags === 'DI' ? 'DI,FI' : 'FI',
          );
        }
      }
    }
    this.route(ctx, rr);
  }

  private route(ctx: Ctx, rr: RouteRequest): void {
    const m = matchRoute(this.cfg.routes, rr);
    if (!m) {
      this.stats.inc(`${this.p}no_route`);
      return this.local(ctx, 404, '', 'NR');
    }
    const a = m.route.action;
    if (a.kind === 'direct') {
      this.stats.inc(`${this.p}rq_direct_response`);
      return this.local(ctx, a.status, a.body ?? '', ctx.flags, m.route, m.vhost);
    }
    if (a.kind === 'redirect') {
      this.stats.inc(`${this.p}rq_redirect`);
      const h: Headers = [['location', redirectLocation(m.route, rr, this.scheme)]];
      return this.local(ctx, a.status, '', ctx.flags, m.route, m.vhost, h);
    }
    const upgrade = getHeader(ctx.req.headers, 'upgrade');
    if (
      upgrade &&
      upgrade.toLowerCase() !== 'h2c' &&
      ctx.h2 === undefined &&
      connectionUpgrade(ctx.req.headers)
    ) {
      // upgrades (WebSocket): upgrade.ts; refused as Envoy when upgrade_configs do not enable them
      if (!upgradeAllowed(this.cfg.upgrades, a.upgrades, upgrade)) {
        this.stats.inc(`${this.p}downstream_rq_ws_on_non_ws_route`);
        return this.local(ctx, 403, '', ctx.flags, m.route, m.vhost);
      }
      const c = this.rt.clusters.get(pickWeighted(a.clusters, a.totalWeight, Math.random()))!;
      return forwardUpgrade(this, ctx, m.route, m.vhost, c, upgrade);
    }
    const name =
      a.clusters.length === 1 ? a.clusters[0]!.name : pickWeighted(a.clusters, a.totalWeight, Math.random());
    const cluster = this.rt.clusters.get(name)!;
    this.forward(ctx, m.route, m.vhost, cluster);
  }

  /** A reply made by the proxy itself (Envoy's local reply), with the route's response headers. */
  local(
    ctx: Ctx,
    status: number,
    body: string,
    flags: string,
    route?: RouteConfig,
    vhost?: VirtualHostConfig,
    extra: Headers = [],
  ): void {
    if (ctx.done) return;
    ctx.flags = flags;
    const g = grpcLocalReply(ctx, status, body, extra);
    if (g !== undefined) {
      // as Envoy for a gRPC request: HTTP 200 with grpc-status, trailers-only
      this.responseOps(ctx, g, route, vhost);
      this.writeHead(ctx, 200, g, false);
      ctx.status = status;
      flushHead(ctx);
      return this.finish(ctx, true);
    }
    const h: Headers = [...extra];
    if (body) h.push(['content-length', String(Buffer.byteLength(body))], ['content-type', 'text/plain']);
    else h.push(['content-length', '0']);
    this.responseOps(ctx, h, route, vhost);
    this.writeHead(ctx, status, h, false);
    if (body && ctx.req.method !== 'HEAD') {
      const b = Buffer.from(body);
      flushHead(ctx, b);
      ctx.bytesSent += b.length;
    } else flushHead(ctx);
    this.finish(ctx, true);
  }

  responseOps(ctx: Ctx, h: Headers, route?: RouteConfig, vhost?: VirtualHostConfig): void {
    if (route && hasOps(route.response)) applyOps(h, route.response, ctx);
    if (vhost && hasOps(vhost.response)) applyOps(h, vhost.response, ctx);
    if ((route || vhost) && this.configResponseOps) applyOps(h, this.cfg.routes.response, ctx);
    if (ctx.cors) applyCors(h, ctx.cors);
  }

  writeHead(ctx: Ctx, status: number, h: Headers, chunked: boolean): boolean {
    const h2 = ctx.h2;
    if (h2 !== undefined) {
      ctx.status = status;
      ctx.headSent = true;
      h2.head(status, h);
      this.countResponse(status);
      return true;
    }
    const req = ctx.req;
    let keep = req.keepAlive && !this.rt.draining;
    let s = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < h.length; i++) {
      const kv = h[i]!;
      s += `${kv[0]}: ${kv[1]}\r\n`;
    }
    if (chunked) {
      if (req.version === 1) s += 'transfer-encoding: chunked\r\n';
      else keep = false;
    }
    s += `date: ${httpDate()}\r\nserver: envoy\r\n`;
    if (!keep) s += 'connection: close\r\n';
    else if (req.version === 0) s += 'connection: keep-alive\r\n';
    s += '\r\n';
    ctx.status = status;
    ctx.headSent = true;
    // kept until the first body bytes (or the end) so that head and body leave in one write
    ctx.pendingHead = s;
    this.countResponse(status);
    return keep;
  }

  finish(ctx: Ctx, keepAlive: boolean, trailers?: Headers): void {
    if (ctx.done) return;
    ctx.done = true;
    this.sRqCompleted.value++;
    this.log(ctx);
    if (ctx.h2 !== undefined) ctx.h2.end(trailers);
    else ctx.conn.finished(keepAlive && ctx.req.keepAlive);
  }

  log(ctx: Ctx): void {
    if (!this.cfg.accessLogs.length) return;
    const r = ctx.req;
    const g = (n: string) => getHeader(r.headers, n) ?? '-';
    const line =
      `[${new Date(ctx.start).toISOString()}] "${r.method} ${ctx.originalPath ?? r.path} ${PROTOCOL[r.version]}" ` +
      `${ctx.status || 0} ${ctx.flags} ${r.body.length} ${ctx.bytesSent} ${Date.now() - ctx.start} ${ctx.serviceTime} ` +
      `"${g('x-forwarded-for')}" "${g('user-agent')}" "${ctx.requestId ?? g('x-request-id')}" "${ctx.authority || '-'}" "${ctx.upstreamHost}"\n`;
    for (const l of this.cfg.accessLogs) this.rt.logger(l.path).write(line);
  }

  hashKey(ctx: Ctx, route: RouteConfig): number | undefined {
    const a = route.action;
    if (a.kind !== 'route' || !a.hash.length) return undefined;
    let h: number | undefined;
    for (const p of a.hash) {
      let v: string | undefined;
      if (p.kind === 'header') v = getHeader(ctx.req.headers, p.name);
      else if (p.kind === 'source_ip') v = ctx.conn.remoteIp;
      else {
        const c = getHeader(ctx.req.headers, 'cookie');
        const m = c ? new RegExp(`(?:^|;\\s*)${escapeRegex(p.name)}=([^;]*)`).exec(c) : null;
        v = m?.[1];
      }
      if (v === undefined) continue;
      const x = hash32(v);
      h = h === undefined ? x : (((h << 1) | (h >>> 31)) ^ x) >>> 0;
      if (p.terminal) break;
    }
    return h;
  }

  /**
   * The cluster's max_requests circuit breaker: at the limit, Envoy's 503 overflow reply (true).
   */
  overflowed(ctx: Ctx, cluster: Cluster, route: RouteConfig, vhost: VirtualHostConfig): boolean {
    if (cluster.activeRq < cluster.config.circuit.maxRequests) return false;
    this.stats.inc(`${cluster.p}upstream_rq_pending_overflow`);
    this.local(
      ctx,
      503,
      'upstream connect error or disconnect/reset before headers. reset reason: overflow',
      'UO',
      route,
      vhost,
      [['x-envoy-overloaded', 'true']],
    );
    return true;
  }

  private forward(ctx: Ctx, route: RouteConfig, vhost: VirtualHostConfig, cluster: Cluster): void {
    const a = route.action;
    if (a.kind !== 'route') return;
    const req = ctx.req;
    if (this.overflowed(ctx, cluster, route, vhost)) return;
    // upstream request head
    const path = rewritePath(route, req.path);
    const h: Headers = [];
    let hasXfp = false;
    let xff: string | undefined;
    const useRemote = this.cfg.useRemoteAddress;
    const rh = req.headers;
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
    if (!hasXfp) h.push(['x-forwarded-proto', this.scheme]);
    if (!ctx.requestId && this.cfg.generateRequestId) {
      ctx.requestId = randomUUID();
      h.push(['x-request-id', ctx.requestId]);
    }
    if (path !== req.path) {
      ctx.originalPath = req.path;
      h.push(['x-envoy-original-path', req.path]);
    }
    const retry = a.retry;
    const perTry = retry?.perTryTimeoutMs ?? 0;
    const expected = perTry || a.timeoutMs;
    if (expected > 0) h.push(['x-envoy-expected-rq-timeout-ms', String(expected)]);
    if (hasOps(route.request)) applyOps(h, route.request, ctx);
    if (hasOps(vhost.request)) applyOps(h, vhost.request, ctx);
    if (hasOps(this.cfg.routes.request)) applyOps(h, this.cfg.routes.request, ctx);
    const authority = a.hostRewrite ?? ctx.authority;
    let head = `${req.method} ${path} HTTP/1.1\r\nhost: ${authority}\r\n`;
    for (let i = 0; i < h.length; i++) head += `${h[i]![0]}: ${h[i]![1]}\r\n`;
    const hadLength =
      req.body.length > 0 ||
      getHeader(rh, 'content-length') !== undefined ||
      getHeader(rh, 'transfer-encoding') !== undefined;
    if (hadLength) head += `content-length: ${req.body.length}\r\n`;
    head += '\r\n';
    const noBody = req.method === 'HEAD';

    // mirrors: fire and forget, Host suffixed with -shadow as Envoy does
    for (const mp of a.mirrors) {
      if (mp.fraction < 1 && Math.random() >= mp.fraction) continue;
      const mc = this.rt.clusters.get(mp.cluster);
      if (mc) shadow(mc, head.replace(/^host: ([^\r:]*)/m, '$&-shadow'), req.body, noBody);
    }

    const hashKey = cluster.config.lbPolicy === 'RING_HASH' ? this.hashKey(ctx, route) : undefined;
    const u = new UpstreamRequest(this, ctx, route, vhost, cluster, head, noBody, hashKey);
    ctx.cancel = u;
    u.attempt();
  }
}

/**
 * Route timeouts of one duration: the requests waiting on it, in deadline order (they were added in
 * time order, so the head is always the earliest), as an intrusive list, and one Node timer armed
 * for the head. Adding and removing a request costs a few field writes where a Timeout per request
 * would allocate and link a timer object: every request has a route timeout (Envoy's 15 s default).
 */
class DeadlineQueue {
  private head: UpstreamRequest | null = null;
  private tail: UpstreamRequest | null = null;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly ms: number) {}

  add(u: UpstreamRequest): void {
    u.deadline = Date.now() + this.ms;
    u.queue = this;
    u.qPrev = this.tail;
    u.qNext = null;
    if (this.tail) this.tail.qNext = u;
    else this.head = u;
    this.tail = u;
    if (this.timer === undefined) this.arm();
  }

  remove(u: UpstreamRequest): void {
    if (u.queue !== this) return;
    if (u.qPrev) u.qPrev.qNext = u.qNext;
    else this.head = u.qNext;
    if (u.qNext) u.qNext.qPrev = u.qPrev;
    else this.tail = u.qPrev;
    u.queue = null;
    u.qPrev = u.qNext = null;
  }

  private arm(): void {
    const h = this.head;
    if (!h) {
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => this.fire(), Math.max(1, h.deadline - Date.now()));
    this.timer.unref(); // the requests' own connections keep the process alive
  }

  private fire(): void {
    const now = Date.now();
    for (let u = this.head; u !== null && u.deadline <= now; u = this.head) {
      this.remove(u);
      u.routeTimeout();
    }
    this.arm();
  }
}

const deadlineQueues = new Map<number, DeadlineQueue>();
function deadlineQueue(ms: number): DeadlineQueue {
  let q = deadlineQueues.get(ms);
  if (!q) deadlineQueues.set(ms, (q = new DeadlineQueue(ms)));
  return q;
}
function onTryTimeout(u: UpstreamRequest, seq: number): void {
  u.tryTimeout(seq);
}
function onBackoff(u: UpstreamRequest): void {
  u.backoffDone();
}

/**
 * One request sent upstream: its attempts (retries on other hosts, backoff), the route and per-try
 * timeouts, and the response relayed downstream. It is the Exchange its upstream connection reports
 * to; callbacks of an attempt given up never reach it (the connection is destroyed or unhooked).
 */
class UpstreamRequest implements Exchange, Cancelable {
  private readonly retry: RetryConfig | undefined;
  private readonly perTry: number;
  private retriesLeft: number;
  private retried = 0;
  private tried: Host[] = [];
  /** Route timeout: the queue this request waits in, its deadline and its neighbours there. */
  queue: DeadlineQueue | null = null;
  deadline = 0;
  qPrev: UpstreamRequest | null = null;
  qNext: UpstreamRequest | null = null;
  private tryTimer: NodeJS.Timeout | undefined = undefined;
  private backoffTimer: NodeJS.Timeout | undefined = undefined;
  private released = false;
  /** The attempt in flight: its number (stale callbacks compare it), host, connection or wait. */
  private seq = 0;
  private live = false;
  private host: Host | undefined = undefined;
  private conn: UpConn | undefined = undefined;
  private waiting: AcquireCallback | undefined = undefined;
  private tStart = 0;
  /** Response of the live attempt: dropped (to retry), chunked downstream, connection kept. */
  private discard = false;
  private chunked = false;
  private keep = true;

  constructor(
    private readonly hcm: HttpConnectionManager,
    private readonly ctx: Ctx,
    private readonly route: RouteConfig,
    private readonly vhost: VirtualHostConfig,
    private readonly cluster: Cluster,
    private readonly reqHead: string,
    private readonly noBody: boolean,
    private readonly hashKey: number | undefined,
  ) {
    const a = route.action as Extract<RouteConfig['action'], { kind: 'route' }>;
    this.retry = a.retry;
    this.perTry = a.retry?.perTryTimeoutMs ?? 0;
    this.retriesLeft = a.retry ? a.retry.numRetries : 0;
    cluster.activeRq++;
    cluster.sRqActive.value++;
    if (a.timeoutMs > 0) deadlineQueue(a.timeoutMs).add(this);
  }

  /** Cancelable: the downstream side went away. */
  cancel(): void {
    this.abortCurrent();
    this.releaseRq();
  }

  private releaseRq(): void {
    if (this.released) return;
    this.released = true;
    this.cluster.activeRq--;
    this.cluster.sRqActive.value--;
    this.queue?.remove(this);
    if (this.tryTimer) clearTimeout(this.tryTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
  }

  /** Gives up the attempt in flight (its connection is closed: its response can no longer come). */
  private abortCurrent(): void {
    if (this.tryTimer) clearTimeout(this.tryTimer);
    this.tryTimer = undefined;
    if (!this.live) return;
    this.live = false;
    if (this.waiting) this.cluster.cancelPending(this.waiting);
    this.waiting = undefined;
    if (this.conn) {
      this.conn.exchange = null;
      this.conn.socket.destroy();
      this.conn = undefined;
    }
    if (this.host) this.host.active--;
    this.host = undefined;
  }

  private fail(status: number, body: string, flag: string): void {
    this.abortCurrent();
    this.releaseRq();
    const ctx = this.ctx;
    if (ctx.headSent) {
      if (ctx.h2 !== undefined) ctx.h2.reset();
      else ctx.conn.socket.destroy();
      return;
    }
    this.hcm.local(
      ctx,
      status,
      body,
      this.retried && flag !== 'UT' ? `${flag},URX` : flag,
      this.route,
      this.vhost,
    );
  }

  routeTimeout(): void {
    this.hcm.stats.inc(`${this.cluster.p}upstream_rq_timeout`);
    this.fail(504, 'upstream request timeout', 'UT');
  }

  tryTimeout(seq: number): void {
    if (seq === this.seq) this.localFailure('timeout');
  }

  private canRetry(kind: 'connect' | 'reset' | 'timeout' | 'grpc' | number): boolean {
    const retry = this.retry;
    if (!retry || this.retriesLeft <= 0 || this.ctx.done) return false;
    const on = retry.on;
    let ok: boolean;
    if (typeof kind === 'number')
      ok =
        (on.has('5xx') && RETRY_STATUS_5XX(kind)) ||
        (on.has('gateway-error') && GATEWAY(kind)) ||
        (on.has('retriable-4xx') && kind === 409) ||
        (on.has('retriable-status-codes') && retry.statusCodes.has(kind));
    else if (kind === 'grpc') ok = true;
    else if (kind === 'connect')
      ok = on.has('connect-failure') || on.has('5xx') || on.has('gateway-error') || on.has('reset');
    else ok = on.has('5xx') || on.has('gateway-error') || on.has('reset');
    if (!ok) return false;
    if (this.cluster.activeRetries >= this.cluster.config.circuit.maxRetries) {
      this.hcm.stats.inc(`${this.cluster.p}upstream_rq_retry_overflow`);
      return false;
    }
    return true;
  }

  private scheduleRetry(): void {
    const retry = this.retry!;
    this.retriesLeft--;
    this.retried++;
    this.hcm.stats.inc(`${this.cluster.p}upstream_rq_retry`);
    this.cluster.activeRetries++;
    const cap = Math.min(retry.baseIntervalMs * 2 ** (this.retried - 1), retry.maxIntervalMs);
    this.backoffTimer = setTimeout(onBackoff, Math.floor(Math.random() * cap), this);
  }

  backoffDone(): void {
    this.cluster.activeRetries--;
    this.backoffTimer = undefined;
    if (!this.ctx.done) this.attempt();
  }

  attempt(): void {
    const cluster = this.cluster;
    const host = cluster.choose(this.hashKey, this.tried.length ? new Set(this.tried) : undefined);
    if (!host) return this.fail(503, 'no healthy upstream', 'UH');
    this.tried.push(host);
    const seq = ++this.seq;
    this.live = true;
    this.host = host;
    this.conn = undefined;
    host.active++;
    host.rqTotal++;
    cluster.sRqTotal.value++;
    this.tStart = Date.now();
    if (this.perTry > 0) this.tryTimer = setTimeout(onTryTimeout, this.perTry, this, seq);
    const cb: AcquireCallback = (err, conn) => this.connected(seq, err, conn);
    this.waiting = cb;
    cluster.acquire(host, cb, this.ctx.h2 !== undefined);
  }

  /** The attempt's connection (or why there is none). */
  private connected(seq: number, err: AcquireError | null, conn?: UpConn): void {
    if (seq !== this.seq || !this.live) {
      if (conn) this.cluster.release(conn, true);
      return;
    }
    this.waiting = undefined;
    if (err === 'overflow') {
      this.abortCurrent();
      return this.fail(
        503,
        'upstream connect error or disconnect/reset before headers. reset reason: overflow',
        'UO',
      );
    }
    if (err || !conn) return this.localFailure('connect');
    this.conn = conn;
    this.ctx.upstreamHost = this.host!.key;
    this.discard = false;
    this.chunked = false;
    this.keep = true;
    conn.send(this.reqHead, this.ctx.req.body, this, this.noBody);
  }

  /** The attempt failed without a response: connect failure, reset, per-try timeout. */
  private localFailure(kind: 'connect' | 'reset' | 'timeout'): void {
    if (!this.live) return;
    const host = this.host!;
    this.abortCurrent();
    this.cluster.report(host, 503);
    host.rqError++;
    const cp = this.cluster.p;
    if (kind === 'timeout') this.hcm.stats.inc(`${cp}upstream_rq_per_try_timeout`);
    if (this.canRetry(kind)) return this.scheduleRetry();
    if (kind === 'timeout') return this.fail(504, 'upstream request timeout', 'UT');
    if (kind === 'connect')
      return this.fail(
        503,
        'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
        'UF',
      );
    return this.fail(
      503,
      'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
      'UC',
    );
  }

  // Exchange: what the upstream connection reports for the live attempt.

  head(rh: ResponseHead): void {
    if (this.tryTimer) clearTimeout(this.tryTimer);
    this.tryTimer = undefined;
    const host = this.host!;
    const cluster = this.cluster;
    const status = rh.status;
    cluster.countResponse(status);
    cluster.report(host, status);
    if (status >= 500) host.rqError++;
    const grpcOn = this.retry?.grpcStatuses;
    if (
      this.canRetry(status) ||
      (grpcOn !== undefined && retryGrpc(grpcOn, rh.headers) && this.canRetry('grpc'))
    ) {
      this.discard = true;
      return;
    }
    const ctx = this.ctx;
    ctx.serviceTime = String(Date.now() - this.tStart);
    const out: Headers = [];
    let hasLength = false;
    const hs = rh.headers;
    for (let i = 0; i < hs.length; i++) {
      const kv = hs[i]!;
      const k = kv[0];
      if (HOP.has(k) || k === 'server' || k === 'date') continue;
      if (k === 'content-length') hasLength = true;
      out.push(kv);
    }
    out.push(['x-envoy-upstream-service-time', ctx.serviceTime]);
    this.hcm.responseOps(ctx, out, this.route, this.vhost);
    const bodyless = this.noBody || status === 204 || status === 304;
    const chunked = !hasLength && !bodyless;
    this.keep = this.hcm.writeHead(ctx, status, out, chunked);
    this.chunked = chunked && ctx.req.version === 1;
  }

  data(b: Buffer): void {
    if (this.discard) return;
    const ctx = this.ctx;
    // bytes from a shared read buffer: copied unless they go out with the head (copied there)
    if (this.conn!.transient && (this.chunked || ctx.pendingHead === undefined)) b = Buffer.from(b);
    ctx.bytesSent += b.length;
    let ok: boolean;
    if (this.chunked) {
      const socket = ctx.conn.socket;
      flushHead(ctx);
      socket.cork();
      socket.write(`${b.length.toString(16)}\r\n`, 'latin1');
      socket.write(b);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else ok = flushHead(ctx, b);
    if (!ok) {
      const up = this.conn!.socket;
      up.pause();
      if (ctx.h2 !== undefined) ctx.h2.onDrain(() => up.resume());
      else ctx.conn.socket.once('drain', () => up.resume());
    }
  }

  end(trailers?: Headers): void {
    if (!this.live) return;
    this.live = false;
    const conn = this.conn!;
    this.host!.active--;
    this.host = undefined;
    this.conn = undefined;
    this.cluster.release(conn, conn.parser.keepAlive);
    if (this.discard) return this.scheduleRetry();
    this.releaseRq();
    const ctx = this.ctx;
    flushHead(ctx);
    if (this.chunked) ctx.conn.socket.write('0\r\n\r\n', 'latin1');
    this.hcm.finish(ctx, this.keep, trailers);
  }

  error(): void {
    if (this.discard && this.live) {
      this.abortCurrent();
      return this.scheduleRetry();
    }
    const ctx = this.ctx;
    if (ctx.headSent) {
      this.abortCurrent();
      this.releaseRq();
      ctx.flags = 'UC';
      if (ctx.h2 !== undefined) ctx.h2.reset();
      else ctx.conn.socket.destroy();
      return;
    }
    this.localFailure('reset');
  }
}

/** A mirrored request: sent, its response read and dropped. */
function shadow(cluster: Cluster, head: string, body: Buffer, noBody: boolean): void {
  const host = cluster.choose();
  if (!host) return;
  cluster.sRqTotal.value++;
  cluster.acquire(host, (err, conn) => {
    if (err || !conn) return;
    conn.send(
      head,
      body,
      {
        head: (h) => cluster.stats.inc(`${cluster.p}upstream_rq_${h.status}`),
        data: () => {},
        end: () => cluster.release(conn, conn.parser.keepAlive),
        error: () => {},
      },
      noBody,
    );
  });
}
