/**
 * Malformed and smuggling HTTP/1 requests sent raw to three proxies in front of the same kind of
 * recording backend: meshgen proxy, NGINX and HAProxy. For each case: what each proxy answered
 * (status, or closed, or nothing) and how many requests its backend received. The data plane must
 * refuse at least what both NGINX and HAProxy refuse, and never forward more requests than the
 * bytes hold. The table of outcomes is printed.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../../src/dataplane/server.js';
import { hasNginxWithStream } from '../../emitters/nginx/stream-module.js';
import { hasBinary, startOnFreePorts, startProcess, waitFor, type Started } from '../../support/processes.js';
import { boundPorts, cluster, httpBootstrap, startProxy } from '../helpers.js';
import { RAW_CASES, wireOf, type RawCase } from './raw-cases.js';

/** How long one case may wait for its answers (most end as soon as the proxy answers or closes). */
const CASE_DEADLINE_MS = 4000;
/** Cases in flight at once (each on three proxies). */
const PARALLEL = 12;

const PROXIES = ['meshgen', 'nginx', 'haproxy'] as const;
type ProxyName = (typeof PROXIES)[number];

interface Outcome {
  /** Statuses of the final responses, in order. */
  statuses: number[];
  /** How the connection ended: closed by the proxy, or still open at the deadline. */
  end: 'closed' | 'open';
  /** Bytes came back that are not an HTTP/1 response. */
  garbage: boolean;
  /** Requests the backend received for this case. */
  forwarded: number;
}

/** A backend that answers every request 200 and counts them by the case named in the path. */
interface RecordingBackend {
  port: number;
  seen: Map<number, number>;
  inflight(): number;
  close(): Promise<void>;
}

async function recordingBackend(): Promise<RecordingBackend> {
  const seen = new Map<number, number>();
  let inflight = 0;
  // by the path, or for a target with no path (`*`) by an x-case header; -1: not attributed
  const count = (text: string) => {
    const m = /r(\d+)\/a/.exec(text) ?? /\r\nx-case: *(\d+)/i.exec(text);
    const i = m ? Number(m[1]) : -1;
    seen.set(i, (seen.get(i) ?? 0) + 1);
  };
  const summary = (req: http.IncomingMessage) => `${req.url}\r\nx-case: ${req.headers['x-case'] ?? ''}`;
  const sockets = new Set<net.Socket>();
  // lenient, so that it counts whatever a proxy forwards
  const server = http.createServer(
    { insecureHTTPParser: true, requireHostHeader: false, maxHeaderSize: 1024 * 1024 },
    (req, res) => {
      count(summary(req));
      inflight++;
      res.on('close', () => inflight--);
      req.on('end', () => res.end('ok'));
      req.resume();
    },
  );
  // a request Node's parser refuses (a method it does not know) was still forwarded: counted by its bytes
  server.on('clientError', (e: Error & { rawPacket?: Buffer }, socket: net.Socket) => {
    if (e.rawPacket?.length) count(e.rawPacket.toString('latin1'));
    socket.destroy();
  });
  // CONNECT and upgrades reach the backend as events of their own
  const tunnel = (req: http.IncomingMessage, socket: net.Socket) => {
    count(summary(req));
    socket.on('error', () => {});
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  };
  server.on('connect', tunnel);
  server.on('upgrade', tunnel);
  server.on('connection', (s: net.Socket) => {
    s.on('error', () => {});
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    inflight: () => inflight,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Complete responses in bytes read so far: their statuses (1xx skipped), and whether one said close. */
function readResponses(b: string, closed = false): { statuses: number[]; garbage: boolean; close: boolean } {
  const statuses: number[] = [];
  let close = false;
  let at = 0;
  while (at < b.length) {
    if (!'HTTP/1.'.startsWith(b.slice(at, at + 7))) return { statuses, garbage: true, close };
    const end = b.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = b.slice(at, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
    if (Number.isNaN(status)) return { statuses, garbage: true, close };
    let next = end + 4;
    if (status >= 200) {
      const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        const last = b.indexOf('\r\n0\r\n\r\n', next - 2);
        if (last < 0) break;
        next = last + 7;
      } else if (cl) next += Number(cl[1]);
      else if (status !== 204 && status !== 304) {
        // delimited by the close of the connection
        if (closed) statuses.push(status);
        break;
      }
      if (next > b.length) break;
      statuses.push(status);
      if (/\r\nconnection: *close/i.test(head)) close = true;
    }
    at = next;
  }
  return { statuses, garbage: false, close };
}

/** Sends one case on its own connection; done when every request got an answer, at close, or at the deadline. */
function sendRaw(port: number, wire: string, expected: number): Promise<Omit<Outcome, 'forwarded'>> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let settled = false;
    const finish = (end: Outcome['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const r = readResponses(got, end === 'closed');
      resolve({ statuses: r.statuses, end, garbage: r.garbage });
    };
    const timer = setTimeout(() => finish('open'), CASE_DEADLINE_MS);
    s.on('connect', () => s.write(Buffer.from(wire, 'latin1')));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const r = readResponses(got);
      if (r.garbage || (r.statuses.length >= expected && !r.close)) finish('open');
    });
    s.on('error', () => finish('closed'));
    s.on('close', () => finish('closed'));
  });
}

/** Refused: nothing forwarded, and an error status or a closed connection (not a wait). */
function refused(o: Outcome): boolean {
  return (
    o.forwarded === 0 && o.statuses.every((s) => s >= 400) && (o.statuses.length > 0 || o.end === 'closed')
  );
}

