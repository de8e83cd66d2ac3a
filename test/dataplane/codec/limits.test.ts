/**
 * The HTTP/1 codec in a running proxy: what it answers for malformed requests and responses, and
 * the connection manager's header limits and connection timeouts (max_headers_count,
 * max_request_headers_kb, idle_timeout, request_headers_timeout).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import type { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { cluster, httpBootstrap, raw, startProxy, type Obj } from '../helpers.js';

const VHOSTS = [
  { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] },
];

let proxy: Proxy | undefined;
let backend: TestBackend | undefined;
let upstream: net.Server | undefined;
afterEach(async () => {
  await proxy?.stop();
  await backend?.close();
  await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)));
  proxy = backend = upstream = undefined;
});

/** The proxy in front of the echo backend, with these connection manager fields. */
async function start(hcm: Obj = {}): Promise<number> {
  backend = await startBackend('echo', 'v1');
  proxy = await startProxy(httpBootstrap(0, VHOSTS, [cluster('b', [backend.port])], { hcm }));
  return proxy.listenerPort('http')!;
}

/** Bytes a raw upstream received. */
let received = '';

/** An upstream that answers every request with these bytes, recording what it receives. */
async function rawUpstream(response: string): Promise<number> {
  received = '';
  upstream = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => (received += d.toString('latin1')));
    s.once('data', () => s.write(Buffer.from(response, 'latin1')));
  });
  await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as net.AddressInfo).port;
  proxy = await startProxy(httpBootstrap(0, VHOSTS, [cluster('b', [port])]));
  return proxy.listenerPort('http')!;
}

/** A connection that has sent these bytes; `closed` resolves with what came back once the proxy closes it. */
function connect(port: number, bytes: string): { socket: net.Socket; closed: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
  let got = '';
  socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(got)));
  return { socket, closed };
}

const GET = 'GET / HTTP/1.1\r\nHost: h\r\n\r\n';

describe('malformed requests', () => {
  it('answers 400 at once to LF-only line endings (it waited for a CRLFCRLF that never came)', async () => {
    const port = await start();
    const t0 = Date.now();
    expect(await raw(port, 'GET / HTTP/1.1\nHost: h\n\n', 3000)).toMatch(/^HTTP\/1\.1 400 /);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('answers 400 to a Transfer-Encoding hidden behind a VT, without serving the request after it', async () => {
    const port = await start();
    const out = await raw(
      port,
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(out.match(/HTTP\/1\.1/g)).toHaveLength(1);
    expect(backend!.seen).toHaveLength(0);
  });

  it('does not forward control bytes in header values', async () => {
    const port = await rawUpstream('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x1b[2Jb\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 400 /,
    );
    expect(received).toBe('');
  });
});

describe('malformed responses', () => {
  const PROTOCOL_ERROR =
    'upstream connect error or disconnect/reset before headers. reset reason: protocol error';
  it.each([
    ['differing Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'],
    ['Transfer-Encoding: identity', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nabc'],
    ['a control byte in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n'],
  ])('answers 502 for %s (it closed the client connection with no response)', async (_n, response) => {
    const port = await rawUpstream(response);
    const out = await raw(port, GET);
    expect(out).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(out.endsWith(`\r\n\r\n${PROTOCOL_ERROR}`)).toBe(true);
    expect(out).not.toContain('\x01');
  });
});

describe('header limits', () => {
  const headers = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('');
  it('refuses more than 100 header lines by default, and more than max_headers_count, with 431', async () => {
    let port = await start();
    expect(await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${headers(97)}Connection: close\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    expect(await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${headers(100)}\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    await proxy!.stop();
    await backend!.close();
    port = await start({ common_http_protocol_options: { max_headers_count: 5 } });
    expect(await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${headers(3)}Connection: close\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    expect(await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${headers(5)}\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('refuses a head over max_request_headers_kb with 431', async () => {
    const port = await start({ max_request_headers_kb: 1 });
    const big = `GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(1100)}\r\n\r\n`;
    expect(await raw(port, big)).toMatch(/^HTTP\/1\.1 431 /);
    expect(backend!.seen).toHaveLength(0);
  });
});

describe('connection timeouts', () => {
  it('answers 408 when the head does not arrive within request_headers_timeout', async () => {
    const port = await start({ request_headers_timeout: '0.2s' });
    const t0 = Date.now();
    const { closed } = connect(port, 'GET / HTTP/1.1\r\nHost: h\r\n');
    const out = await closed;
    expect(out).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[^]*\r\n\r\nrequest header timeout$/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(proxy!.stats.get('http.ingress.downstream_rq_header_timeout')).toBe(1);
  });

  it('closes a connection idle for common_http_protocol_options.idle_timeout, after its last request', async () => {
    const port = await start({ common_http_protocol_options: { idle_timeout: '0.2s' } });
    const t0 = Date.now();
    const { closed } = connect(port, GET);
    const out = await closed;
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(proxy!.stats.get('http.ingress.downstream_cx_idle_timeout')).toBe(1);
    // and one that never sends a byte
    expect(await connect(port, '').closed).toBe('');
    expect(proxy!.stats.get('http.ingress.downstream_cx_idle_timeout')).toBe(2);
  });
});

describe('configuration', () => {
  it('refuses fields of common_http_protocol_options it does not implement, naming them', () => {
    const r = convertBootstrap(
      httpBootstrap(0, VHOSTS, [cluster('b', [1])], {
        hcm: { common_http_protocol_options: { max_connection_duration: '5s' } },
      }),
    );
    expect(r.errors.map((e) => e.message)).toEqual([
      'field max_connection_duration of envoy.config.core.v3.HttpProtocolOptions is not implemented by meshgen proxy',
    ]);
  });
});
