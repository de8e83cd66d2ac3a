import type net from 'node:net';
import type { Stat, Stats } from '../admin/stats.js';
import { H2Listener } from '../codec/h2.js';
import { bodyBytes, getHeader, type CodecLimits, type Headers, type ParsedRequest } from '../codec/http1.js';
import { Http1Connection } from '../codec/http1-server.js';
import type { CodecCallbacks, DownConnection, ResponseEncoder } from '../codec/stream.js';
import type { HcmConfig } from '../config/hcm.js';
import { closeIdleHttp1 } from '../listener/drain.js';
import { HTTP_FILTERS } from '../filters/registry.js';
import { matchRoute, type RouteMatch } from '../router/route-match.js';
import type { Runtime } from '../runtime.js';
import type { FilterCallbacks, HttpFilter } from './filter.js';
import { grpcLocalReply } from './grpc.js';
import { applyOps, hasOps, stripPort } from './headers.js';
import { mutateRequestHeaders } from './edge.js';
import { admitPath } from './path.js';
import { Ctx } from './stream.js';

/**
 * The HTTP connection manager of one filter chain (envoy.filters.network.http_connection_manager):
 * its downstream connections (HTTP/1.1 or HTTP/2, codec/), each request a stream (Ctx) through
 * the HTTP filters (filters/, the router last), local replies, the response head and the access log.
 */
