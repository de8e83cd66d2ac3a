/** The requests `meshgen test` sends: one connection each, tagged for the stubs. */
import http from 'node:http';
import https from 'node:https';
import { TAG_HEADER } from './stubs.js';

export interface Sent {
  /** 0 when no HTTP answer came (a refused handshake, a reset, no answer in time). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Who answered, when the answer came from a stub. */
  readonly from?: { readonly backend: string; readonly version: string };
  /** The TLS handshake was refused (a client certificate the frontend does not accept). */
  readonly tlsRefused?: boolean;
  readonly error?: string;
  readonly elapsedMs: number;
}

export interface SendOptions {
  readonly port: number;
  readonly method: string;
  /** Path with its query. */
  readonly path: string;
  readonly host: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly tag: string;
  readonly tls?: {
    readonly ca: string;
    readonly servername: string;
    readonly cert?: string;
    readonly key?: string;
  };
  readonly timeoutMs: number;
  /** Keep-alive connections to reuse; default one connection for this request alone. */
  readonly agent?: http.Agent;
}

const TLS_ERROR = /certificate|handshake|alert|SSL|TLS|socket disconnected before secure/i;

/** Sends one request to 127.0.0.1 and reads the whole answer. */
export function send(o: SendOptions): Promise<Sent> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = (o.tls ? https : http).request(
      {
        host: '127.0.0.1',
        port: o.port,
        method: o.method,
        path: o.path,
        headers: {
          ...o.headers,
          host: o.host,
          [TAG_HEADER]: o.tag,
          ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}),
        },
        agent: o.agent ?? false,
        ...(o.tls
          ? {
              ca: o.tls.ca,
              servername: o.tls.servername.replace(/:\d+$/, ''),
              cert: o.tls.cert,
              key: o.tls.key,
            }
          : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('error', () => undefined);
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          let from: Sent['from'];
          try {
            const j = JSON.parse(body) as { backend?: unknown; version?: unknown };
            if (typeof j.backend === 'string' && typeof j.version === 'string')
              from = { backend: j.backend, version: j.version };
          } catch {
            from = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers, from, elapsedMs: performance.now() - t0 });
        });
      },
    );
    req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', (e: Error) => {
      const tlsRefused = o.tls !== undefined && TLS_ERROR.test(e.message);
      resolve({ status: 0, headers: {}, error: e.message, tlsRefused, elapsedMs: performance.now() - t0 });
    });
    req.end(o.body);
  });
}
