/**
 * Stub backends for `meshgen test`: one small server per endpoint of every version, on 127.0.0.1,
 * port 0. Each answers with JSON naming its backend and version and echoing what it received, and
 * behaves as the current case says (a status, failing the first tries, a delay, a reset, no answer).
 * Requests carry the runner's tag header (case and request number); untagged ones (health checks)
 * and those of an earlier case (a mirror's copy or a retry that arrives late) get 200 and are not
 * counted, so that they neither take a failure meant for the case being run nor count as its tries.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { BackendBehaviour } from './simulate/types.js';

/** The header the runner tags each request with: `<case number>.<request number>`. */
export const TAG_HEADER = 'x-meshgen-test';

/** What a stub received, for one tagged request. */
export interface Received {
  readonly backend: string;
  readonly version: string;
  readonly tag: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The client certificate's URI SAN (mTLS stubs). */
  readonly peer?: string;
}

/** The tag header's value for request `n` of case `caseNumber` (what `StubState.current` reads). */
export function requestTag(caseNumber: number, n: number): string {
  return `${caseNumber}.${n}`;
}

/** The behaviour of the case being run, shared by every stub of one target. */
export class StubState {
  private behaviours: Readonly<Record<string, BackendBehaviour>> = {};
  private failures = new Map<string, number>();
  /** `<case number>.`: what the tags of the case being run start with (see `requestTag`). */
  private prefix = '';
  readonly received: Received[] = [];

  /** Starts a case: its behaviours, fresh counters, and the case number its requests are tagged with. */
  begin(behaviours: Readonly<Record<string, BackendBehaviour>>, caseNumber: number): void {
    this.behaviours = behaviours;
    this.failures.clear();
    this.received.length = 0;
    this.prefix = `${caseNumber}.`;
  }

  /** Whether a request's tag is one of the case being run. */
  current(tag: string): boolean {
    return tag.startsWith(this.prefix);
  }

  /** The behaviour for one try at backend/version, counting failFirst by the key that set it. */
  decide(backend: string, version: string): { key?: string; behaviour: BackendBehaviour; failing: boolean } {
    const key = [`${backend}/${version}`, backend].find((k) => this.behaviours[k] !== undefined);
    const behaviour = key ? this.behaviours[key]! : {};
    const done = key ? (this.failures.get(key) ?? 0) : 0;
    const failing = done < (behaviour.failFirst ?? 0);
    if (failing && key) this.failures.set(key, done + 1);
    return { key, behaviour, failing };
  }
}

export interface Stub {
  readonly backend: string;
  readonly version: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StubTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

function headersOf(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined && k !== TAG_HEADER) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Starts one stub endpoint; with tls it speaks HTTPS and requires a client certificate of the CA. */
export async function startStub(
  state: StubState,
  backend: string,
  version: string,
  tls?: StubTls,
  port = 0,
): Promise<Stub> {
  const sockets = new Set<net.Socket>();
  const handler: http.RequestListener = (req, res) => {
    const tag = req.headers[TAG_HEADER];
    req.resume();
    req.on('end', () => {
      if (typeof tag !== 'string' || !state.current(tag)) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      const cert = tls ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
      const peer = cert ? /URI:([^,\s]+)/.exec(cert.subjectaltname ?? '')?.[1] : undefined;
      const received: Received = {
        backend,
        version,
        tag,
        path: req.url ?? '',
        headers: headersOf(req),
        ...(peer ? { peer } : {}),
      };
      state.received.push(received);
      const { behaviour, failing } = state.decide(backend, version);
      if (!failing && behaviour.hang) return;
      if (!failing && behaviour.reset) {
        req.socket.resetAndDestroy();
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        const status = failing ? (behaviour.failStatus ?? 503) : (behaviour.status ?? 200);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ backend, version, path: received.path, headers: received.headers }));
      };
      if (!failing && behaviour.delayMs) setTimeout(send, behaviour.delayMs);
      else send();
    });
  };
  const server = tls
    ? https.createServer(
        { ...tls, requestCert: true, rejectUnauthorized: true, requireHostHeader: false },
        handler,
      )
    : http.createServer({ requireHostHeader: false }, handler);
  server.on(tls ? 'secureConnection' : 'connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    backend,
    version,
    port: (server.address() as net.AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
