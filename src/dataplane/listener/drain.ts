import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a listener generation's network filters offer its drain. */
export interface Drainable {
  /**
   * Starts the drain: HTTP/1 responses carry `connection: close` and their connection closes after
   * them; HTTP/2 sessions get the shutdown notice. No connection is closed under a client that may
   * be sending its next request on it.
   */
  drain(): void;
  /** The drain time is over: closes the connections with no request in flight (HTTP/1) or sends the final GOAWAY (HTTP/2). */
  closeIdle?(): void;
  readonly activeConnections: number;
}

/**
 * Drains the connections of a generation as Envoy drains a listener: they are told to close (see
 * Drainable.drain) and given the drain time to do so; then those still idle are closed. A client
 * on an idle HTTP/1 keep-alive connection may be writing its next request at any moment, so closing
 * it is a race the client can lose: it is done only when the drain time ends, as in Envoy, and by
 * then a client with traffic has had every connection answered with `connection: close`.
 */
export async function drainConnections(handlers: readonly Drainable[], drainTimeMs: number): Promise<void> {
  for (const h of handlers) h.drain();
  const deadline = Date.now() + drainTimeMs;
  while (Date.now() < deadline && handlers.some((h) => h.activeConnections > 0)) await sleep(50);
  for (const h of handlers) h.closeIdle?.();
}

/** An HTTP/1 downstream connection as the drain sees it (hcm.ts DownConn). */
interface Http1Conn {
  readonly socket: net.Socket;
  readonly busy: boolean;
  readonly parser: { readonly buffered: number };
  closed: boolean;
}

/**
 * Closes the HTTP/1 connections with no request in flight and no byte of the next one received;
 * the others close after their response (the drain adds `connection: close` to it).
 */
export function closeIdleHttp1(conns: Iterable<Http1Conn>): void {
  for (const c of conns) {
    if (c.busy || c.closed || c.parser.buffered > 0) continue;
    c.closed = true;
    c.socket.end();
  }
}
