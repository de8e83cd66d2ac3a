import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../../src/dataplane/server.js';
import { waitFor } from '../../support/processes.js';
import { cluster, httpBootstrap, startProxy, type Obj } from '../helpers.js';

/**
 * Request bodies stream through the data plane as through Envoy: the upstream gets the first bytes
 * before the client has sent the rest, the proxy holds no more than its buffer limit of a body
 * (per_connection_buffer_limit_bytes) and stops reading above it, a retry or a shadow resends a
 * body kept within the limit and is given up beyond it (retry_or_shadow_abandoned).
 */

const MiB = 1024 * 1024;

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  sha: string;
  /** The request's first body bytes arrived. */
  started: boolean;
  done: boolean;
}

/**
 * An HTTP/1.1 backend that reads each request body, counting it and hashing it. `hold` pauses
 * new requests until release() (their bytes stay in the kernel and the proxy); `answer` overrides
 * the response status by path.
 */
function backend() {
  const seen: Seen[] = [];
  const held: http.IncomingMessage[] = [];
  const state = {
    seen,
    hold: false,
    /** Status codes to answer in turn (then 200), and whether to answer before reading the body. */
    statuses: [] as number[],
    early: false,
    release() {
      state.hold = false;
      for (const r of held.splice(0)) r.resume();
    },
    port: 0,
    server: http.createServer((req, res) => {
      const s: Seen = {
        path: req.url ?? '',
        headers: req.headers,
        bytes: 0,
        sha: '',
        started: false,
        done: false,
      };
      seen.push(s);
      const status = state.statuses.shift() ?? 200;
      if (state.early) {
        res.writeHead(413, { 'content-length': '0' });
        res.end();
        return;
      }
      const h = createHash('sha256');
      req.on('data', (b: Buffer) => {
        s.started = true;
        s.bytes += b.length;
        h.update(b);
      });
      req.on('end', () => {
        s.sha = h.digest('hex');
        s.done = true;
        const body = JSON.stringify({ bytes: s.bytes, sha: s.sha });
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      });
      if (state.hold) {
        req.pause();
        held.push(req);
      }
    }),
  };
  return state;
}

const b = backend();
const mirror = backend();
let p: Proxy | undefined;
const closers: (() => void)[] = [];

beforeAll(async () => {
  for (const s of [b, mirror]) {
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    s.port = (s.server.address() as net.AddressInfo).port;
  }
});
afterAll(async () => {
  for (const s of [b, mirror]) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await p?.stop();
  p = undefined;
  for (const s of [b, mirror]) {
    s.seen.length = 0;
    s.hold = false;
    s.early = false;
    s.statuses = [];
  }
});

/** The proxy with routes /retry (one retry on 5xx), /mirror (shadowed), / (plain); listener limit. */
async function proxy(limit?: number, http2?: Obj): Promise<number> {
  const boot = httpBootstrap(
    0,
    [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/retry' },
            route: { cluster: 'b', retry_policy: { retry_on: '5xx', num_retries: 1 } },
          },
          {
            match: { prefix: '/mirror' },
            route: { cluster: 'b', request_mirror_policies: [{ cluster: 'mirror' }] },
          },
          { match: { prefix: '/' }, route: { cluster: 'b', timeout: '0s' } },
        ],
      },
    ],
    [cluster('b', [b.port]), cluster('mirror', [mirror.port])],
    { hcm: { codec_type: 'AUTO', ...(http2 ? { http2_protocol_options: http2 } : {}) } },
  );
  if (limit !== undefined)
    (boot.static_resources.listeners[0] as Obj).per_connection_buffer_limit_bytes = limit;
  p = await startProxy(boot);
  return p.listenerPort('http')!;
}

const stat = (name: string) => p!.stats.get(name) ?? 0;

/** Deterministic body bytes: chunk i of size n. */
function piece(i: number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let k = 0; k + 4 <= n; k += 4) out.writeUInt32LE((i * 2654435761 + k) >>> 0, k);
  return out;
}