export class HttpConnectionManager implements CodecCallbacks, FilterCallbacks {
  readonly p: string;
  readonly stats: Stats;
  private readonly conns = new Set<Http1Connection>();
  /** HTTP/2 connections (codec_type AUTO or HTTP2). */
  private readonly h2: H2Listener | undefined;
  /** The HTTP filters, in order (the router last), and those that see the response head, reversed. */
  private readonly filters: HttpFilter[];
  private readonly encoders: HttpFilter[];
  private readonly dataObservers: HttpFilter[];
  private readonly dataDecoders: HttpFilter[];
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
    this.filters = cfg.filters.map((f, i) => HTTP_FILTERS.get(f.type)!.create(f.config, this, i));
    this.encoders = this.filters.filter((f) => f.encodeHeaders).reverse();
    this.dataObservers = this.filters.filter((f) => f.encodeData).reverse();
    this.dataDecoders = this.filters.filter((f) => f.decodeData);
    this.h2 = cfg.codec === 'HTTP1' ? undefined : new H2Listener(this, cfg.codec, cfg.http2);
  }

  get draining(): boolean {
    return this.rt.draining;
  }

  get limits(): CodecLimits {
    return this.cfg.http1;
  }

  onConnection(socket: net.Socket, principal: string[] | null = null): void {
    this.stats.inc(`${this.p}downstream_cx_total`);
    this.stats.gauge(`${this.p}downstream_cx_active`, 1);
    // HTTP/2 by ALPN or the connection preface (codec/h2.ts), else HTTP/1.1
    if (this.h2 !== undefined) this.h2.accept(socket, principal);
    else this.http1(socket, principal);
  }

  http1(socket: net.Socket, principal: string[] | null): void {
    this.stats.inc(`${this.p}downstream_cx_http1_total`);
    this.conns.add(new Http1Connection(socket, this, principal));
  }

  connectionClosed(c: object): void {
    if (this.conns.delete(c as Http1Connection)) this.stats.gauge(`${this.p}downstream_cx_active`, -1);
  }

  /**
   * Drain (listener/drain.ts): HTTP/1 responses now carry `connection: close` (the codec reads
   * `draining`), HTTP/2 sessions get the shutdown notice; no idle connection is closed yet, since its
   * client may be writing its next request on it.
   */
  drain(): void {
    this.h2?.drain();
  }

  /** The drain time is over: idle HTTP/1 connections close, HTTP/2 sessions get the final GOAWAY. */
  closeIdle(): void {
    closeIdleHttp1(this.conns);
    this.h2?.closeIdle();
  }

  get activeConnections(): number {
    return this.conns.size + (this.h2 ? this.h2.sessions.size : 0);
  }

  /** downstream_rq_<N>xx */
  countResponse(status: number): void {
    const n = (status / 100) | 0;
    (this.sRqClass[n] ??= this.stats.counter(`${this.p}downstream_rq_${n}xx`)).value++;
  }

  codecReply(status: number): void {
    this.sRqTotal.value++;
    this.countResponse(status);
  }

  /** A request from a codec: a new stream through the filter chain. */
  newStream(conn: DownConnection, req: ParsedRequest, encoder: ResponseEncoder): void {
    // x-envoy-* a client may not set, x-forwarded-proto, x-request-id (http/edge.ts), before any filter
    mutateRequestHeaders(req.headers, this.cfg, conn.remoteIp, this.scheme);
    const host = getHeader(req.headers, 'host') ?? '';
    const authority = this.cfg.stripAnyHostPort ? stripPort(host) : host;
    const ctx = new Ctx(req, conn, authority, encoder, this.onReset);
    conn.active = ctx;
    this.sRqTotal.value++;
    // the path every filter, route and the upstream see (http/path.ts): normalized, or refused
    const refused = admitPath(req, this.cfg.path);
    if (refused) {
      this.stats.inc(`${this.p}${refused.stat}`);
      return this.local(ctx, refused.status, '', ctx.flags, undefined, refused.headers);
    }
    if (this.dataDecoders.length > 0) this.observeBody(ctx);
    this.decode(ctx, 0);
  }

  /** The filters' decodeData: the body's bytes as they arrive, then its end. */
  private observeBody(ctx: Ctx): void {
    const fs = this.dataDecoders;
    const body = ctx.req.bodyStream;
    if (body === undefined) {
      for (const f of fs) f.decodeData!(ctx, ctx.req.body, true);
      return;
    }
    body.observer = (b) => {
      for (const f of fs) f.decodeData!(ctx, b, false);
    };
    body.whenEnded(() => {
      for (const f of fs) f.decodeData!(ctx, EMPTY, true);
    });
  }

  /** The downstream went away before the response ended: the access log line. */
  private readonly onReset = (ctx: Ctx): void => this.log(ctx);

  routeOf(ctx: Ctx): RouteMatch | undefined {
    if (ctx.route === undefined) ctx.route = matchRoute(this.cfg.routes, ctx) ?? null;
    return ctx.route ?? undefined;
  }

  /**
   * Runs the filters' decodeHeaders from index i; a filter that stops the chain answered or calls
   * continueDecoding. The body meanwhile waits in its RequestBody (codec/body.ts).
   */
  private decode(ctx: Ctx, i: number): void {
    const filters = this.filters;
    for (; i < filters.length; i++)
      if (filters[i]!.decodeHeaders(ctx) === 'stop') {
        ctx.resumeAt = i + 1;
        return;
      }
  }

  continueDecoding(ctx: Ctx): void {
    if (!ctx.done) this.decode(ctx, ctx.resumeAt);
  }

  local(
    ctx: Ctx,
    status: number,
    body: string,
    flags: string,
    route?: RouteMatch,
    extra: Headers = [],
  ): void {
    if (ctx.done) return;
    ctx.flags = flags;
    const g = grpcLocalReply(ctx.req, status, body, extra);
    if (g !== undefined) {
      // as Envoy for a gRPC request: HTTP 200 with grpc-status, trailers-only
      this.encodeHeaders(ctx, 200, g, route);
      this.writeHead(ctx, 200, g, false);
      ctx.status = status;
      return this.finish(ctx, true);
    }
    const h: Headers = [...extra];
    if (body) h.push(['content-length', String(Buffer.byteLength(body))], ['content-type', 'text/plain']);
    else h.push(['content-length', '0']);
    this.encodeHeaders(ctx, status, h, route);
    this.writeHead(ctx, status, h, false);
    if (body && ctx.req.method !== 'HEAD') this.sendData(ctx, Buffer.from(body), false);
    this.finish(ctx, true);
  }

  encodeHeaders(ctx: Ctx, status: number, h: Headers, m?: RouteMatch): void {
    if (m) {
      if (hasOps(m.route.response)) applyOps(h, m.route.response, ctx);
      if (hasOps(m.vhost.response)) applyOps(h, m.vhost.response, ctx);
      if (this.configResponseOps) applyOps(h, this.cfg.routes.response, ctx);
    }
    for (const f of this.encoders) f.encodeHeaders!(ctx, status, h);
  }

  writeHead(ctx: Ctx, status: number, h: Headers, chunked: boolean): boolean {
    ctx.status = status;
    ctx.headSent = true;
    const keep = ctx.encoder.head(status, h, chunked);
    this.countResponse(status);
    return keep;
  }

  sendData(ctx: Ctx, b: Buffer, shared: boolean): boolean {
    ctx.bytesSent += b.length;
    for (const f of this.dataObservers) f.encodeData!(ctx, b);
    return ctx.encoder.write(b, shared);
  }

  finish(ctx: Ctx, keepAlive: boolean, trailers?: Headers): void {
    if (ctx.done) return;
    ctx.done = true;
    this.sRqCompleted.value++;
    this.log(ctx);
    ctx.encoder.end(keepAlive, trailers);
  }

  log(ctx: Ctx): void {
    if (!this.cfg.accessLogs.length) return;
    const r = ctx.req;
    const g = (n: string) => getHeader(r.headers, n) ?? '-';
    const line =
      `[${new Date(ctx.start).toISOString()}] "${r.method} ${ctx.originalPath ?? r.path} ${ctx.protocol}" ` +
      `${ctx.status || 0} ${ctx.flags} ${bodyBytes(r)} ${ctx.bytesSent} ${Date.now() - ctx.start} ${ctx.serviceTime} ` +
      `"${g('x-forwarded-for')}" "${g('user-agent')}" "${ctx.requestId ?? g('x-request-id')}" "${ctx.authority || '-'}" "${ctx.upstreamHost}"\n`;
    for (const l of this.cfg.accessLogs) this.rt.logger(l.path).write(line);
  }
}

const EMPTY = Buffer.alloc(0);
