import http from 'node:http';
import type net from 'node:net';

/** What a test backend answers: who it is and what it received, as JSON. */
export interface EchoReply {
  backend: string;
  version: string;
  port: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

interface Behaviour {
  /** Answer with this status (default 200). */
  status?: number;
  /** Fail this many requests first with failStatus (default 503), then behave. */
  failFirst?: number;
  failStatus?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Headers added to every response. */
  headers?: Record<string, string>;
}

export interface TestBackend {
  readonly name: string;
  readonly version: string;
  readonly port: number;
  readonly address: string;
  /** Requests seen, in order (including failed and health-check ones). */
  readonly seen: EchoReply[];
  behave(b: Behaviour): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * Starts a small HTTP backend on 127.0.0.1 (port 0 picks a free one) that answers with JSON naming
 * itself and echoing the request, and counts what it saw: the tries a proxy made, the headers it set.
 */
export async function startBackend(
  name: string,
  version: string,
  port = 0,
  host = '127.0.0.1',
): Promise<TestBackend> {
  const seen: EchoReply[] = [];
  let behaviour: Behaviour = {};
  let failures = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const reply: EchoReply = {
      backend: name,
      version,
      port: (server.address() as net.AddressInfo).port,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
    };
    seen.push(reply);
    req.resume();
    req.on('end', () => {
      const send = () => {
        if (res.destroyed) return;
        const failing = failures < (behaviour.failFirst ?? 0);
        if (failing) failures++;
        const status = failing ? (behaviour.failStatus ?? 503) : (behaviour.status ?? 200);
        res.writeHead(status, { 'content-type': 'application/json', ...(behaviour.headers ?? {}) });
        res.end(JSON.stringify(reply));
      };
      if (behaviour.delayMs) setTimeout(send, behaviour.delayMs);
      else send();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as net.AddressInfo).port;
  return {
    name,
    version,
    port: actual,
    address: `${host}:${actual}`,
    seen,
    behave(b) {
      behaviour = b;
      failures = 0;
    },
    reset() {
      seen.length = 0;
      failures = 0;
      behaviour = {};
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
