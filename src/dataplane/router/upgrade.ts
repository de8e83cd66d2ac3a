import type net from 'node:net';
import { getHeader, MAX_HEADER_BYTES, ResponseParser, type Headers } from '../codec/http1.js';
import type { FilterCallbacks } from '../http/filter.js';
import { HOP } from '../http/headers.js';
import type { Ctx } from '../http/stream.js';
import { dial } from '../listener/tls.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import { overflowed, ringHashKey } from './forward.js';
import { upstreamHead } from './request-headers.js';
import type { RouteMatch } from './route-match.js';

/**
 * HTTP/1.1 upgrades (WebSocket) as Envoy's upgrade_configs: the request is routed as usual, sent
 * on a fresh upstream connection with its Upgrade and Connection headers; a 101 answer goes
 * downstream and both sockets are then piped byte for byte until either closes; any other answer
 * is forwarded as a response (and the downstream connection closed after it).
 */

/** Envoy's rule: the route's upgrade_configs entry decides if present, else the HCM's. */
export function upgradeAllowed(
  hcm: Map<string, boolean>,
  route: Map<string, boolean> | undefined,
  type: string,
): boolean {
  const t = type.toLowerCase();
  const r = route?.get(t);
  if (r !== undefined) return r;
  return hcm.get(t) === true;
}

/** An upgrade request: `Connection` carries the `upgrade` token (Envoy's Utility::isUpgrade). */
export function connectionUpgrade(headers: Headers): boolean {
  const c = getHeader(headers, 'connection');
  if (!c) return false;
  for (const t of c.split(',')) if (t.trim().toLowerCase() === 'upgrade') return true;
  return false;
}

/** Envoy's default stream_idle_timeout (5 min) applies to an upgraded stream. */
const TUNNEL_IDLE_MS = 300_000;

const CRLFCRLF = Buffer.from('\r\n\r\n');

function parseHead(head: string): { status: number; headers: Headers } | null {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
  if (!m) return null;
  const headers: Headers = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const c = l.indexOf(':');
    if (c <= 0) return null;
    headers.push([l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim()]);
  }
  return { status: Number(m[1]), headers };
}

const CONNECT_FAILURE =
  'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
const PROTOCOL_ERROR =
  'upstream connect error or disconnect/reset before headers. reset reason: protocol error';

/** Routes an upgrade request to cluster: a fresh upstream connection, then a tunnel or a response. */
export function forwardUpgrade(
  cb: FilterCallbacks,
  ctx: Ctx,
  m: RouteMatch,
  cluster: Cluster,
  upgrade: string,
): void {
  new UpgradeRequest(cb, ctx, m, cluster, upgrade).start();
}

/** One upgrade request: its upstream connection, the response head, then the tunnel or a response. */
class UpgradeRequest {
  private readonly p: string;
  private readonly cp: string;
  private state: 'head' | 'response' | 'tunnel' | 'done' = 'head';
  private upgradeActive = true;
  private connected = false;
  private released = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private host!: Host;
  private up!: net.Socket;
  private tStart = 0;
  /** The response head as it arrives, then (not a 101) the response's parser. */
  private buf: Buffer | null = null;
  private parser: ResponseParser | null = null;

  constructor(
    private readonly cb: FilterCallbacks,
    private readonly ctx: Ctx,
    private readonly m: RouteMatch,
    private readonly cluster: Cluster,
    private readonly upgrade: string,
  ) {
    this.p = cb.p;
    this.cp = cluster.p;
  }

  start(): void {
    const { cb, ctx, cluster, m } = this;
    cb.stats.inc(`${this.p}downstream_cx_upgrades_total`);
    cb.stats.gauge(`${this.p}downstream_cx_upgrades_active`, 1);
    if (overflowed(cb, ctx, cluster, m)) return this.endUpgrade();
    const host = cluster.choose(ringHashKey(ctx, cluster, m));
    if (!host) {
      this.endUpgrade();
      return cb.local(ctx, 503, 'no healthy upstream', 'UH', m);
    }
    const a = m.route.action;
    // the upstream request head, as forward() builds it, keeping Upgrade and Connection
    const timeoutMs = a.kind === 'route' ? a.timeoutMs : 0;
    this.open(host, upstreamHead(cb, ctx, m, timeoutMs, this.upgrade), timeoutMs);
  }