/**
 * An HTTP/1.1 upload over a raw socket: the head, then `total` bytes in 256 KiB pieces (chunked
 * or with a Content-Length), written as the socket takes them; `gate` is awaited after the first
 * `gateAfter` bytes. Resolves with the response text once the proxy closes or the response ends.
 */
function upload(
  port: number,
  path: string,
  total: number,
  opts: { chunked?: boolean; gate?: () => Promise<unknown>; gateAfter?: number } = {},
) {
  const hash = createHash('sha256');
  let digest: string | undefined;
  const s = net.connect(port, '127.0.0.1');
  closers.push(() => s.destroy());
  let response = '';
  const ended = new Promise<string>((resolve) => {
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
      const m = /content-length: (\d+)\r\n/i.exec(response);
      const head = response.indexOf('\r\n\r\n');
      if (m && head >= 0 && response.length >= head + 4 + Number(m[1])) resolve(response);
    });
    s.on('close', () => resolve(response));
    s.on('error', () => {});
  });
  const framing = opts.chunked ? 'transfer-encoding: chunked' : `content-length: ${total}`;
  s.write(`POST ${path} HTTP/1.1\r\nhost: up.test\r\n${framing}\r\n\r\n`);
  const sent = (async () => {
    const piecesize = 256 * 1024;
    for (let at = 0, i = 0; at < total; at += piecesize, i++) {
      if (opts.gate && at === (opts.gateAfter ?? piecesize)) await opts.gate();
      const c = piece(i, Math.min(piecesize, total - at));
      hash.update(c);
      const out = opts.chunked
        ? Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')])
        : c;
      if (s.destroyed) return;
      if (!s.write(out))
        await new Promise<void>((r) => {
          // whichever comes first; the other listener goes too, or each wait would leave one behind
          const done = () => {
            s.off('drain', done).off('close', done);
            r();
          };
          s.once('drain', done).once('close', done);
        });
    }
    if (opts.chunked && !s.destroyed) s.write('0\r\n\r\n');
  })();
  return { sent, ended, sha: () => (digest ??= hash.digest('hex')), socket: s };
}

const status = (response: string) => Number(/^HTTP\/1\.1 (\d+)/.exec(response)?.[1]);
const json = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

