import http2 from 'node:http2';
import type net from 'node:net';
import type tls from 'node:tls';
import type { HcmConfig } from '../config/hcm.js';
import type { Http2Settings } from '../config/common.js';
import { CONNECTION_SPECIFIC } from '../http/headers.js';
import { RequestBody } from './body.js';
import { getHeader, httpDate, type Headers, type ParsedRequest } from './http1.js';
import type { CodecCallbacks, DownConnection, ResponseEncoder, StreamHandle } from './stream.js';
import { bindWire, closeSession, drainSession, H2Wire } from './h2-shutdown.js';
import { resetGuard } from './reset-guard.js';

/**
 * Downstream HTTP/2 for the HTTP connection manager: codec_type AUTO tells HTTP/2 by ALPN h2 or
 * by the client connection preface at the start of the first read (as Envoy), HTTP2 forces it.
 * Framing is node:http2 (nghttp2); each stream is one request through the HCM pipeline, with an
 * H2Stream as its downstream (how the head, body and trailers are written). A request goes to the
 * connection manager at its HEADERS; its DATA follows as a RequestBody (codec/body.ts), read no
 * faster than it is forwarded (HTTP/2 flow control holds the client).
 */

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function toObject(h: Headers, into: http2.OutgoingHttpHeaders): http2.OutgoingHttpHeaders {
  for (const [k, v] of h) {
    if (CONNECTION_SPECIFIC.has(k) || k.charCodeAt(0) === 58) continue;
    const prev = into[k];
    if (prev === undefined) into[k] = v;
    else into[k] = Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  return into;
}

/** One HTTP/2 stream as the downstream of a request. */
class H2Stream implements DownConnection, ResponseEncoder {
  active: StreamHandle | null = null;
  private pending: http2.OutgoingHttpHeaders | undefined;
  private trailers: http2.OutgoingHttpHeaders | undefined;
  /** The request's body while it arrives (undefined: none, or it ended). */
  body: RequestBody | undefined = undefined;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    readonly socket: net.Socket,
    readonly remoteIp: string,
    readonly principal: string[] | null,
  ) {}

  head(status: number, h: Headers): boolean {
    this.pending = toObject(h, { ':status': status, date: httpDate(), server: 'envoy' });
    return true;
  }

  /** Sends the pending head; the end of the stream then comes with trailers (possibly none). */
  private flush(): void {
    const h = this.pending;
    if (h === undefined) return;
    this.pending = undefined;
    const st = this.stream;
    st.respond(h, { waitForTrailers: true, sendDate: false } as http2.ServerStreamResponseOptions);
    // empty trailers end the stream with an empty DATA frame
    st.once('wantTrailers', () => st.sendTrailers(this.trailers ?? {}));
  }

  write(b: Buffer, shared = false): boolean {
    const st = this.stream;
    if (st.destroyed || st.closed) return true;
    this.flush();
    return st.write(shared ? Buffer.from(b) : b);
  }

  end(_keepAlive: boolean, trailers?: Headers): void {
    const st = this.stream;
    if (!st.destroyed && !st.closed) {
      if (this.pending !== undefined && !trailers?.length) {
        // a head alone: one HEADERS frame with END_STREAM (a gRPC trailers-only response)
        st.respond(this.pending, { endStream: true, sendDate: false } as http2.ServerStreamResponseOptions);
        this.pending = undefined;
      } else {
        if (trailers?.length) this.trailers = toObject(trailers, {});
        this.flush();
        st.end();
      }
      // the response ended before the request: the stream is reset with NO_ERROR, as Envoy does
      if (this.body !== undefined && !this.body.ended) {
        this.body = undefined;
        st.once('finish', () => st.close(http2.constants.NGHTTP2_NO_ERROR));
      }
    }
  }

  reset(): void {
    this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  onDrain(cb: () => void): void {
    this.stream.once('drain', cb);
  }
}

/** The HTTP/2 side of one HTTP connection manager. */
export class H2Listener {
  private readonly server: http2.Http2Server;
  readonly sessions = new Set<http2.ServerHttp2Session>();
  private next: { socket: net.Socket; principal: string[] | null; wire: H2Wire } | null = null;
  private readonly p: string;

  constructor(
    private readonly hcm: CodecCallbacks,
    private readonly codec: HcmConfig['codec'],
    private readonly settings: Http2Settings,
  ) {
    this.p = hcm.p;
    const s = settings;
    const limits = hcm.limits;
    this.server = http2.createServer({
      // node:http2's own header limits sit above the connection manager's, which onStream applies
      // as Envoy does (a reset with INTERNAL_ERROR, where node:http2 would send ENHANCE_YOUR_CALM)
      maxHeaderListPairs: limits.maxHeadersCount + HEADER_SLACK,
      settings: {
        enablePush: false,
        maxConcurrentStreams: s.maxConcurrentStreams,
        initialWindowSize: s.initialStreamWindowSize,
        headerTableSize: s.hpackTableSize,
        maxHeaderListSize: limits.maxHeadersBytes + 32 * (limits.maxHeadersCount + HEADER_SLACK) + 1024,
      },
    });
    this.server.on('session', (session: http2.ServerHttp2Session) => this.onSession(session));
  }

  /** A new downstream connection: HTTP/2 (ALPN h2, the preface, or codec_type HTTP2) or HTTP/1.1. */
  accept(socket: net.Socket, principal: string[] | null): void {
    const alpn = (socket as tls.TLSSocket).alpnProtocol;
    if (this.codec === 'HTTP2' || alpn === 'h2') return this.serve(socket, principal);
    if (alpn) return this.hcm.http1(socket, principal);
    // as Envoy: the preface must be in the first read (its start alone is not waited for)
    let decided = false;
    // idle_timeout also closes a connection that never sends a byte (http1.ts ConnTimeouts after)
    const idleMs = this.hcm.limits.idleTimeoutMs;
    const idle = idleMs > 0 ? setTimeout(() => this.idleClose(socket), idleMs) : undefined;
    const onClose = () => {
      clearTimeout(idle);
      if (!decided) this.hcm.stats.gauge(`${this.p}downstream_cx_active`, -1);
    };
    const onError = () => socket.destroy();
    const onEnd = () => socket.end();
    socket.once('close', onClose);
    socket.on('error', onError);
    socket.once('end', onEnd);
    socket.once('data', (buf: Buffer) => {
      decided = true;
      clearTimeout(idle);
      socket.off('close', onClose);
      socket.off('error', onError);
      socket.off('end', onEnd);
      socket.pause();
      socket.unshift(buf);
      if (buf.length >= PREFACE.length && buf.subarray(0, PREFACE.length).equals(PREFACE))
        this.serve(socket, principal);
      else {
        this.hcm.http1(socket, principal);
        socket.resume();
      }
    });
  }

  private idleClose(socket: net.Socket): void {
    this.hcm.stats.inc(`${this.p}downstream_cx_idle_timeout`);
    socket.end();
  }

  private serve(socket: net.Socket, principal: string[] | null): void {
    // node:http2 runs on a wire that can send the drain's shutdown notice (codec/h2-shutdown.ts);
    // a plain stream, it also spares node:http2 the handshake state and ALPN of acceptTls's sockets
    this.hcm.stats.inc(`${this.p}downstream_cx_http2_total`);
    const wire = new H2Wire(socket);
    this.next = { socket, principal, wire };
    this.server.emit('connection', wire);
    this.next = null;
  }

  private onSession(session: http2.ServerHttp2Session): void {
    const conn = this.next;
    if (!conn) return void session.destroy();
    const { socket, principal } = conn;
    bindWire(session, conn.wire);
    const remoteIp = socket.remoteAddress ?? '';
    const stats = this.hcm.stats;
    this.sessions.add(session);
    stats.gauge(`${this.p}downstream_cx_http2_active`, 1);
    try {
      session.setLocalWindowSize(this.settings.initialConnectionWindowSize);
    } catch {
      // below the protocol default: keep the default
    }
    session.on('error', () => {});
    session.once('close', () => {
      this.sessions.delete(session);
      stats.gauge(`${this.p}downstream_cx_http2_active`, -1);
      stats.gauge(`${this.p}downstream_cx_active`, -1);
    });
    if (this.hcm.draining) drainSession(session, this.hcm.limits.drainTimeoutMs);
    const idle = this.hcm.limits.idleTimeoutMs > 0 ? new SessionIdle(session, this.hcm) : undefined;
    session.on(
      'stream',
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _f: number, raw: string[]) => {
        if (idle) idle.opened(stream);
        this.onStream(session, stream, headers, raw, socket, remoteIp, principal);
      },
    );
  }

  /**
   * max_headers_count and max_request_headers_kb: Envoy's HTTP/2 codec counts every header of the
   * stream, pseudo-headers included, and the bytes of their names and values; past either limit
   * it resets the stream (RST_STREAM INTERNAL_ERROR, `http2.header_overflow`) before the request
   * reaches the connection manager (ConnectionImpl::saveHeader, http2/codec_impl.cc).
   */
  private headerOverflow(raw: string[]): boolean {
    const limits = this.hcm.limits;
    if (raw.length / 2 > limits.maxHeadersCount) return true;
    let bytes = 0;
    for (let i = 0; i < raw.length; i++) bytes += raw[i]!.length;
    return bytes > limits.maxHeadersBytes;
  }

  private onStream(
    session: http2.ServerHttp2Session,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    raw: string[],
    socket: net.Socket,
    remoteIp: string,
    principal: string[] | null,
  ): void {
    stream.on('error', () => {});
    if (this.headerOverflow(raw)) {
      this.hcm.stats.inc('http2.header_overflow');
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const method = String(headers[':method'] ?? '');
    const path = headers[':path'];
    const authority = headers[':authority'] ?? headers.host;
    const h: Headers = [];
    if (authority !== undefined) h.push(['host', String(authority)]);
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      if (k.charCodeAt(0) === 58 || k === 'host') continue;
      h.push([k, raw[i + 1]!]);
    }
    const down = new H2Stream(stream, socket, remoteIp, principal);
    const req: ParsedRequest = {
      method,
      path: String(path ?? ''),
      version: 2,
      headers: h,
      body: EMPTY,
      bodyStream: undefined,
      keepAlive: true,
    };
    const opened = Date.now();
    stream.once('close', () => {
      // the client reset the stream (or the connection went away) before the response ended
      down.active?.downstreamReset();
      // rapid reset: too many streams closed before their response closes the connection
      resetGuard(session, this.hcm.stats, this.p).streamClosed(opened, stream.headersSent);
    });
    if (method === 'CONNECT' || path === undefined) {
      this.hcm.codecReply(403);
      // extended CONNECT and WebSocket over HTTP/2 are not implemented (allow_connect is refused)
      stream.respond({ ':status': 403, 'content-length': '0', server: 'envoy' }, { endStream: true });
      return;
    }
    // the stream goes on once this read is handled: one reset in the same read as its HEADERS is
    // never routed (rapid reset), and a body that came whole in it goes as a whole
    const body = stream.endAfterHeaders ? undefined : streamBody(stream, h, this.hcm);
    setImmediate(() => {
      if (stream.destroyed || stream.closed) return;
      if (body?.ended) req.body = body.whole()!;
      else if (body) down.body = req.bodyStream = body;
      this.hcm.newStream(down, req, down);
    });
  }

  /** Drain: the shutdown notice on every session, the final GOAWAY after drain_timeout. */
  drain(): void {
    for (const s of this.sessions) drainSession(s, this.hcm.limits.drainTimeoutMs);
  }

  /** The drain time is over: the final GOAWAY; sessions end with their streams. */
  closeIdle(): void {
    for (const s of this.sessions) closeSession(s);
  }
}

