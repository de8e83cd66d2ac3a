import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import {
  boundPorts,
  closedPort,
  cluster,
  envoyExample,
  httpBootstrap,
  localize,
  startProxy,
  type Obj,
} from './helpers.js';
import { waitFor } from '../support/processes.js';

/** RFC 6455 pieces: the accept key, frames (client frames masked), a frame reader. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptOf = (key: string) =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

function frame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const n = payload.length;
  const head: number[] = [0x80 | opcode];
  const m = mask ? 0x80 : 0;
  if (n < 126) head.push(m | n);
  else if (n < 65536) head.push(m | 126, n >> 8, n & 255);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, body]);
}

interface Frame {
  opcode: number;
  payload: Buffer;
}

/** Reads whole frames off a growing buffer; returns them and the bytes left. */
function readFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let i = 0;
  for (;;) {
    if (buf.length - i < 2) break;
    const opcode = buf[i]! & 0x0f;
    const masked = (buf[i + 1]! & 0x80) !== 0;
    let n = buf[i + 1]! & 0x7f;
    let at = i + 2;
    if (n === 126) {
      if (buf.length - at < 2) break;
      n = buf.readUInt16BE(at);
      at += 2;
    } else if (n === 127) {
      if (buf.length - at < 8) break;
      n = buf.readUInt32BE(at + 4);
      at += 8;
    }
    const key = masked ? buf.subarray(at, at + 4) : null;
    if (masked) at += 4;
    if (buf.length - at < n) break;
    let payload = Buffer.from(buf.subarray(at, at + n));
    if (key) payload = Buffer.from(payload.map((b, j) => b ^ key[j % 4]!));
    frames.push({ opcode, payload });
    i = at + n;
  }
  return { frames, rest: buf.subarray(i) };
}

/** A WebSocket echo server over net: greets with a text frame sent with the 101, echoes frames, answers close. */
interface WsBackend {
  port: number;
  heads: Record<string, string>[];
  paths: string[];
  close(): Promise<void>;
}
async function wsBackend(): Promise<WsBackend> {
  const sockets = new Set<net.Socket>();
  const b: WsBackend = { port: 0, heads: [], paths: [], close: async () => {} };
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    let open = false;
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const path = lines[0]!.split(' ')[1]!;
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const c = l.indexOf(':');
          headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
        }
        b.heads.push(headers);
        b.paths.push(path);
        buf = buf.subarray(end + 4);
        if (path === '/garbage') {
          s.end('HTTP/1.1 400 Bad Request\r\ntransfer-encoding: gzip\r\n\r\nxyz');
          return;
        }
        if (path === '/reject') {
          s.end(
            'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 15\r\nx-why: no\r\n\r\nno upgrade here',
          );
          return;
        }
        open = true;
        s.write(
          Buffer.concat([
            Buffer.from(
              `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(headers['sec-websocket-key']!)}\r\n\r\n`,
            ),
            frame(1, Buffer.from('hello from backend'), false),
          ]),
        );
      }
      const { frames, rest } = readFrames(buf);
      buf = rest;
      for (const f of frames) {
        if (f.opcode === 8) {
          s.end(frame(8, f.payload, false));
          return;
        }
        s.write(frame(f.opcode, f.payload, false));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  b.port = (server.address() as net.AddressInfo).port;
  b.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  };
  return b;
}

