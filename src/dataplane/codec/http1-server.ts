import type net from 'node:net';
import {
  codecErrorResponse,
  ConnTimeouts,
  httpDate,
  HttpError,
  RequestParser,
  type Headers,
  type ParsedRequest,
} from './http1.js';
import type { BodySource } from './body.js';
import type { CodecCallbacks, DownConnection, ResponseEncoder, StreamHandle } from './stream.js';

/**
 * The server side of one downstream HTTP/1.1 connection: requests parsed one at a time (a
 * pipelined one waits for the response before it), each answered through this connection as its
 * ResponseEncoder, keep-alive, `Expect: 100-continue`, chunked responses. A request goes to the
 * connection manager at its head; its body follows as it arrives (codec/body.ts), the socket paused
 * while the body's buffer is full. A response that ends before its request closes the connection.
 */

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

export class Http1Connection implements DownConnection, ResponseEncoder, BodySource {
  readonly parser: RequestParser;
  /** idle_timeout and request_headers_timeout (http1.ts). */
  private readonly timeouts: ConnTimeouts;
  busy = false;
  closed = false;
  active: StreamHandle | null = null;
  /** The request being answered (its HTTP version and keep-alive). */
  private req: ParsedRequest | null = null;
  /** The response head, kept until the first body bytes (or the end) so that both leave in one write. */
  private pendingHead: string | undefined = undefined;
  /** The response body is chunk-encoded (no length, HTTP/1.1). */
  private chunked = false;
  /** The response to the current request has begun (its head was given). */
  private responding = false;
  readonly remoteIp: string;

  constructor(
    readonly socket: net.Socket,
    private readonly cm: CodecCallbacks,
    readonly principal: string[] | null,
  ) {
    this.remoteIp = socket.remoteAddress ?? '';
    this.parser = new RequestParser(cm.limits, this);
    this.timeouts = new ConnTimeouts(cm.limits, (kind) => this.timedOut(kind));
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      try {
        this.parser.push(d);
      } catch (e) {
        return this.bodyError(e instanceof HttpError ? e : new HttpError(400, 'bad request'));
      }
      if (!this.busy) this.next();
      // pipelined bytes wait for the response; no more than the buffer limit of them is read
      else if (this.parser.buffered > cm.limits.bufferLimitBytes) socket.pause();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.timeouts.clear();
      this.cm.connectionClosed(this);
      this.active?.downstreamReset();
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
      return this.refuse(e instanceof HttpError ? e : new HttpError(400, 'bad request'));
    }
    if (this.parser.expectContinue) {
      this.parser.expectContinue = false;
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    if (!req) {
      this.timeouts.update(this.parser.phase);
      if (this.socket.readableEnded && this.parser.buffered === 0) this.socket.end();
      return;
    }
    this.busy = true;
    this.req = req;
    this.timeouts.update('serving');
    this.cm.newStream(this, req, this);
  }

  /** A streamed body that turns out malformed: the request is reset (a 400 if no response began). */
  private bodyError(err: HttpError): void {
    const responding = this.responding;
    this.active?.downstreamReset();
    this.closed = true;
    if (responding) this.socket.destroy();
    else this.socket.end(codecErrorResponse(err));
  }

  /** BodySource: the body's buffer is full (or has room again). */
  pause(): void {
    this.cm.stats.inc(`${this.cm.p}downstream_flow_control_paused_reading_total`);
    this.socket.pause();
  }

  resume(): void {
    this.cm.stats.inc(`${this.cm.p}downstream_flow_control_resumed_reading_total`);
    if (!this.closed) this.socket.resume();
  }

  /** A request the codec refuses: its error status, and the connection closed. */
  private refuse(err: HttpError): void {
    this.cm.codecReply(err.status);
    this.socket.end(codecErrorResponse(err));
    this.closed = true;
  }

  /** Envoy's idle_timeout closes the connection; its request_headers_timeout answers 408. */
  private timedOut(kind: 'idle' | 'head'): void {
    if (this.closed) return;
    const idle = kind === 'idle';
    this.cm.stats.inc(`${this.cm.p}${idle ? 'downstream_cx_idle_timeout' : 'downstream_rq_header_timeout'}`);
    if (!idle) return this.refuse(new HttpError(408, 'request header timeout'));
    this.closed = true;
    this.socket.end();
  }

  detach(): Buffer | null {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    return this.parser.take();
  }

  head(status: number, h: Headers, chunked: boolean): boolean {
    const req = this.req!;
    this.responding = true;
    // a response before the end of its request closes the connection (the rest is not read)
    let keep = req.keepAlive && !this.cm.draining && !this.parser.bodyInProgress;
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
    this.pendingHead = s;
    this.chunked = chunked && req.version === 1;
    return keep;
  }

  /** Writes the pending response head, with the first body bytes in the same buffer. */
  private flush(body?: Buffer): boolean {
    const h = this.pendingHead;
    const sock = this.socket;
    if (h === undefined) return body ? sock.write(body) : true;
    this.pendingHead = undefined;
    if (!body || body.length === 0) return sock.write(h, 'latin1');
    const out = Buffer.allocUnsafe(h.length + body.length) as Latin1Buffer;
    out.latin1Write(h, 0);
    body.copy(out, h.length);
    return sock.write(out);
  }

  write(b: Buffer, shared = false): boolean {
    // bytes from a shared read buffer: copied unless they go out with the head (copied there)
    if (shared && (this.chunked || this.pendingHead === undefined)) b = Buffer.from(b);
    if (!this.chunked) return this.flush(b);
    const socket = this.socket;
    this.flush();
    socket.cork();
    socket.write(`${b.length.toString(16)}\r\n`, 'latin1');
    socket.write(b);
    const ok = socket.write('\r\n', 'latin1');
    socket.uncork();
    return ok;
  }

  /** The response went out: read the next request, or close. */
  end(keepAlive: boolean): void {
    this.flush();
    if (this.chunked) this.socket.write('0\r\n\r\n', 'latin1');
    this.chunked = false;
    const req = this.req!;
    this.busy = false;
    this.responding = false;
    this.active = null;
    this.req = null;
    if (this.parser.bodyInProgress) return this.lingerClose();
    if (!keepAlive || !req.keepAlive || this.cm.draining) {
      this.socket.end();
      this.closed = true;
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    this.next();
  }

  /**
   * Closes after a response that ended before its request: the rest of the request is read and
   * dropped until the client closes, for at most a second (Envoy's delayed close), so that the
   * client sees the response rather than a reset for the bytes it was still sending.
   */
  private lingerClose(): void {
    const socket = this.socket;
    this.closed = true;
    socket.removeAllListeners('data');
    socket.on('data', () => {});
    socket.end();
    socket.resume();
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  reset(): void {
    this.socket.destroy();
  }

  onDrain(cb: () => void): void {
    this.socket.once('drain', cb);
  }
}