describe('request bodies stream (HTTP/1.1)', () => {
  it('a 64 MiB upload reaches the backend as it comes: its first bytes before the client sent the rest', async () => {
    const port = await proxy();
    const u = upload(port, '/plain', 64 * MiB, {
      gate: () => waitFor(() => b.seen[0]?.started === true, { what: 'the first body bytes at the backend' }),
    });
    await u.sent;
    const r = await u.ended;
    expect(status(r)).toBe(200);
    expect(json(r)).toEqual({ bytes: 64 * MiB, sha: u.sha() });
    expect(b.seen[0]!.headers['content-length']).toBe(String(64 * MiB));
  });

  it('a chunked upload goes upstream chunked, byte for byte', async () => {
    const port = await proxy();
    const u = upload(port, '/plain', 20 * MiB + 7, {
      chunked: true,
      gate: () => waitFor(() => b.seen[0]?.started === true, { what: 'the first body bytes at the backend' }),
    });
    await u.sent;
    const r = await u.ended;
    expect(status(r)).toBe(200);
    expect(json(r)).toEqual({ bytes: 20 * MiB + 7, sha: u.sha() });
    expect(b.seen[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(b.seen[0]!.headers['content-length']).toBeUndefined();
  });

  it('60 uploads of 8 MiB to a backend that does not read: the proxy holds about its buffer limit of each', async () => {
    const port = await proxy();
    b.hold = true;
    const base = process.memoryUsage().arrayBuffers;
    const ups = Array.from({ length: 60 }, () => upload(port, '/plain', 8 * MiB));
    await waitFor(() => b.seen.length === 60, { what: 'the 60 requests at the backend', timeoutMs: 20_000 });
    // every connection stopped being read once its body filled the buffer
    await waitFor(() => stat('http.ingress.downstream_flow_control_paused_reading_total') >= 60, {
      what: 'the proxy to stop reading the 60 uploads',
      timeoutMs: 20_000,
    });
    const held = process.memoryUsage().arrayBuffers - base;
    // buffering the bodies whole would take 480 MiB; the limit (1 MiB) plus the upstream socket's
    // buffer (the cluster's 1 MiB) and a read of each connection is about 2 MiB each
    expect(held).toBeLessThan(200 * MiB);
    b.release();
    const rs = await Promise.all(ups.map((u) => u.sent.then(() => u.ended)));
    rs.forEach((r, i) => {
      expect(status(r)).toBe(200);
      expect(json(r)).toEqual({ bytes: 8 * MiB, sha: ups[i]!.sha() });
    });
    expect(stat('http.ingress.downstream_flow_control_resumed_reading_total')).toBeGreaterThanOrEqual(60);
  }, 60_000);

  it('a retry resends a body kept within the limit', async () => {
    const port = await proxy();
    b.statuses = [503];
    const u = upload(port, '/retry', 512 * 1024, {
      gate: () => waitFor(() => b.seen[0]?.started === true, { what: 'the first attempt to get body bytes' }),
    });
    await u.sent;
    const r = await u.ended;
    expect(status(r)).toBe(200);
    expect(b.seen).toHaveLength(2);
    for (const s of b.seen)
      expect({ bytes: s.bytes, sha: s.sha }).toEqual({ bytes: 512 * 1024, sha: u.sha() });
    expect(stat('cluster.b.upstream_rq_retry')).toBe(1);
    expect(stat('cluster.b.retry_or_shadow_abandoned')).toBe(0);
  });

  it('a body past the limit is not kept: no retry (retry_or_shadow_abandoned), the 503 goes to the client', async () => {
    const port = await proxy(64 * 1024);
    b.statuses = [503];
    const u = upload(port, '/retry', 2 * MiB);
    await u.sent;
    const r = await u.ended;
    expect(status(r)).toBe(503);
    expect(b.seen).toHaveLength(1);
    expect(b.seen[0]!.bytes).toBe(2 * MiB);
    expect(stat('cluster.b.retry_or_shadow_abandoned')).toBe(1);
    expect(stat('cluster.b.upstream_rq_retry')).toBe(0);
  });

  it('a shadow gets the whole body within the limit, and none past it', async () => {
    const port = await proxy(256 * 1024);
    const small = upload(port, '/mirror/small', 200 * 1024);
    await small.sent;
    expect(status(await small.ended)).toBe(200);
    await waitFor(() => mirror.seen[0]?.done === true, { what: 'the shadow of the small upload' });
    expect({ bytes: mirror.seen[0]!.bytes, sha: mirror.seen[0]!.sha }).toEqual({
      bytes: 200 * 1024,
      sha: small.sha(),
    });
    expect(mirror.seen[0]!.headers.host).toBe('up.test-shadow');

    const big = upload(port, '/mirror/big', 3 * MiB, { chunked: true });
    await big.sent;
    const r = await big.ended;
    expect(status(r)).toBe(200);
    expect(json(r)).toEqual({ bytes: 3 * MiB, sha: big.sha() });
    expect(stat('cluster.mirror.retry_or_shadow_abandoned')).toBe(1);
    expect(mirror.seen).toHaveLength(1);
  });

  it('a response before the end of its request closes the connection after it, without waiting for the body', async () => {
    const port = await proxy();
    b.early = true;
    const u = upload(port, '/plain', 256 * MiB);
    const r = await u.ended;
    expect(status(r)).toBe(413);
    expect(r).toMatch(/\r\nconnection: close\r\n/);
    await waitFor(() => u.socket.destroyed || u.socket.readableEnded, {
      what: 'the proxy to close the connection',
    });
    await u.sent;
    // far less than the 256 MiB were read
    expect(b.seen).toHaveLength(1);
  });

  it('a malformed chunk in a streamed body: 400, the connection closed, the upstream request reset', async () => {
    const port = await proxy();
    const s = net.connect(port, '127.0.0.1');
    closers.push(() => s.destroy());
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const closed = new Promise((r) => s.on('close', r));
    s.write('POST /plain HTTP/1.1\r\nhost: up.test\r\ntransfer-encoding: chunked\r\n\r\n4\r\nabcd\r\n');
    await waitFor(() => b.seen[0]?.started === true, { what: 'the first chunk at the backend' });
    s.write('zz\r\n');
    await closed;
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    await waitFor(
      () => b.seen[0] !== undefined && !b.seen[0].done && stat('cluster.b.upstream_rq_active') === 0,
      {
        what: 'the upstream request to end',
      },
    );
  });
});

/** An HTTP/2 (prior knowledge) session to the proxy. */
async function h2session(port: number): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  closers.push(() => s.destroy());
  await new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('error', reject));
  return s;
}

