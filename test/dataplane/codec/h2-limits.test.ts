/**
 * The connection manager's limits on HTTP/2 connections, as Envoy's HTTP/2 codec applies them:
 * max_headers_count and max_request_headers_kb reset the stream (RST_STREAM INTERNAL_ERROR) before
 * the request is routed, and common_http_protocol_options.idle_timeout drains a connection with no
 * open stream (the shutdown notice, then the final GOAWAY after drain_timeout).
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { waitFor } from '../../support/processes.js';
import { cluster, httpBootstrap, startProxy, type Obj } from '../helpers.js';

const VHOSTS = [
  { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] },
];

let proxy: Proxy | undefined;
let backend: TestBackend | undefined;
const sessions: http2.ClientHttp2Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await proxy?.stop();
  await backend?.close();
  proxy = backend = undefined;
});

/** The proxy in front of the echo backend, with these connection manager fields; an h2c session to it. */
async function start(hcm: Obj = {}): Promise<http2.ClientHttp2Session> {
  backend = await startBackend('echo', 'v1');
  proxy = await startProxy(httpBootstrap(0, VHOSTS, [cluster('b', [backend.port])], { hcm }));
  const s = http2.connect(`http://127.0.0.1:${proxy.listenerPort('http')!}`);
  sessions.push(s);
  s.on('error', () => {});
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** A GET with these headers: its status, or the RST_STREAM code that ended it. */
function get(s: http2.ClientHttp2Session, headers: Record<string, string> = {}) {
  return new Promise<{ status?: number; rstCode?: number }>((resolve) => {
    const st = s.request({ ':path': '/', ...headers });
    let status: number | undefined;
    st.on('response', (h) => (status = Number(h[':status'])));
    st.on('error', () => {});
    st.resume();
    st.on('close', () => resolve(status === undefined ? { rstCode: st.rstCode } : { status }));
  });
}

/** n headers x-0 … x-(n-1). */
const many = (n: number, value = 'v') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-${i}`, value]));

describe('HTTP/2 header limits', () => {
  it('resets a stream with more than 100 headers (pseudo-headers count), as Envoy, and serves the next', async () => {
    const s = await start();
    // :method, :path, :scheme and :authority are four of the hundred
    expect(await get(s, many(96))).toEqual({ status: 200 });
    expect(await get(s, many(97))).toEqual({ rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR });
    expect(backend!.seen).toHaveLength(1);
    expect(proxy!.stats.get('http2.header_overflow')).toBe(1);
    // the connection stays usable
    expect(await get(s)).toEqual({ status: 200 });
  });

  it('honours a max_headers_count above node:http2 default of 128 and below it', async () => {
    let s = await start({ common_http_protocol_options: { max_headers_count: 200 } });
    expect(await get(s, many(190))).toEqual({ status: 200 });
    expect(await get(s, many(197))).toEqual({ rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR });
    await proxy!.stop();
    await backend!.close();
    s = await start({ common_http_protocol_options: { max_headers_count: 10 } });
    expect(await get(s, many(6))).toEqual({ status: 200 });
    expect(await get(s, many(7))).toEqual({ rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR });
  });

  it('resets a stream whose headers exceed max_request_headers_kb', async () => {
    const s = await start({ max_request_headers_kb: 2 });
    expect(await get(s, { x: 'a'.repeat(1800) })).toEqual({ status: 200 });
    expect(await get(s, { x: 'a'.repeat(2100) })).toEqual({
      rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR,
    });
    expect(backend!.seen).toHaveLength(1);
  });
});

describe('HTTP/2 idle_timeout', () => {
  it('sends the shutdown notice once no stream was open for idle_timeout, counted from the last stream', async () => {
    const s = await start({ common_http_protocol_options: { idle_timeout: '0.3s' }, drain_timeout: '0.3s' });
    const goaways: { at: number; last: number }[] = [];
    s.on('goaway', (_code: number, last: number) => goaways.push({ at: Date.now(), last }));
    // streams keep it busy: the idle time counts from the last stream's end
    let lastEnd = 0;
    for (let i = 0; i < 3; i++) {
      if (i > 0) await waitFor(() => Date.now() - lastEnd >= 200, { what: 'most of the idle time' });
      expect(await get(s)).toEqual({ status: 200 });
      lastEnd = Date.now();
    }
    expect(goaways).toEqual([]);
    await waitFor(() => goaways.length > 0, { what: 'the GOAWAY', timeoutMs: 5000 });
    expect(goaways[0]!.at - lastEnd).toBeGreaterThanOrEqual(280);
    expect(goaways[0]!.last).toBe(2 ** 31 - 1);
    expect(proxy!.stats.get('http.ingress.downstream_cx_idle_timeout')).toBe(1);
  });

  it('then the final GOAWAY after drain_timeout, and the connection closes', async () => {
    // node:http2 closes its own session at the first GOAWAY: the frames are read off a raw socket
    backend = await startBackend('echo', 'v1');
    proxy = await startProxy(
      httpBootstrap(0, VHOSTS, [cluster('b', [backend.port])], {
        hcm: { common_http_protocol_options: { idle_timeout: '0.3s' }, drain_timeout: '0.4s' },
      }),
    );
    const sock = net.connect(proxy.listenerPort('http')!, '127.0.0.1');
    sock.on('error', () => {});
    const t0 = Date.now();
    // the client preface and an empty SETTINGS frame
    sock.write(
      Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
        Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
      ]),
    );
    let buf = Buffer.alloc(0);
    const goaways: { at: number; last: number; code: number }[] = [];
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const len = buf.readUIntBE(0, 3);
        if (buf[3] === 7)
          goaways.push({
            at: Date.now(),
            last: buf.readUInt32BE(9) & 0x7fffffff,
            code: buf.readUInt32BE(13),
          });
        // a client acknowledges PINGs (the notice waits for one) and SETTINGS
        if (buf[3] === 6 && !(buf[4]! & 1))
          sock.write(Buffer.concat([Buffer.from([0, 0, 8, 6, 1, 0, 0, 0, 0]), buf.subarray(9, 17)]));
        if (buf[3] === 4 && !(buf[4]! & 1)) sock.write(Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]));
        buf = buf.subarray(9 + len);
      }
    });
    let closedAt = 0;
    sock.once('close', () => (closedAt = Date.now()));
    await waitFor(() => closedAt > 0, { what: 'the connection to close', timeoutMs: 5000 });
    expect(goaways.map((g) => [g.last, g.code])).toEqual([
      [2 ** 31 - 1, 0],
      [0, 0],
    ]);
    expect(goaways[0]!.at - t0).toBeGreaterThanOrEqual(280);
    expect(goaways[1]!.at - goaways[0]!.at).toBeGreaterThanOrEqual(380);
    expect(closedAt - goaways[1]!.at).toBeLessThan(1000);
  });

  it('does not time out a connection while a stream is open', async () => {
    backend = await startBackend('echo', 'v1');
    // a fault delay holds the stream open past the idle time
    proxy = await startProxy(
      httpBootstrap(0, VHOSTS, [cluster('b', [backend.port])], {
        hcm: { common_http_protocol_options: { idle_timeout: '0.2s' }, drain_timeout: '0.2s' },
        filters: [
          {
            name: 'envoy.filters.http.fault',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
              delay: { fixed_delay: '0.6s', percentage: { numerator: 100 } },
            },
          },
        ],
      }),
    );
    const s = http2.connect(`http://127.0.0.1:${proxy.listenerPort('http')!}`);
    sessions.push(s);
    let goaway = 0;
    s.on('goaway', () => (goaway = Date.now()));
    const t0 = Date.now();
    expect(await get(s)).toEqual({ status: 200 });
    const done = Date.now();
    expect(done - t0).toBeGreaterThanOrEqual(580);
    expect(goaway).toBe(0);
    await waitFor(() => goaway > 0, { what: 'the idle GOAWAY', timeoutMs: 5000 });
    expect(goaway - done).toBeGreaterThanOrEqual(180);
  });
});
