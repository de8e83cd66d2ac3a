/** What the client saw: answers by kind, and the failures by name (status or error code). */
export interface LoadCounts {
  sent: number;
  ok: number;
  /** Error statuses (4xx, 5xx). */
  failed: number;
  /** No answer: the connection or stream broke. */
  dropped: number;
  /**
   * HTTP/2 streams the client's own stack never sent: node:http2 (nghttp2) drops the streams it has
   * queued but not yet written when it reads a GOAWAY, whatever the last stream id says.
   */
  unsent: number;
  outcomes: Record<string, number>;
}

export interface LoadOptions {
  port: number;
  host?: string;
  protocol?: 'http1' | 'h2';
  /** Clients, each with one request at a time (HTTP/2: concurrent streams). */
  connections?: number;
  /** HTTP/2 sessions the streams share. */
  sessions?: number;
  /** Requests per second in all; 0 sends each next request as soon as the previous is answered. */
  rate?: number;
  path?: string;
}

export interface Load {
  readonly counts: LoadCounts;
  readonly sessionsOpened: number;
  /** HTTP/1.1: the connections opened (one per request when the server closes each after answering). */
  readonly connectionsOpened: number;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<LoadCounts>;
}

/** Steady, bounded keep-alive load that counts what a client sees. */
export function startLoad(options: LoadOptions): Load;