  /** Connects to host, sends the head (and body), starts the connect and route timers. */
  private open(host: Host, head: string, timeoutMs: number): void {
    const { cb, ctx, cluster, cp } = this;
    const stats = cb.stats;
    this.host = host;
    cluster.activeRq++;
    stats.gauge(`${cp}upstream_rq_active`, 1);
    stats.inc(`${cp}upstream_rq_total`);
    host.active++;
    host.rqTotal++;
    host.cxActive++;
    stats.inc(`${cp}upstream_cx_total`);
    stats.gauge(`${cp}upstream_cx_active`, 1);
    ctx.upstreamHost = host.key;
    this.tStart = Date.now();
    const { socket: up, readyEvent } = dial(host.address.host, host.address.port, cluster.config.tls);
    this.up = up;
    up.setNoDelay(true);
    up.on('error', () => {});
    up.once('close', () => {
      host.cxActive--;
      stats.gauge(`${cp}upstream_cx_active`, -1);
    });
    ctx.cancel = { cancel: () => this.abort() };
    this.timers.push(setTimeout(() => this.connectTimeout(), cluster.config.connectTimeoutMs));
    // the route timeout runs until the response head (not in the tunnel, as in Envoy)
    if (timeoutMs > 0) this.timers.push(setTimeout(() => this.routeTimeout(), timeoutMs));
    const body = ctx.req.body;
    up.once(readyEvent, () => {
      this.connected = true;
      const out = Buffer.allocUnsafe(head.length + body.length);
      out.write(head, 0, 'latin1');
      body.copy(out, head.length);
      up.write(out);
    });
    up.on('data', (d: Buffer) => this.onData(d));
    up.on('close', () => this.onClose());
  }

  private endUpgrade(): void {
    if (!this.upgradeActive) return;
    this.upgradeActive = false;
    this.cb.stats.gauge(`${this.p}downstream_cx_upgrades_active`, -1);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    for (const t of this.timers) clearTimeout(t);
    this.cluster.activeRq--;
    this.cb.stats.gauge(`${this.cp}upstream_rq_active`, -1);
    this.host.active--;
    this.endUpgrade();
  }

  /** The downstream went away. */
  private abort(): void {
    this.state = 'done';
    this.up.destroy();
    this.release();
  }

  /** Before anything went downstream: a local reply, the upstream connection closed. */
  private fail(status: number, body: string, flag: string): void {
    if (this.state === 'done') return;
    this.abort();
    this.ctx.req.keepAlive = false; // bytes the client sent after its upgrade request are not HTTP
    this.cb.local(this.ctx, status, body, flag, this.m);
  }

  private connectTimeout(): void {
    if (this.connected) return;
    this.cb.stats.inc(`${this.cp}upstream_cx_connect_timeout`);
    this.cb.stats.inc(`${this.cp}upstream_cx_connect_fail`);
    this.cluster.report(this.host, 503);
    this.fail(503, CONNECT_FAILURE, 'UF');
  }

  private routeTimeout(): void {
    this.cb.stats.inc(`${this.cp}upstream_rq_timeout`);
    this.cluster.report(this.host, 503);
    this.fail(504, 'upstream request timeout', 'UT');
  }

