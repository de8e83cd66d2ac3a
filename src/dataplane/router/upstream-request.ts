import type { Headers, ResponseHead } from '../codec/http1.js';
import type { RetryConfig, RouteConfig } from '../config/route.js';
import type { FilterCallbacks } from '../http/filter.js';
import { retryGrpc } from '../http/grpc.js';
import { HOP } from '../http/headers.js';
import type { Cancelable, Ctx } from '../http/stream.js';
import type { Cluster } from '../upstream/cluster.js';
import type { AcquireCallback, AcquireError, Exchange, Host, UpstreamConnection } from '../upstream/host.js';
import { deadlineQueue, type DeadlineQueue, type Deadlined } from './deadline-queue.js';
import type { RouteMatch } from './route-match.js';

const RETRY_STATUS_5XX = (s: number) => s >= 500;
const GATEWAY = (s: number) => s === 502 || s === 503 || s === 504;

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
export class UpstreamRequest implements Exchange, Cancelable, Deadlined {
  private readonly retry: RetryConfig | undefined;
  private readonly perTry: number;
  private retriesLeft: number;
  private retried = 0;
  private tried: Host[] = [];
  /** Route timeout: the queue this request waits in, its deadline and its neighbours there. */
  queue: DeadlineQueue | null = null;
  deadline = 0;
  qPrev: Deadlined | null = null;
  qNext: Deadlined | null = null;
  private tryTimer: NodeJS.Timeout | undefined = undefined;
  private backoffTimer: NodeJS.Timeout | undefined = undefined;
  private released = false;
  /** The attempt in flight: its number (stale callbacks compare it), host, connection or wait. */
  private seq = 0;
  private live = false;
  private host: Host | undefined = undefined;
  private conn: UpstreamConnection | undefined = undefined;
  private waiting: AcquireCallback | undefined = undefined;
  private tStart = 0;
  /** Response of the live attempt: dropped (to retry), downstream connection kept. */
  private discard = false;
  private keep = true;

  constructor(
    private readonly hcm: FilterCallbacks,
    private readonly ctx: Ctx,
    private readonly m: RouteMatch,
    private readonly cluster: Cluster,
    private readonly reqHead: string,
    private readonly noBody: boolean,
    private readonly hashKey: number | undefined,
  ) {
    const a = m.route.action as Extract<RouteConfig['action'], { kind: 'route' }>;
    this.retry = a.retry;
    this.perTry = a.retry?.perTryTimeoutMs ?? 0;
    this.retriesLeft = a.retry ? a.retry.numRetries : 0;
    cluster.activeRq++;
    cluster.sRqActive.value++;
    if (a.timeoutMs > 0) deadlineQueue(a.timeoutMs).add(this);
    // a retry resends the body: it is kept, up to the buffer limit (then the retries are off)
    const body = ctx.req.bodyStream;
    if (body !== undefined && this.retriesLeft > 0)
      body.keep(() => {
        this.retriesLeft = 0;
        hcm.stats.inc(`${cluster.p}retry_or_shadow_abandoned`);
      });
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
    this.ctx.req.bodyStream?.detach();
  }

  private fail(status: number, body: string, flag: string): void {
    this.abortCurrent();
    this.releaseRq();
    const ctx = this.ctx;
    if (ctx.headSent) return ctx.encoder.reset();
    this.hcm.local(ctx, status, body, this.retried && flag !== 'UT' ? `${flag},URX` : flag, this.m);
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
    if (this.ctx.req.bodyStream?.replayable === false) return false;
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
    cluster.acquire(host, cb, this.ctx.req.version === 2);
  }

  /** The attempt's connection (or why there is none). */
  private connected(seq: number, err: AcquireError | null, conn?: UpstreamConnection): void {
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
    this.keep = true;
    const req = this.ctx.req;
    conn.send(this.reqHead, req.bodyStream ?? req.body, this, this.noBody);
  }

  /** The attempt failed without a response: connect failure, reset, per-try timeout. */
  private localFailure(kind: 'connect' | 'reset' | 'timeout' | 'protocol'): void {
    if (!this.live) return;
    const host = this.host!;
    this.abortCurrent();
    this.cluster.report(host, 503);
    host.rqError++;
    const cp = this.cluster.p;
    if (kind === 'timeout') this.hcm.stats.inc(`${cp}upstream_rq_per_try_timeout`);
    if (this.canRetry(kind === 'protocol' ? 'reset' : kind)) return this.scheduleRetry();
    if (kind === 'timeout') return this.fail(504, 'upstream request timeout', 'UT');
    if (kind === 'protocol')
      return this.fail(
        502,
        'upstream connect error or disconnect/reset before headers. reset reason: protocol error',
        'UPE',
      );
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
    this.hcm.encodeHeaders(ctx, status, out, this.m);
    const bodyless = this.noBody || status === 204 || status === 304;
    this.keep = this.hcm.writeHead(ctx, status, out, !hasLength && !bodyless);
  }

  data(b: Buffer): void {
    if (this.discard) return;
    const ctx = this.ctx;
    if (this.hcm.sendData(ctx, b, this.conn!.transient)) return;
    const up = this.conn!.socket;
    up.pause();
    ctx.encoder.onDrain(() => up.resume());
  }

  end(trailers?: Headers): void {
    if (!this.live) return;
    this.live = false;
    const conn = this.conn!;
    this.host!.active--;
    this.host = undefined;
    this.conn = undefined;
    // a response that ended before the request body was all sent: the connection cannot be reused
    const body = this.ctx.req.bodyStream;
    const sent = body === undefined || body.complete;
    body?.detach();
    this.cluster.release(conn, sent && conn.parser.keepAlive);
    if (this.discard) return this.scheduleRetry();
    this.releaseRq();
    this.hcm.finish(this.ctx, this.keep, trailers);
  }

  error(kind: 'reset' | 'protocol' = 'reset'): void {
    if (this.discard && this.live) {
      this.abortCurrent();
      return this.scheduleRetry();
    }
    const ctx = this.ctx;
    if (ctx.headSent) {
      this.abortCurrent();
      this.releaseRq();
      ctx.flags = 'UC';
      return ctx.encoder.reset();
    }
    this.localFailure(kind);
  }
}
