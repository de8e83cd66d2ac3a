import http2 from 'node:http2';
import type net from 'node:net';
import type tls from 'node:tls';
import type { HcmConfig } from './config.js';
import { getHeader, httpDate, MAX_BODY_BYTES, type Headers, type ParsedRequest } from './http1.js';
import type { Ctx, DownConnection, H2Down, HttpConnectionManager } from './hcm.js';
import { resetGuard } from './codec/reset-guard.js';

/**
 * Downstream HTTP/2 for the HTTP connection manager: codec_type AUTO tells HTTP/2 by ALPN h2 or
 * by the client connection preface at the start of the first read (as Envoy), HTTP2 forces it.
 * Framing is node:http2 (nghttp2); each stream is one request through the HCM pipeline, with an
 * H2Stream as its downstream (how the head, body and trailers are written).
 */

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** %PROTOCOL% and the access log's protocol, by ParsedRequest.version. */
export const PROTOCOL = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/2'] as const;

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
export function grpcLocalReply(ctx: Ctx, status: number, body: string, extra: Headers): Headers | undefined {
  if (!isGrpc(ctx.req)) return undefined;
  const h: Headers = [
    ...extra,
    ['content-type', 'application/grpc'],
    ['grpc-status', String(httpToGrpcStatus(status))],
  ];
  if (body && ctx.req.method !== 'HEAD') h.push(['grpc-message', grpcPercentEncode(body)]);
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
class H2Stream implements DownConnection, H2Down {
  ctx: Ctx | null = null;
  private pending: http2.OutgoingHttpHeaders | undefined;
  private trailers: http2.OutgoingHttpHeaders | undefined;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    readonly socket: net.Socket,
    readonly remoteIp: string,
    readonly principal: string[] | null,
    private readonly onEnd: () => void,
  ) {}

  finished(): void {}

  head(status: number, h: Headers): void {
    this.pending = toObject(h, { ':status': status, date: httpDate(), server: 'envoy' });
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

  write(b: Buffer): boolean {
    const st = this.stream;
    if (st.destroyed || st.closed) return true;
    this.flush();
    return st.write(b);
  }

  end(trailers?: Headers): void {
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
    }
    this.onEnd();
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
  private next: { socket: net.Socket; principal: string[] | null } | null = null;
  private readonly p: string;

  constructor(
    private readonly hcm: HttpConnectionManager,
    private readonly cfg: HcmConfig,
  ) {
    this.p = hcm.p;
    const s = cfg.http2;
    this.server = http2.createServer({
      settings: {
        enablePush: false,
        maxConcurrentStreams: s.maxConcurrentStreams,
        initialWindowSize: s.initialStreamWindowSize,
        headerTableSize: s.hpackTableSize,
      },
    });
    this.server.on('session', (session: http2.ServerHttp2Session) => this.onSession(session));
  }

  /** A new downstream connection: HTTP/2 (ALPN h2, the preface, or codec_type HTTP2) or HTTP/1.1. */
  accept(socket: net.Socket, principal: string[] | null): void {
    const alpn = (socket as tls.TLSSocket).alpnProtocol;
    if (this.cfg.codec === 'HTTP2' || alpn === 'h2') return this.serve(socket, principal);
    if (alpn) return this.hcm.http1(socket, principal);
    // as Envoy: the preface must be in the first read (its start alone is not waited for)
    let decided = false;
    const onClose = () => {
      if (!decided) this.hcm.stats.gauge(`${this.p}downstream_cx_active`, -1);
    };
    const onError = () => socket.destroy();
    const onEnd = () => socket.end();
    socket.once('close', onClose);
    socket.on('error', onError);
    socket.once('end', onEnd);
    socket.once('data', (buf: Buffer) => {
      decided = true;
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

  private serve(socket: net.Socket, principal: string[] | null): void {
    // a server TLSSocket made by hand (acceptTls) keeps secureConnecting set after its handshake;
    // node:http2 would wait for a 'secureConnect' that only client sockets emit
    const t = socket as tls.TLSSocket & { secureConnecting?: boolean; alpnProtocol?: string | false };
    if (t.secureConnecting) t.secureConnecting = false;
    // TLS without ALPN, HTTP/2 told by the preface: node:http2 would answer a socket whose
    // alpnProtocol is false with an HTTP/1.0 403 ("Missing ALPN Protocol")
    if (t.encrypted && !t.alpnProtocol) t.alpnProtocol = 'h2';
    this.hcm.stats.inc(`${this.p}downstream_cx_http2_total`);
    this.next = { socket, principal };
    this.server.emit('connection', socket);
    this.next = null;
  }

  private onSession(session: http2.ServerHttp2Session): void {
    const conn = this.next;
    if (!conn) return void session.destroy();
    const { socket, principal } = conn;
    const remoteIp = socket.remoteAddress ?? '';
    const stats = this.hcm.stats;
    this.sessions.add(session);
    stats.gauge(`${this.p}downstream_cx_http2_active`, 1);
    try {
      session.setLocalWindowSize(this.cfg.http2.initialConnectionWindowSize);
    } catch {
      // below the protocol default: keep the default
    }
    session.on('error', () => {});
    session.once('close', () => {
      this.sessions.delete(session);
      stats.gauge(`${this.p}downstream_cx_http2_active`, -1);
      stats.gauge(`${this.p}downstream_cx_active`, -1);
    });
    if (this.hcm.rt.draining) session.close();
    session.on(
      'stream',
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _f: number, raw: string[]) =>
        this.onStream(session, stream, headers, raw, socket, remoteIp, principal),
    );
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
    const down = new H2Stream(stream, socket, remoteIp, principal, () => {
      if (this.hcm.rt.draining) session.close();
    });
    const req: ParsedRequest = {
      method,
      path: String(path ?? ''),
      version: 2,
      headers: h,
      body: EMPTY,
      keepAlive: true,
      wireBytes: 0,
    };
    const opened = Date.now();
    stream.once('close', () => {
      // the client reset the stream (or the connection went away) before the response ended
      const c = down.ctx;
      if (c && !c.done) {
        c.done = true;
        c.flags = c.flags === '-' ? 'DC' : c.flags;
        c.cancel?.cancel();
        this.hcm.log(c);
      }
      // rapid reset: too many streams closed before their response closes the connection
      resetGuard(session, this.hcm.stats, this.p).streamClosed(opened, stream.headersSent);
    });
    if (method === 'CONNECT' || path === undefined) {
      this.hcm.stats.inc(`${this.p}downstream_rq_total`);
      this.hcm.countResponse(403);
      // extended CONNECT and WebSocket over HTTP/2 are not implemented (allow_connect is refused)
      stream.respond({ ':status': 403, 'content-length': '0', server: 'envoy' }, { endStream: true });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (b: Buffer) => {
      size += b.length;
      if (size <= MAX_BODY_BYTES) chunks.push(b);
    });
    stream.once('end', () => {
      if (size > MAX_BODY_BYTES) {
        this.hcm.stats.inc(`${this.p}downstream_rq_total`);
        this.hcm.countResponse(413);
        stream.respond({ ':status': 413, 'content-length': '0', server: 'envoy' }, { endStream: true });
        return;
      }
      req.body = chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      req.wireBytes = size;
      this.hcm.handle(down, req, down);
    });
  }

  /** Drain: GOAWAY on every session; their streams finish. */
  drain(): void {
    for (const s of this.sessions) s.close();
  }
}

const EMPTY = Buffer.alloc(0);