  private onData(d: Buffer): void {
    if (this.state === 'response') {
      try {
        this.parser!.push(d);
      } catch {
        this.fail(502, PROTOCOL_ERROR, 'UPE');
      }
      return;
    }
    if (this.state !== 'head') return;
    let buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        this.buf = buf;
        if (buf.length > MAX_HEADER_BYTES) this.fail(502, 'upstream response headers too large', 'UPE');
        return;
      }
      const parsed = parseHead(buf.toString('latin1', 0, end));
      if (!parsed) return this.fail(502, 'malformed upstream response', 'UPE');
      if (parsed.status === 100) {
        buf = buf.subarray(end + 4);
        continue;
      }
      this.buf = null;
      return this.onHead(parsed.status, parsed.headers, buf, end + 4);
    }
  }

  /** The response head (not a 100): a 101 opens the tunnel, anything else is a response. */
  private onHead(status: number, headers: Headers, buf: Buffer, bodyAt: number): void {
    for (const t of this.timers) clearTimeout(t);
    this.cb.stats.inc(`${this.cp}upstream_rq_${status}`);
    this.cb.stats.inc(`${this.cp}upstream_rq_${(status / 100) | 0}xx`);
    this.cluster.report(this.host, status);
    this.ctx.serviceTime = String(Date.now() - this.tStart);
    if (status === 101) return this.tunnel(headers, buf.subarray(bodyAt));
    this.response(buf);
  }

  private onClose(): void {
    const state = this.state;
    if (state !== 'head' && state !== 'response') return;
    if (state === 'response' && this.parser!.eof()) return;
    this.cluster.report(this.host, 503);
    if (!this.connected) {
      this.cb.stats.inc(`${this.cp}upstream_cx_connect_fail`);
      return this.fail(503, CONNECT_FAILURE, 'UF');
    }
    this.fail(
      503,
      'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
      'UC',
    );
  }

  /** A non-101 answer: read whole, then sent as a response; the downstream connection closes after it. */
  private response(bytes: Buffer): void {
    this.state = 'response';
    let status = 0;
    let rh: Headers = [];
    const chunks: Buffer[] = [];
    let size = 0;
    const parser = new ResponseParser(
      (x) => {
        status = x.status;
        rh = x.headers;
      },
      (b) => {
        size += b.length;
        if (size > this.cb.cfg.http1.bufferLimitBytes) throw new Error('upstream body too large');
        chunks.push(b);
      },
      () => this.respond(status, rh, Buffer.concat(chunks)),
    );
    this.parser = parser;
    parser.reset(this.ctx.req.method === 'HEAD');
    try {
      parser.push(bytes);
    } catch {
      this.fail(502, PROTOCOL_ERROR, 'UPE');
    }
  }

  private respond(status: number, rh: Headers, body: Buffer): void {
    if (this.state !== 'response') return;
    this.abort();
    const { cb, ctx } = this;
    const out: Headers = [];
    for (const kv of rh) {
      const k = kv[0];
      if (HOP.has(k) || k === 'server' || k === 'date' || k === 'content-length') continue;
      out.push(kv);
    }
    out.push(['x-envoy-upstream-service-time', ctx.serviceTime]);
    cb.encodeHeaders(ctx, status, out, this.m);
    const bodyless = ctx.req.method === 'HEAD' || status === 204 || status === 304;
    if (!bodyless) out.push(['content-length', String(body.length)]);
    ctx.req.keepAlive = false;
    cb.writeHead(ctx, status, out, false);
    if (!bodyless && body.length) cb.sendData(ctx, body, false);
    cb.finish(ctx, false);
  }

  /** The 101: goes downstream, then both sockets are piped until either closes. */
  private tunnel(rh: Headers, rest: Buffer): void {
    this.state = 'tunnel';
    const { cb, ctx, up } = this;
    const down = ctx.conn.socket;
    const out: Headers = [];
    for (const kv of rh) {
      const k = kv[0];
      if (k === 'server' || k === 'date' || k === 'content-length' || k === 'transfer-encoding') continue;
      out.push(kv);
    }
    out.push(['x-envoy-upstream-service-time', ctx.serviceTime]);
    cb.encodeHeaders(ctx, 101, out, this.m);
    let s = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (const kv of out) s += `${kv[0]}: ${kv[1]}\r\n`;
    s += `date: ${new Date().toUTCString()}\r\nserver: envoy\r\n\r\n`;
    ctx.status = 101;
    ctx.headSent = true;
    ctx.done = true; // the access log line is written when the tunnel closes
    ctx.cancel = undefined;
    cb.stats.inc(`${this.p}downstream_rq_1xx`);
    cb.stats.inc(`${this.p}downstream_rq_completed`);
    // the downstream socket leaves the HTTP codec: bytes it already buffered go upstream first
    const early = ctx.conn.detach?.() ?? null;
    if (early) up.write(early);
    down.write(s, 'latin1');
    if (rest.length) {
      ctx.bytesSent += rest.length;
      down.write(rest);
    }
    up.on('data', (d: Buffer) => {
      ctx.bytesSent += d.length;
    });
    this.pipe(down);
  }

  private pipe(down: net.Socket): void {
    const { up, ctx } = this;
    down.pipe(up);
    up.pipe(down);
    down.setTimeout(TUNNEL_IDLE_MS, () => {
      ctx.flags = 'SI';
      down.destroy();
    });
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      down.destroy();
      up.destroy();
      this.release();
      this.cb.log(ctx);
    };
    down.once('close', close);
    up.once('close', close);
    if (down.destroyed) close();
  }
}
