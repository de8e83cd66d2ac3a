import http2 from 'node:http2';
import net from 'node:net';
import type { ClusterConfig } from '../config/cluster.js';
import type { Stats } from '../admin/stats.js';
import { CONNECTION_SPECIFIC } from '../http/headers.js';
import type { BodySink, RequestBody } from '../codec/body.js';
import type { Headers } from '../codec/http1.js';
import { dial } from '../listener/tls.js';
import type { AcquireCallback, Exchange, Host, UpstreamConnection } from './host.js';

/**
 * HTTP/2 to the upstream (a cluster with typed_extension_protocol_options HttpProtocolOptions
 * explicit_http_config.http2_protocol_options, use_downstream_protocol_config, or the deprecated
 * http2_protocol_options): one node:http2 session per host, streams multiplexed on it, a new
 * session after GOAWAY or close. TLS clusters offer ALPN h2 (unless alpn_protocols says otherwise).
 */

type Callback = AcquireCallback;

/** What the pool needs of its cluster: its config, stats, and the connection count it shares. */
export interface PoolOwner {
  readonly config: ClusterConfig;
  readonly stats: Stats;
  readonly p: string;
  connections: number;
}

interface Session {
  s: http2.ClientHttp2Session;
  ready: boolean;
  waiters: Callback[];
}

/** The headers of a node:http2 header object as a list, without pseudo-headers. */
function headerList(h: http2.IncomingHttpHeaders): Headers {
  const out: Headers = [];
  for (const k of Object.keys(h)) {
    if (k.charCodeAt(0) === 58) continue; // ':'
    const v = h[k];
    if (Array.isArray(v)) for (const x of v) out.push([k, x]);
    else if (v !== undefined) out.push([k, String(v)]);
  }
  return out;
}

/**
 * An HTTP/1.1 request head as the router built it ("GET /p HTTP/1.1\r\nhost: a\r\n…") to HTTP/2
 * request headers: host becomes :authority; gRPC requests get `te: trailers` (as Envoy sends it).
 */
function requestHeaders(head: string, scheme: string): http2.OutgoingHttpHeaders {
  const lines = head.split('\r\n');
  const rl = lines[0]!;
  const s1 = rl.indexOf(' ');
  const s2 = rl.lastIndexOf(' ');
  const out: http2.OutgoingHttpHeaders = {
    ':method': rl.slice(0, s1),
    ':path': rl.slice(s1 + 1, s2),
    ':scheme': scheme,
  };
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l) continue;
    const c = l.indexOf(':');
    const k = l.slice(0, c);
    const v = l.slice(c + 1).trim();
    if (k === 'host') {
      out[':authority'] = v;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(k)) continue;
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  const ct = out['content-type'];
  if (typeof ct === 'string' && ct.startsWith('application/grpc')) out.te = 'trailers';
  return out;
}

/**
 * One request on an HTTP/2 session, as an UpstreamConnection: a stream is never pooled, so
 * `closed` is true and Cluster.release resets it if it has not ended.
 */
class H2StreamConn implements UpstreamConnection {
  exchange: Exchange | null = null;
  readonly closed = true;
  readonly parser = { keepAlive: false };
  readonly socket = this;
  /** node:http2 hands over buffers it does not reuse. */
  readonly transient = false;
  private stream?: http2.ClientHttp2Stream;
  private ended = false;

  constructor(
    readonly host: Host,
    private readonly session: http2.ClientHttp2Session,
    private readonly scheme: string,
  ) {}

  destroy(): void {
    const st = this.stream;
    this.exchange = null;
    if (st && !this.ended && !st.closed) st.close(http2.constants.NGHTTP2_CANCEL);
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  send(head: string, body: Buffer | RequestBody, exchange: Exchange): void {
    this.exchange = exchange;
    const streamed = !Buffer.isBuffer(body);
    const hasBody = streamed || body.length > 0;
    let st: http2.ClientHttp2Stream;
    try {
      st = this.session.request(requestHeaders(head, this.scheme), { endStream: !hasBody });
    } catch {
      queueMicrotask(() => {
        const ex = this.exchange;
        this.exchange = null;
        ex?.error('protocol');
      });
      return;
    }
    this.stream = st;
    let trailers: Headers | undefined;
    st.on('response', (h) => {
      this.exchange?.head({ status: Number(h[':status']), reason: '', version: 1, headers: headerList(h) });
    });
    st.on('data', (b: Buffer) => this.exchange?.data(b));
    st.on('trailers', (t) => (trailers = headerList(t)));
    st.on('end', () => {
      this.ended = true;
      const ex = this.exchange;
      this.exchange = null;
      ex?.end(trailers);
    });
    st.on('close', () => {
      if (this.ended) return;
      const ex = this.exchange;
      this.exchange = null;
      ex?.error('reset');
    });
    st.on('error', () => {});
    if (streamed) body.attach(new StreamWriter(st, body));
    else if (hasBody) st.end(body);
  }
}

/** A streamed request body onto an upstream HTTP/2 stream (its flow control is the backpressure). */
class StreamWriter implements BodySink {
  constructor(
    private readonly st: http2.ClientHttp2Stream,
    private readonly body: RequestBody,
  ) {}