describe('request bodies stream (HTTP/2)', () => {
  it('a 16 MiB upload reaches an HTTP/1.1 backend as it comes, chunked (no length given)', async () => {
    const port = await proxy();
    const s = await h2session(port);
    const st = s.request({ ':method': 'POST', ':path': '/plain' });
    const hash = createHash('sha256');
    let reply = '';
    st.on('data', (d: Buffer) => (reply += d.toString()));
    const done = new Promise<number>((r) =>
      st.on('response', (h) => st.on('end', () => r(Number(h[':status'])))),
    );
    for (let i = 0; i < 64; i++) {
      if (i === 4)
        await waitFor(() => b.seen[0]?.started === true, { what: 'the first body bytes at the backend' });
      const c = piece(i, 256 * 1024);
      hash.update(c);
      if (!st.write(c)) await new Promise((r) => st.once('drain', r));
    }
    st.end();
    expect(await done).toBe(200);
    expect(JSON.parse(reply)).toEqual({ bytes: 16 * MiB, sha: hash.digest('hex') });
    expect(b.seen[0]!.headers['transfer-encoding']).toBe('chunked');
  });

  it('a backend that does not read: the proxy stops reading the stream (flow control holds the client)', async () => {
    const port = await proxy(64 * 1024, { initial_stream_window_size: 65535 });
    b.hold = true;
    const s = await h2session(port);
    const total = 64 * MiB;
    const st = s.request({ ':method': 'POST', ':path': '/plain', 'content-length': String(total) });
    const hash = createHash('sha256');
    let reply = '';
    st.on('data', (d: Buffer) => (reply += d.toString()));
    const done = new Promise<number>((r) =>
      st.on('response', (h) => st.on('end', () => r(Number(h[':status'])))),
    );
    let written = 0;
    /** Since when the client has waited for the stream to take more (0: it is not waiting). */
    let waitingSince = 0;
    const writing = (async () => {
      for (let i = 0; written < total; i++) {
        const c = piece(i, 256 * 1024);
        hash.update(c);
        written += c.length;
        if (st.write(c)) continue;
        waitingSince = Date.now();
        await new Promise((r) => st.once('drain', r));
        waitingSince = 0;
      }
      st.end();
    })();
    await waitFor(() => waitingSince > 0 && Date.now() - waitingSince > 300, {
      what: 'the client to be held by flow control',
    });
    // what the proxy and the sockets hold: the buffer limit, the stream window, the kernel's buffers
    expect(written).toBeLessThan(total / 2);
    const paused = stat('http.ingress.downstream_flow_control_paused_reading_total');
    expect(paused).toBeGreaterThan(stat('http.ingress.downstream_flow_control_resumed_reading_total'));
    b.release();
    await writing;
    expect(await done).toBe(200);
    expect(JSON.parse(reply)).toEqual({ bytes: total, sha: hash.digest('hex') });
    expect(b.seen[0]!.headers['content-length']).toBe(String(total));
  });
});
