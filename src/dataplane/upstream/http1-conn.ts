import type net from 'node:net';
import type { BodySink, RequestBody } from '../codec/body.js';
import { HttpError, ResponseParser } from '../codec/http1.js';
import type { Exchange, Host, UpstreamConnection } from './host.js';

/** What an HTTP/1.1 upstream connection tells its cluster. */
export interface ConnectionOwner {
  readonly config: { readonly bufferLimitBytes: number };
  connectionClosed(c: UpConn): void;
}

/** One HTTP/1.1 connection to an upstream host: one request at a time, kept alive for the next. */
export class UpConn implements UpstreamConnection {
  readonly parser: ResponseParser;
  exchange: Exchange | null = null;
  closed = false;
  connected = false;

  /**
   * `transient`: the bytes handed to onData live in a read buffer shared by all plaintext upstream
   * connections, valid only until the next read; whoever keeps or queues them copies them first.
   */
  constructor(
    readonly socket: net.Socket,
    readonly host: Host,
    readonly cluster: ConnectionOwner,
    readonly transient = false,
  ) {
    this.parser = new ResponseParser(
      (h) => this.exchange?.head(h),
      (b) => this.exchange?.data(b),
      () => {
        const ex = this.exchange;
        this.exchange = null;
        ex?.end();
      },
      transient,
    );
    if (!transient) socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.onClose());
    socket.on('error', () => {});
  }

  onData(d: Buffer): void {
    if (!this.exchange) {
      this.socket.destroy(); // bytes with no request: unusable
      return;
    }
    try {
      this.parser.push(d);
    } catch (e) {
      const ex = this.exchange;
      this.exchange = null;
      this.socket.destroy();
      ex?.error(e instanceof HttpError ? 'protocol' : 'reset');
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.cluster.connectionClosed(this);
    const ex = this.exchange;
    if (ex) {
      this.exchange = null;
      if (this.parser.eof()) ex.end();
      else ex.error('reset');
    }
  }

  send(head: string, body: Buffer | RequestBody, exchange: Exchange, noBody: boolean): void {
    this.exchange = exchange;
    this.parser.reset(noBody);
    if (!Buffer.isBuffer(body)) {
      this.socket.write(head, 'latin1');
      return body.attach(
        new BodyWriter(this.socket, body, body.length === undefined, this.cluster.config.bufferLimitBytes),
      );
    }
    const n = body.length;
    if (n === 0) {
      this.socket.write(head, 'latin1');
      return;
    }
    const out = Buffer.allocUnsafe(head.length + n);
    out.write(head, 0, 'latin1');
    body.copy(out, head.length);
    this.socket.write(out);
  }
}

/** A streamed request body onto an upstream HTTP/1.1 connection (chunk-encoded when it has no length). */
class BodyWriter implements BodySink {
  constructor(
    private readonly socket: net.Socket,
    private readonly body: RequestBody,
    private readonly chunked: boolean,
    /** The cluster's per_connection_buffer_limit_bytes: the socket holds no more before it waits. */
    private readonly limit: number,
  ) {}

  data(b: Buffer): boolean {
    const socket = this.socket;
    if (socket.destroyed) return true;
    let ok: boolean;
    if (this.chunked) {
      socket.cork();
      socket.write(`${b.length.toString(16)}\r\n`, 'latin1');
      socket.write(b);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else ok = socket.write(b);
    // 'drain' comes after a write that returned false; below the limit, writing goes on meanwhile
    ok ||= socket.writableLength < this.limit;
    if (!ok) socket.once('drain', () => this.body.drained(this));
    return ok;
  }

  end(): void {
    if (this.chunked && !this.socket.destroyed) this.socket.write('0\r\n\r\n', 'latin1');
  }
}