  data(b: Buffer): boolean {
    const st = this.st;
    if (st.destroyed || st.closed) return true;
    const ok = st.write(b);
    if (!ok) st.once('drain', () => this.body.drained(this));
    return ok;
  }

  end(): void {
    if (!this.st.destroyed && !this.st.closed) this.st.end();
  }
}

export class H2Pool {
  private readonly sessions = new Map<Host, Session>();
  readonly downstreamOnly: boolean;
  private readonly p: string;

  constructor(
    private readonly cluster: PoolOwner,
    private readonly cfg: NonNullable<ClusterConfig['http2']>,
  ) {
    this.downstreamOnly = cfg.downstreamOnly;
    this.p = cluster.p;
  }

  /** A new stream on host's session (connecting it first if needed). */
  acquire(host: Host, cb: Callback): void {
    let s = this.sessions.get(host);
    if (s && (s.s.closed || s.s.destroyed)) s = undefined;
    if (!s) s = this.connect(host);
    if (s.ready) return cb(null, this.stream(host, s.s));
    if (s.waiters.length >= this.cluster.config.circuit.maxPending) {
      this.cluster.stats.inc(`${this.p}upstream_rq_pending_overflow`);
      return cb('overflow');
    }
    s.waiters.push(cb);
  }

  private stream(host: Host, s: http2.ClientHttp2Session): UpstreamConnection {
    return new H2StreamConn(host, s, this.cluster.config.tls ? 'https' : 'http');
  }

  private connect(host: Host): Session {
    const c = this.cluster;
    const stats = c.stats;
    const cfg = c.config;
    c.connections++;
    host.cxActive++;
    stats.inc(`${this.p}upstream_cx_total`);
    stats.inc(`${this.p}upstream_cx_http2_total`);
    stats.gauge(`${this.p}upstream_cx_active`, 1);
    // as Envoy: an HTTP/2 cluster over TLS offers ALPN h2 unless alpn_protocols is set
    const t = cfg.tls && !cfg.tls.alpn.length ? { ...cfg.tls, alpn: ['h2'] } : cfg.tls;
    const { socket } = dial(host.address.host, host.address.port, t);
    socket.setNoDelay(true);
    const a = host.address;
    const authority = net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
    const set = this.cfg.settings;
    const session = http2.connect(`${t ? 'https' : 'http'}://${authority}`, {
      createConnection: () => socket,
      settings: {
        enablePush: false,
        initialWindowSize: set.initialStreamWindowSize,
        headerTableSize: set.hpackTableSize,
        maxConcurrentStreams: set.maxConcurrentStreams,
      },
    });
    const me: Session = { s: session, ready: false, waiters: [] };
    this.sessions.set(host, me);
    const fail = () => {
      const w = me.waiters;
      me.waiters = [];
      for (const cb of w) cb('connect');
    };
    const timer = setTimeout(() => {
      if (me.ready) return;
      stats.inc(`${this.p}upstream_cx_connect_timeout`);
      session.destroy();
    }, cfg.connectTimeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      me.ready = true;
      try {
        session.setLocalWindowSize(set.initialConnectionWindowSize);
      } catch {
        // a window below the default cannot be announced: keep the default
      }
      const w = me.waiters;
      me.waiters = [];
      for (const cb of w) cb(null, this.stream(host, session));
    });
    // after GOAWAY the session only finishes its streams: new requests open a new one
    session.on('goaway', () => {
      if (this.sessions.get(host) === me) this.sessions.delete(host);
    });
    session.on('error', () => {});
    session.once('close', () => {
      clearTimeout(timer);
      if (this.sessions.get(host) === me) this.sessions.delete(host);
      c.connections--;
      host.cxActive--;
      stats.gauge(`${this.p}upstream_cx_active`, -1);
      if (!me.ready) {
        stats.inc(`${this.p}upstream_cx_connect_fail`);
        fail();
      }
    });
    return me;
  }

  stop(): void {
    for (const s of this.sessions.values()) s.s.destroy();
    this.sessions.clear();
  }
}
