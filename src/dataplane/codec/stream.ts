import type net from 'node:net';
import type { Stats } from '../admin/stats.js';
import type { CodecLimits, Headers, ParsedRequest } from './http1.js';

/**
 * What the connection manager and the codecs (HTTP/1.1: http1-server.ts, HTTP/2: h2.ts) see of
 * each other: a codec hands over whole requests with the encoder their response goes through.
 */

/** %PROTOCOL% and the access log's protocol, by ParsedRequest.version. */
export const PROTOCOL = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/2'] as const;

/** The downstream connection a request came on (for HTTP/2, its stream). */
export interface DownConnection {
  readonly socket: net.Socket;
  readonly remoteIp: string;
  /** The peer certificate's identities (mTLS), null without one. */
  readonly principal: string[] | null;
  /** The request being answered on it (set by the connection manager), told when the downstream goes away. */
  active: StreamHandle | null;
  /**
   * HTTP/1.1 only: the socket leaves the codec (an upgrade); the bytes it read after the request
   * (which belong to the tunnel) are returned.
   */
  detach?(): Buffer | null;
}

/** How one response goes downstream: the codec's side of a request. */
export interface ResponseEncoder {
  /**
   * The response head, sent with the first body bytes or the end; `chunked`: the body has no
   * length. Returns whether the connection stays open after the response.
   */
  head(status: number, headers: Headers, chunked: boolean): boolean;
  /** Body bytes; `shared`: they are valid only during the call. False when the downstream wants to drain. */
  write(b: Buffer, shared?: boolean): boolean;
  /** Ends the response (with trailers, from an HTTP/2 upstream); `keepAlive`: the connection may be reused. */
  end(keepAlive: boolean, trailers?: Headers): void;
  /** Aborts the response after its head went out. */
  reset(): void;
  onDrain(cb: () => void): void;
}

/** A request in the connection manager, as its codec sees it. */
export interface StreamHandle {
  /** The downstream went away (connection closed, stream reset) before the response ended. */
  downstreamReset(): void;
}

/** What a codec needs of the connection manager it serves. */
export interface CodecCallbacks {
  /** Stat prefix (http.<stat_prefix>.) and the stats. */
  readonly p: string;
  readonly stats: Stats;
  /** Draining: connections close after their current request, HTTP/2 sessions get GOAWAY. */
  readonly draining: boolean;
  /** HTTP/1 header limits and connection timeouts (the connection manager's configuration). */
  readonly limits: CodecLimits;
  /** A whole request: the connection manager's new stream (it sets conn.active). */
  newStream(conn: DownConnection, req: ParsedRequest, encoder: ResponseEncoder): void;
  /** A request the codec answered itself (malformed, too large): counted as a request and a response. */
  codecReply(status: number): void;
  /** An HTTP/1.1 connection (codec_type AUTO told it from HTTP/2). */
  http1(socket: net.Socket, principal: string[] | null): void;
  /** An HTTP/1.1 connection closed. */
  connectionClosed(c: object): void;
}
