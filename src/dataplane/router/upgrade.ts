import { randomUUID } from 'node:crypto';
import type { RouteConfig, VirtualHostConfig } from '../config/route.js';
import { getHeader, MAX_BODY_BYTES, MAX_HEADER_BYTES, ResponseParser, type Headers } from '../codec/http1.js';
import {
  applyOps,
  DownConn,
  flushHead,
  HOP,
  type Ctx,
  type HttpConnectionManager,
} from '../http/conn-manager.js';
import { rewritePath } from './route-match.js';
import { dial } from '../listener/tls.js';
import type { Cluster } from '../upstream/cluster.js';

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

export function forwardUpgrade(
  hcm: HttpConnectionManager,
  ctx: Ctx,
  route: RouteConfig,
  vhost: VirtualHostConfig,
  cluster: Cluster,
  upgrade: string,
): void {
  const a = route.action;
  if (a.kind !== 'route') return;
  const stats = hcm.stats;
  const p = hcm.p;
  const cp = cluster.p;
  const req = ctx.req;
  stats.inc(`${p}downstream_cx_upgrades_total`);
  stats.gauge(`${p}downstream_cx_upgrades_active`, 1);
  let upgradeActive = true;
  const endUpgrade = () => {
    if (!upgradeActive) return;
    upgradeActive = false;
    stats.gauge(`${p}downstream_cx_upgrades_active`, -1);
  };
  if (hcm.overflowed(ctx, cluster, route, vhost)) return endUpgrade();
  const host = cluster.choose(cluster.config.lbPolicy === 'RING_HASH' ? hcm.hashKey(ctx, route) : undefined);
  if (!host) {
    endUpgrade();
    return hcm.local(ctx, 503, 'no healthy upstream', 'UH', route, vhost);
  }

  // the upstream request head, as forward() builds it, keeping Upgrade and Connection
  const cfg = hcm.cfg;
  const path = rewritePath(route, req.path);
  const h: Headers = [];
  let hasXfp = false;
  let xff: string | undefined;
  for (const kv of req.headers) {
    const k = kv[0];
    if (HOP.has(k) || k === 'host' || k === 'content-length') continue;
    if (k === 'x-request-id') ctx.requestId = kv[1];
    else if (k === 'x-forwarded-proto') hasXfp = true;
    else if (k === 'x-forwarded-for' && cfg.useRemoteAddress) {
      xff = xff === undefined ? kv[1] : `${xff},${kv[1]}`;
      continue;
    }
    h.push(kv);
  }
  if (cfg.useRemoteAddress)
    h.push(['x-forwarded-for', xff ? `${xff},${ctx.conn.remoteIp}` : ctx.conn.remoteIp]);
  if (!hasXfp) h.push(['x-forwarded-proto', hcm.scheme]);
  if (!ctx.requestId && cfg.generateRequestId) {
    ctx.requestId = randomUUID();
    h.push(['x-request-id', ctx.requestId]);
  }
  if (path !== req.path) {
    ctx.originalPath = req.path;
    h.push(['x-envoy-original-path', req.path]);
  }
  if (a.timeoutMs > 0) h.push(['x-envoy-expected-rq-timeout-ms', String(a.timeoutMs)]);
  applyOps(h, route.request, ctx);
  applyOps(h, vhost.request, ctx);
  applyOps(h, cfg.routes.request, ctx);
  let head = `${req.method} ${path} HTTP/1.1\r\nhost: ${a.hostRewrite ?? ctx.authority}\r\n`;
  for (const kv of h) head += `${kv[0]}: ${kv[1]}\r\n`;
  head += `connection: Upgrade\r\nupgrade: ${upgrade}\r\n`;
  if (req.body.length) head += `content-length: ${req.body.length}\r\n`;
  head += '\r\n';

  cluster.activeRq++;
  stats.gauge(`${cp}upstream_rq_active`, 1);
  stats.inc(`${cp}upstream_rq_total`);
  host.active++;
  host.rqTotal++;
  host.cxActive++;
  stats.inc(`${cp}upstream_cx_total`);
  stats.gauge(`${cp}upstream_cx_active`, 1);
  ctx.upstreamHost = host.key;
  const tStart = Date.now();
  const { socket: up, readyEvent } = dial(host.address.host, host.address.port, cluster.config.tls);
  up.setNoDelay(true);
  up.on('error', () => {});
  let connected = false;
  let state: 'head' | 'response' | 'tunnel' | 'done' = 'head';
  let released = false;
  const timers: NodeJS.Timeout[] = [];
  const release = () => {
    if (released) return;
    released = true;
    for (const t of timers) clearTimeout(t);
    cluster.activeRq--;
    stats.gauge(`${cp}upstream_rq_active`, -1);
    host.active--;
    endUpgrade();
  };
  up.once('close', () => {
    host.cxActive--;
    stats.gauge(`${cp}upstream_cx_active`, -1);
  });
  /** Before anything went downstream: a local reply, the upstream connection closed. */
  const fail = (status: number, body: string, flag: string) => {
    if (state === 'done') return;
    state = 'done';
    up.destroy();
    release();
    req.keepAlive = false; // bytes the client sent after its upgrade request are not HTTP
    hcm.local(ctx, status, body, flag, route, vhost);
  };
  ctx.cancel = {
    cancel: () => {
      state = 'done';
      up.destroy();
      release();
    },
  };
  timers.push(
    setTimeout(() => {
      if (connected) return;
      stats.inc(`${cp}upstream_cx_connect_timeout`);
      stats.inc(`${cp}upstream_cx_connect_fail`);
      cluster.report(host, 503);
      fail(
        503,
        'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
        'UF',
      );
    }, cluster.config.connectTimeoutMs),
  );
  // the route timeout runs until the response head (not in the tunnel, as in Envoy)
  if (a.timeoutMs > 0)
    timers.push(
      setTimeout(() => {
        stats.inc(`${cp}upstream_rq_timeout`);
        cluster.report(host, 503);
        fail(504, 'upstream request timeout', 'UT');
      }, a.timeoutMs),
    );
  up.once(readyEvent, () => {
    connected = true;
    const out = Buffer.allocUnsafe(head.length + req.body.length);
    out.write(head, 0, 'latin1');
    req.body.copy(out, head.length);
    up.write(out);
  });

  let buf: Buffer | null = null;
  let parser: ResponseParser | null = null;
  up.on('data', (d: Buffer) => {
    if (state === 'response') {
      try {
        parser!.push(d);
      } catch {
        fail(
          502,
          'upstream connect error or disconnect/reset before headers. reset reason: protocol error',
          'UPE',
        );
      }
      return;
    }
    if (state !== 'head') return;
    buf = buf ? Buffer.concat([buf, d]) : d;
    for (;;) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > MAX_HEADER_BYTES) fail(502, 'upstream response headers too large', 'UPE');
        return;
      }
      const parsed = parseHead(buf.toString('latin1', 0, end));
      if (!parsed) return fail(502, 'malformed upstream response', 'UPE');
      if (parsed.status === 100) {
        buf = buf.subarray(end + 4);
        continue;
      }
      for (const t of timers) clearTimeout(t);
      stats.inc(`${cp}upstream_rq_${parsed.status}`);
      stats.inc(`${cp}upstream_rq_${(parsed.status / 100) | 0}xx`);
      cluster.report(host, parsed.status);
      ctx.serviceTime = String(Date.now() - tStart);
      if (parsed.status === 101) return tunnel(parsed.headers, buf.subarray(end + 4));
      return response(buf);
    }
  });
  up.on('close', () => {
    if (state === 'head' || state === 'response') {
      if (state === 'response' && parser!.eof()) return;
      if (!connected) {
        stats.inc(`${cp}upstream_cx_connect_fail`);
        cluster.report(host, 503);
        return fail(
          503,
          'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
          'UF',
        );
      }
      cluster.report(host, 503);
      fail(
        503,
        'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
        'UC',
      );
    }
  });

  /** A non-101 answer: read whole, then sent as a response; the downstream connection closes after it. */
  const response = (bytes: Buffer) => {
    state = 'response';
    let status = 0;
    let rh: Headers = [];
    const chunks: Buffer[] = [];
    let size = 0;
    parser = new ResponseParser(
      (x) => {
        status = x.status;
        rh = x.headers;
      },
      (b) => {
        size += b.length;
        if (size > MAX_BODY_BYTES) throw new Error('upstream body too large');
        chunks.push(b);
      },
      () => {
        if (state !== 'response') return;
        state = 'done';
        up.destroy();
        release();
        const body = Buffer.concat(chunks);
        const out: Headers = [];
        for (const kv of rh) {
          const k = kv[0];
          if (HOP.has(k) || k === 'server' || k === 'date' || k === 'content-length') continue;
          out.push(kv);
        }
        out.push(['x-envoy-upstream-service-time', ctx.serviceTime]);
        hcm.responseOps(ctx, out, route, vhost);
        const bodyless = req.method === 'HEAD' || status === 204 || status === 304;
        if (!bodyless) out.push(['content-length', String(body.length)]);
        req.keepAlive = false;
        hcm.writeHead(ctx, status, out, false);
        if (!bodyless && body.length) {
          flushHead(ctx, body);
          ctx.bytesSent += body.length;
        } else flushHead(ctx);
        hcm.finish(ctx, false);
      },
    );
    parser.reset(req.method === 'HEAD');
    try {
      parser.push(bytes);
    } catch {
      fail(
        502,
        'upstream connect error or disconnect/reset before headers. reset reason: protocol error',
        'UPE',
      );
    }
  };

  /** The 101: goes downstream, then both sockets are piped until either closes. */
  const tunnel = (rh: Headers, rest: Buffer) => {
    state = 'tunnel';
    const down = ctx.conn.socket;
    const out: Headers = [];
    for (const kv of rh) {
      const k = kv[0];
      if (k === 'server' || k === 'date' || k === 'content-length' || k === 'transfer-encoding') continue;
      out.push(kv);
    }
    out.push(['x-envoy-upstream-service-time', ctx.serviceTime]);
    hcm.responseOps(ctx, out, route, vhost);
    let s = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (const kv of out) s += `${kv[0]}: ${kv[1]}\r\n`;
    s += `date: ${new Date().toUTCString()}\r\nserver: envoy\r\n\r\n`;
    ctx.status = 101;
    ctx.headSent = true;
    ctx.done = true; // the access log line is written when the tunnel closes
    ctx.cancel = undefined;
    stats.inc(`${p}downstream_rq_1xx`);
    stats.inc(`${p}downstream_rq_completed`);
    // the downstream socket leaves the HTTP parser: bytes it already buffered go upstream first
    down.removeAllListeners('data');
    down.removeAllListeners('end');
    const early = ctx.conn instanceof DownConn ? ctx.conn.parser.take() : null;
    if (early) up.write(early);
    down.write(s, 'latin1');
    if (rest.length) {
      ctx.bytesSent += rest.length;
      down.write(rest);
    }
    up.on('data', (d: Buffer) => {
      ctx.bytesSent += d.length;
    });
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
      release();
      hcm.log(ctx);
    };
    down.once('close', close);
    up.once('close', close);
    if (down.destroyed) close();
  };
}
