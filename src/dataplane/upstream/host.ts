import type { RequestBody } from '../codec/body.js';
import type { Headers, ResponseHead } from '../codec/http1.js';
import type { SockAddr } from '../config/common.js';
import type { LbHost } from './lb.js';
import type { HostOutlierState } from './outlier.js';

/** An upstream host of a cluster and what a request on one of its connections is told and uses. */

/** What a request in flight on an upstream connection is told. */
export interface Exchange {
  head(h: ResponseHead): void;
  data(b: Buffer): void;
  /** The response ended (with trailers, from an HTTP/2 upstream). */
  end(trailers?: Headers): void;
  /** The connection failed before the response ended. */
  error(kind: 'reset' | 'protocol'): void;
}

/**
 * A connection (HTTP/1.1, http1-conn.ts) or a stream (HTTP/2, h2-pool.ts) to a host, as the
 * router uses it for one request.
 */
export interface UpstreamConnection {
  readonly host: Host;
  exchange: Exchange | null;
  /** Not reusable (closed, or an HTTP/2 stream). */
  readonly closed: boolean;
  /** The bytes handed to Exchange.data live in a shared read buffer (valid during the call only). */
  readonly transient: boolean;
  readonly parser: { readonly keepAlive: boolean };
  readonly socket: { pause(): void; resume(): void; destroy(): void };
  /**
   * Sends a request: its head and whole body, or its head and then a streamed body's bytes as they
   * come (the body's sink until the body ends or the exchange is given up).
   */
  send(head: string, body: Buffer | RequestBody, exchange: Exchange, noBody: boolean): void;
}

export type AcquireError = 'overflow' | 'connect' | 'timeout';
export type AcquireCallback = (err: AcquireError | null, c?: UpstreamConnection) => void;

export class Host implements LbHost {
  readonly key: string;
  active = 0;
  /** Active health checking: unknown until the first check when configured. */
  healthy = true;
  hcOk = 0;
  hcFail = 0;
  ejected = false;
  /** Outlier detection state (outlier.ts), made on first use. */
  od?: HostOutlierState;
  idle: UpstreamConnection[] = [];
  rqTotal = 0;
  rqError = 0;
  cxActive = 0;

  constructor(
    readonly address: SockAddr,
    readonly weight: number,
    readonly hostname: string,
  ) {
    this.key = `${address.host}:${address.port}`;
  }
}