function show(o: Outcome): string {
  const answer = o.statuses.length
    ? o.statuses.join(',')
    : o.garbage
      ? 'garbage'
      : o.end === 'closed'
        ? 'closed'
        : 'no answer';
  return `${answer} →${o.forwarded}`;
}

function nginxConf(port: number, backend: number, dir: string): string {
  return `
worker_processes 1;
master_process off;
daemon off;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backend { server 127.0.0.1:${backend}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

function haproxyCfg(port: number, backend: number): string {
  return `
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
  timeout http-request 10s
frontend raw
  bind 127.0.0.1:${port}
  default_backend recorder
backend recorder
  server b1 127.0.0.1:${backend}
`;
}

const run = hasBinary('haproxy') && hasNginxWithStream(hasBinary('nginx'));

(run ? describe : describe.skip)('raw HTTP/1 requests: meshgen proxy, NGINX and HAProxy', () => {
  const backends = {} as Record<ProxyName, RecordingBackend>;
  const ports = {} as Record<ProxyName, number>;
  const outcomes: Record<ProxyName, Outcome>[] = [];
  let dataPlane: Proxy | undefined;
  let nginx: Started | undefined;
  let haproxy: Started | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    for (const p of PROXIES) backends[p] = await recordingBackend();
    // an HTTP/1 port; the size of a head is configuration, and HAProxy's default (its 16 KiB
    // buffer) is given to the data plane so that the three are compared on parsing alone
    const vhosts = [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] },
    ];
    dataPlane = await startProxy(
      httpBootstrap(0, vhosts, [cluster('b', [backends.meshgen.port])], {
        hcm: { codec_type: 'HTTP1', max_request_headers_kb: 16 },
      }),
    );
    ports.meshgen = boundPorts(dataPlane)[0]!;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-raw-requests-'));
    const work = dir;
    const ng = await startOnFreePorts(1, ([p]) => {
      fs.writeFileSync(path.join(work, 'nginx.conf'), nginxConf(p!, backends.nginx.port, work));
      return startProcess('nginx', ['-p', work, '-c', path.join(work, 'nginx.conf')], { cwd: work });
    });
    nginx = ng.proc;
    ports.nginx = ng.ports[0]!;
    const ha = await startOnFreePorts(1, ([p]) => {
      fs.writeFileSync(path.join(work, 'haproxy.cfg'), haproxyCfg(p!, backends.haproxy.port));
      return startProcess('haproxy', ['-db', '-f', path.join(work, 'haproxy.cfg')], { cwd: work });
    });
    haproxy = ha.proc;
    ports.haproxy = ha.ports[0]!;

    const answers: Record<ProxyName, Omit<Outcome, 'forwarded'>>[] = [];
    let nextCase = 0;
    const worker = async () => {
      for (let i = nextCase++; i < RAW_CASES.length; i = nextCase++) {
        const wire = wireOf(i);
        const sent = RAW_CASES[i]!.sent;
        const [a, b, c] = await Promise.all(PROXIES.map((p) => sendRaw(ports[p], wire, sent)));
        answers[i] = { meshgen: a!, nginx: b!, haproxy: c! };
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    // requests a proxy forwarded are counted when they arrive; wait for those still in flight
    await waitFor(() => PROXIES.every((p) => backends[p].inflight() === 0), {
      what: 'the backends to finish the requests forwarded to them',
    });
    RAW_CASES.forEach((_c, i) => {
      const o = {} as Record<ProxyName, Outcome>;
      for (const p of PROXIES) o[p] = { ...answers[i]![p], forwarded: backends[p].seen.get(i) ?? 0 };
      outcomes[i] = o;
    });
    printTable(outcomes);
  }, 60_000);

  afterAll(async () => {
    await dataPlane?.stop();
    await nginx?.stop();
    await haproxy?.stop();
    for (const p of PROXIES) await backends[p]?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('attributes every forwarded request to a case', () => {
    for (const p of PROXIES) expect(backends[p].seen.get(-1) ?? 0, p).toBe(0);
  });

  it.each(RAW_CASES.map((c, i) => [`${i} ${c.group}: ${c.name}`, c, i] as [string, RawCase, number]))(
    '%s',
    (_name, c, i) => {
      const o = outcomes[i]!;
      expect(o.meshgen.forwarded, 'forwarded more requests than were sent').toBeLessThanOrEqual(c.sent);
      if (c.group === 'valid') {
        // the harness itself: every proxy forwards a well-formed request
        for (const p of PROXIES) expect([p, show(o[p])]).toEqual([p, `200 →${c.sent}`]);
      }
      if (refused(o.nginx) && refused(o.haproxy))
        expect(show(o.meshgen), 'NGINX and HAProxy both refuse this').toMatch(/^(4\d\d|5\d\d|closed) →0$/);
    },
  );
});

function printTable(outcomes: Record<ProxyName, Outcome>[]): void {
  const rows = RAW_CASES.map((c, i) => [
    `${i} ${c.group}: ${c.name}`,
    ...PROXIES.map((p) => show(outcomes[i]![p])),
  ]);
  const head = ['case (status or end →requests forwarded)', ...PROXIES];
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (r: string[]) => r.map((x, k) => x.padEnd(widths[k]!)).join(' | ');
  console.log([line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n'));
}