/** A WebSocket client over net: handshake (optionally with a first frame in the same write), frames, close. */
class WsClient {
  readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  head = '';
  frames: Frame[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      if (!this.head) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.head = this.buf.toString('latin1', 0, end + 4);
        this.buf = this.buf.subarray(end + 4);
      }
      if (this.head.startsWith('HTTP/1.1 101')) {
        const { frames, rest } = readFrames(this.buf);
        this.buf = rest;
        this.frames.push(...frames);
      }
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits (bounded) until cond holds. */
  async until(cond: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  get body(): string {
    return this.buf.toString('latin1');
  }

  handshake(path: string, key: string, extra = '', first?: Buffer): void {
    const head = `GET ${path} HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
    this.socket.write(first ? Buffer.concat([Buffer.from(head), first]) : head);
  }

  send(opcode: number, payload: Buffer): void {
    this.socket.write(frame(opcode, payload, true));
  }
}

let backend: WsBackend;
const proxies: Proxy[] = [];
const clients: WsClient[] = [];
beforeAll(async () => {
  backend = await wsBackend();
});
afterAll(async () => {
  await backend.close();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  backend.heads.length = 0;
  backend.paths.length = 0;
});

async function proxy(routes: Obj[], hcm: Obj = {}, filters?: Obj[]): Promise<{ port: number; p: Proxy }> {
  const p = await startProxy(
    httpBootstrap(0, [{ name: 'v', domains: ['*'], routes }], [cluster('ws', [backend.port])], {
      hcm,
      filters,
    }),
  );
  const port = boundPorts(p)[0]!;
  proxies.push(p);
  return { port, p };
}

function client(port: number): WsClient {
  const c = new WsClient(port);
  clients.push(c);
  return c;
}

const WS = { upgrade_configs: [{ upgrade_type: 'websocket' }] };

describe('WebSocket upgrades', () => {
  it('101 with the right accept key, frames both ways (leftover bytes included), close propagates', async () => {
    const { port, p } = await proxy(
      [
        {
          match: { prefix: '/chat' },
          route: { cluster: 'ws', prefix_rewrite: '/ws' },
          request_headers_to_add: [{ header: { key: 'x-route', value: 'chat' } }],
        },
      ],
      WS,
    );
    const key = randomBytes(16).toString('base64');
    const c = client(port);
    // the first frame goes in the same write as the handshake: buffered by the proxy before the 101
    c.handshake('/chat/room', key, '', frame(1, Buffer.from('early'), true));
    await c.until(() => c.frames.length >= 2);
    expect(c.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(c.head.toLowerCase()).toContain(`sec-websocket-accept: ${acceptOf(key).toLowerCase()}\r\n`);
    expect(c.head.toLowerCase()).toContain('upgrade: websocket\r\n');
    expect(c.head.toLowerCase()).toContain('connection: upgrade\r\n');
    // the greeting came with the 101 from the backend (leftover upstream bytes)
    expect(c.frames[0]!.payload.toString()).toBe('hello from backend');
    expect(c.frames[1]!.payload.toString()).toBe('early');
    const h = backend.heads[0]!;
    expect(backend.paths[0]).toBe('/ws/room');
    expect(h.upgrade).toBe('websocket');
    expect(h.connection?.toLowerCase()).toBe('upgrade');
    expect(h['sec-websocket-key']).toBe(key);
    expect(h['x-route']).toBe('chat');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(p.stats.get('http.ingress.downstream_cx_upgrades_total')).toBe(1);
    expect(p.stats.get('http.ingress.downstream_cx_upgrades_active')).toBe(1);

    // text and a large binary frame, echoed
    c.send(1, Buffer.from('ping over the proxy'));
    const big = randomBytes(300_000);
    c.send(2, big);
    await c.until(() => c.frames.length >= 4);
    expect(c.frames[2]).toMatchObject({ opcode: 1 });
    expect(c.frames[2]!.payload.toString()).toBe('ping over the proxy');
    expect(c.frames[3]!.opcode).toBe(2);
    expect(c.frames[3]!.payload.equals(big)).toBe(true);

    // close: the backend answers the close frame and closes; the proxy closes downstream
    const code = Buffer.from([0x03, 0xe8]);
    c.send(8, code);
    await c.until(() => c.closed);
    expect(c.frames[4]).toMatchObject({ opcode: 8 });
    expect(c.frames[4]!.payload.equals(code)).toBe(true);
    const open = [
      'http.ingress.downstream_cx_upgrades_active',
      'cluster.ws.upstream_cx_active',
      'cluster.ws.upstream_rq_active',
      'http.ingress.downstream_cx_active',
    ];
    await waitFor(() => open.every((n) => p.stats.get(n) === 0), {
      what: 'the proxy to close both sides and count them closed',
    });
    expect(p.stats.get('http.ingress.downstream_cx_upgrades_active')).toBe(0);
    expect(p.stats.get('cluster.ws.upstream_cx_active')).toBe(0);
    expect(p.stats.get('cluster.ws.upstream_rq_active')).toBe(0);
    expect(p.stats.get('http.ingress.downstream_cx_active')).toBe(0);
  });

  it('writes the access log line when the upgraded connection closes, with 101 and the bytes sent', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-ws-'));
    const log = path.join(dir, 'access.log');
    const { port } = await proxy([{ match: { prefix: '/' }, route: { cluster: 'ws' } }], {
      ...WS,
      access_log: [
        {
          name: 'envoy.access_loggers.file',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
            path: log,
          },
        },
      ],
    });
    const c = client(port);
    c.handshake('/logged', randomBytes(16).toString('base64'));
    await c.until(() => c.frames.length >= 1);
    c.send(1, Buffer.from('x'.repeat(100)));
    await c.until(() => c.frames.length >= 2);
    expect(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').toBe('');
    c.send(8, Buffer.from([0x03, 0xe8]));
    await c.until(() => c.closed);
    const line = await waitFor(() => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''), {
      what: 'the access log line',
    });
    // greeting (20) + echo (102) + close (4) bytes came from upstream after the head
    expect(line).toMatch(/"GET \/logged HTTP\/1\.1" 101 - 0 126 /);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the downstream closing closes the upstream side', async () => {
    const { port, p } = await proxy([{ match: { prefix: '/' }, route: { cluster: 'ws' } }], WS);
    const c = client(port);
    c.handshake('/', randomBytes(16).toString('base64'));
    await c.until(() => c.frames.length >= 1);
    expect(p.stats.get('cluster.ws.upstream_cx_active')).toBe(1);
    c.socket.destroy();
    await waitFor(() => p.stats.get('cluster.ws.upstream_cx_active') === 0, {
      what: 'the upstream connection to close',
    });
    expect(p.stats.get('cluster.ws.upstream_cx_active')).toBe(0);
    expect(p.stats.get('http.ingress.downstream_cx_upgrades_active')).toBe(0);
  });

  it('the route timeout does not apply once upgraded', async () => {
    const { port } = await proxy([{ match: { prefix: '/' }, route: { cluster: 'ws', timeout: '0.2s' } }], WS);
    const c = client(port);
    c.handshake('/', randomBytes(16).toString('base64'));
    await c.until(() => c.frames.length >= 1);
    // behaviour, not waiting: the session outlives the 0.2 s route timeout by this much
    await new Promise((r) => setTimeout(r, 500));
    c.send(1, Buffer.from('still here'));
    await c.until(() => c.frames.length >= 2);
    expect(c.frames[1]!.payload.toString()).toBe('still here');
    expect(c.closed).toBe(false);
  });

  it('without upgrade_configs, or disabled on the route, the upgrade gets 403', async () => {
    const none = await proxy([{ match: { prefix: '/' }, route: { cluster: 'ws' } }]);
    const c = client(none.port);
    c.handshake('/', randomBytes(16).toString('base64'));
    await c.until(() => c.closed || c.head !== '');
    expect(c.head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(none.p.stats.get('http.ingress.downstream_rq_ws_on_non_ws_route')).toBe(1);

    const off = await proxy(
      [
        {
          match: { prefix: '/off' },
          route: { cluster: 'ws', upgrade_configs: [{ upgrade_type: 'websocket', enabled: false }] },
        },
        { match: { prefix: '/' }, route: { cluster: 'ws' } },
      ],
      WS,
    );
    const d = client(off.port);
    d.handshake('/off', randomBytes(16).toString('base64'));
    await d.until(() => d.head !== '');
    expect(d.head).toMatch(/^HTTP\/1\.1 403 /);
    expect(backend.heads.length).toBe(0);
  });

  it('a route can enable the upgrade the connection manager does not configure', async () => {
    const { port } = await proxy([
      {
        match: { prefix: '/' },
        route: { cluster: 'ws', upgrade_configs: [{ upgrade_type: 'WebSocket' }] },
      },
    ]);
    const c = client(port);
    c.handshake('/', randomBytes(16).toString('base64'));
    await c.until(() => c.frames.length >= 1);
    expect(c.head).toMatch(/^HTTP\/1\.1 101 /);
  });

  it('a non-101 answer from the upstream is forwarded as a response', async () => {
    const { port, p } = await proxy(
      [
        {
          match: { prefix: '/' },
          route: { cluster: 'ws' },
          response_headers_to_add: [{ header: { key: 'x-proxy', value: 'yes' } }],
        },
      ],
      WS,
    );
    const c = client(port);
    c.handshake('/reject', randomBytes(16).toString('base64'));
    await c.until(() => c.closed);
    expect(c.head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(c.head).toContain('x-why: no\r\n');
    expect(c.head).toContain('x-proxy: yes\r\n');
    expect(c.head).toContain('content-length: 15\r\n');
    expect(c.body).toBe('no upgrade here');
    expect(p.stats.get('cluster.ws.upstream_rq_400')).toBe(1);
    expect(p.stats.get('http.ingress.downstream_rq_4xx')).toBe(1);
    expect(p.stats.get('http.ingress.downstream_cx_upgrades_active')).toBe(0);
  });

  it('a non-101 answer the proxy cannot frame gets 502 and the proxy keeps serving', async () => {
    const { port } = await proxy([{ match: { prefix: '/' }, route: { cluster: 'ws' } }], WS);
    const c = client(port);
    c.handshake('/garbage', randomBytes(16).toString('base64'));
    await c.until(() => c.closed);
    expect(c.head).toMatch(/^HTTP\/1\.1 502 /);
    expect(c.body).toContain('protocol error');
    const d = client(port);
    d.handshake('/', randomBytes(16).toString('base64'));
    await d.until(() => d.frames.length >= 1);
    expect(d.head).toMatch(/^HTTP\/1\.1 101 /);
  });

  it('RING_HASH with a header hash policy keeps a client on one backend', async () => {
    const other = await wsBackend();
    try {
      const p = await startProxy(
        httpBootstrap(
          0,
          [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                {
                  match: { prefix: '/' },
                  route: { cluster: 'ws2', hash_policy: [{ header: { header_name: 'x-user' } }] },
                },
              ],
            },
          ],
          [cluster('ws2', [backend.port, other.port], { lb_policy: 'RING_HASH' })],
          { hcm: WS },
        ),
      );
      const port = boundPorts(p)[0]!;
      proxies.push(p);
      const seenBy = async (user: string) => {
        const c = client(port);
        c.handshake('/', randomBytes(16).toString('base64'), `x-user: ${user}\r\n`);
        await c.until(() => c.frames.length >= 1);
        c.socket.destroy();
        const a = backend.heads.filter((h) => h['x-user'] === user).length;
        const b = other.heads.filter((h) => h['x-user'] === user).length;
        return a > 0 && b === 0 ? 'a' : b > 0 && a === 0 ? 'b' : 'both';
      };
      // the ring's points hang on the backends' addresses, whose ports the test picks at random: with
      // 32 users, all of them landing on one backend has a chance of 2 in 2^32 (8 users: 1 in 128)
      const users = Array.from({ length: 32 }, (_, i) => `u${i + 1}`);
      const where: string[] = [];
      for (const u of users) {
        for (let i = 0; i < 2; i++) expect(await seenBy(u)).not.toBe('both');
        where.push(await seenBy(u));
      }
      expect(new Set(where).size).toBe(2); // the users spread over both backends
    } finally {
      await other.close();
    }
  });

  it('filters run first: RBAC can deny the upgrade', async () => {
    const { port } = await proxy([{ match: { prefix: '/' }, route: { cluster: 'ws' } }], WS, [
      {
        name: 'envoy.filters.http.rbac',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
          rules: {
            action: 'DENY',
            policies: {
              'no-ws': {
                permissions: [{ header: { name: 'upgrade', string_match: { exact: 'websocket' } } }],
                principals: [{ any: true }],
              },
            },
          },
        },
      },
    ]);
    const c = client(port);
    c.handshake('/', randomBytes(16).toString('base64'));
    await c.until(() => c.head !== '');
    expect(c.head).toMatch(/^HTTP\/1\.1 403 /);
    expect(c.body).toContain('RBAC: access denied');
  });

  it('an unreachable upstream gets 503 (connection failure)', async () => {
    const dead = await closedPort();
    const p = await startProxy(
      httpBootstrap(
        0,
        [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'd' } }] }],
        [cluster('d', [dead])],
        { hcm: WS },
      ),
    );
    const port = boundPorts(p)[0]!;
    proxies.push(p);
    const c = client(port);
    c.handshake('/', randomBytes(16).toString('base64'));
    await c.until(() => c.head !== '' && c.body.length > 0);
    expect(c.head).toMatch(/^HTTP\/1\.1 503 /);
    expect(c.body).toContain('connection failure');
    expect(p.stats.get('http.ingress.downstream_cx_upgrades_active')).toBe(0);
  });

  it("Envoy's websocket example (envoy-ws.yaml) carries a WebSocket session", async () => {
    const { boot } = localize(envoyExample('websocket_envoy-ws.yaml'), backend.port);
    boot.static_resources.clusters[0].type = 'STATIC';
    const p = await startProxy(boot);
    const [port] = boundPorts(p);
    proxies.push(p);
    const c = client(port!);
    c.handshake('/', randomBytes(16).toString('base64'));
    await c.until(() => c.frames.length >= 1);
    c.send(1, Buffer.from('example'));
    await c.until(() => c.frames.length >= 2);
    expect(c.frames[1]!.payload.toString()).toBe('example');
    expect(p.stats.get('http.ingress_ws_to_ws.downstream_cx_upgrades_total')).toBe(1);
  });
});