const EMPTY = Buffer.alloc(0);

/** Headers node:http2 lets through past max_headers_count, so that the limit is applied here. */
const HEADER_SLACK = 8;

/**
 * common_http_protocol_options.idle_timeout on an HTTP/2 connection: once it has had no open
 * stream for that long, Envoy's connection manager starts its drain sequence
 * (ConnectionManagerImpl::onIdleTimeout): the shutdown notice, then the final GOAWAY after
 * drain_timeout, and the connection closes. One timer per idle period, checked against the time the
 * last stream closed (no timer per stream).
 */
class SessionIdle {
  private open = 0;
  private idleSince = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly ms: number;

  constructor(
    private readonly session: http2.ServerHttp2Session,
    private readonly cm: CodecCallbacks,
  ) {
    this.ms = cm.limits.idleTimeoutMs;
    this.arm(this.ms);
    session.once('close', () => clearTimeout(this.timer));
  }

  opened(stream: http2.ServerHttp2Stream): void {
    this.open++;
    stream.once('close', this.closed);
  }

  private readonly closed = (): void => {
    if (--this.open > 0) return;
    this.idleSince = Date.now();
    if (this.timer === undefined) this.arm(this.ms);
  };

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, ms);
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (this.open > 0 || this.session.closed || this.session.destroyed) return;
    const left = this.idleSince + this.ms - Date.now();
    if (left > 0) return this.arm(left);
    this.cm.stats.inc(`${this.cm.p}downstream_cx_idle_timeout`);
    drainSession(this.session, this.cm.limits.drainTimeoutMs);
  };
}

/** The DATA of a stream as a RequestBody: the stream pauses (no WINDOW_UPDATE) while it is full. */
function streamBody(stream: http2.ServerHttp2Stream, h: Headers, cm: CodecCallbacks): RequestBody {
  const cl = getHeader(h, 'content-length');
  const length = cl !== undefined && /^[0-9]{1,15}$/.test(cl) ? Number(cl) : undefined;
  const source = {
    pause: () => {
      cm.stats.inc(`${cm.p}downstream_flow_control_paused_reading_total`);
      stream.pause();
    },
    resume: () => {
      cm.stats.inc(`${cm.p}downstream_flow_control_resumed_reading_total`);
      stream.resume();
    },
  };
  const body = new RequestBody(source, cm.limits.bufferLimitBytes, length);
  stream.on('data', (b: Buffer) => body.push(b));
  stream.once('end', () => body.end());
  return body;
}
