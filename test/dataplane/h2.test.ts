import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../src/dataplane/config/bootstrap.js';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { makeCa, makeLeaf, type Pem } from './certs.js';
import { boundPorts, cluster, httpBootstrap, request, startProxy, type Obj } from './helpers.js';
import { waitFor } from '../support/processes.js';

const HPO = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** A cluster that speaks HTTP/2 upstream (typed_extension_protocol_options). */
function h2cluster(name: string, ports: number[], extra: Obj = {}): Obj {
  return cluster(name, ports, {
    typed_extension_protocol_options: {
      [HPO]: { '@type': `type.googleapis.com/${HPO}`, explicit_http_config: { http2_protocol_options: {} } },
    },
    ...extra,
  });
}

interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  trailers?: http2.IncomingHttpHeaders;
}

/** One request on session (opened by the caller, so that tests can multiplex). */
function h2req(
  session: http2.ClientHttp2Session,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const st = session.request(
      { ':method': init.method ?? 'GET', ':path': path, ...(init.headers ?? {}) },
      { endStream: init.body === undefined },
    );
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    let body = '';
    st.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    st.on('trailers', (t) => (trailers = t));
    st.setEncoding('utf8');
    st.on('data', (d: string) => (body += d));
    st.on('end', () => resolve({ status, headers, body, trailers }));
    st.on('error', reject);
    if (init.body !== undefined) st.end(init.body);
  });
}

function h2connect(
  url: string,
  opts: http2.SecureClientSessionOptions = {},
): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, opts);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** An HTTP/1.1 request with a Host header of the caller's choosing (fetch forbids setting it). */
function h1req(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

interface H2Backend {
  port: number;
  sessions: number;
  seen: { headers: http2.IncomingHttpHeaders; body: string }[];
  close(): void;
}

/** An h2c backend: answers JSON echoing :authority, :path and the body, or what `handle` does. */
async function startH2Backend(
  handle?: (st: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders, body: string) => void,
): Promise<H2Backend> {
  const server = http2.createServer();
  const socks = new Set<net.Socket>();
  const b: H2Backend = {
    port: 0,
    sessions: 0,
    seen: [],
    close: () => {
      for (const s of socks) s.destroy();
      server.close();
    },
  };
  server.on('connection', (s: net.Socket) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
  });
  server.on('session', () => b.sessions++);
  server.on('stream', (st, h) => {
    let body = '';
    st.setEncoding('utf8');
    st.on('data', (d: string) => (body += d));
    st.on('end', () => {
      b.seen.push({ headers: h, body });
      if (handle) return handle(st, h, body);
      st.respond({ ':status': 200, 'content-type': 'application/json' });
      st.end(JSON.stringify({ authority: h[':authority'], path: h[':path'], method: h[':method'], body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as net.AddressInfo).port;
  return b;
}

const proxies: Proxy[] = [];
const closers: (() => void)[] = [];
let a: TestBackend, b: TestBackend;
beforeAll(async () => {
  a = await startBackend('a', 'v1');
  b = await startBackend('b', 'v2');
});
afterAll(async () => {
  for (const c of closers) c();
  await Promise.all(proxies.map((p) => p.stop()));
  await a.close();
  await b.close();
});

async function proxyWith(vhosts: Obj[], clusters: Obj[], opts: Parameters<typeof httpBootstrap>[3] = {}) {
  const p = await startProxy(httpBootstrap(0, vhosts, clusters, opts));
  const port = boundPorts(p)[0]!;
  proxies.push(p);
  return { port, p };
}
const vh = (routes: Obj[]): Obj[] => [{ name: 'v', domains: ['*'], routes }];

describe('downstream HTTP/2 (h2c prior knowledge)', () => {
  it('carries requests over one connection to an HTTP/1.1 backend, :authority as Host', async () => {
    const { port, p } = await proxyWith(vh([{ match: { prefix: '/' }, route: { cluster: 'a' } }]), [
      cluster('a', [a.port]),
    ]);
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    const replies = await Promise.all(
      [1, 2, 3].map((i) =>
        h2req(s, `/x/${i}?q=1`, { method: 'POST', headers: { ':authority': 'shop.test' }, body: `b${i}` }),
      ),
    );
    for (const [i, r] of replies.entries()) {
      expect(r.status).toBe(200);
      const echo = JSON.parse(r.body);
      expect(echo.path).toBe(`/x/${i + 1}?q=1`);
      expect(echo.method).toBe('POST');
      expect(echo.headers.host).toBe('shop.test');
      expect(echo.headers['x-forwarded-proto']).toBe('http');
      expect(echo.headers['content-length']).toBe('2');
      expect(r.headers.server).toBe('envoy');
      expect(r.headers['x-envoy-upstream-service-time']).toBeDefined();
      // connection-specific fields never appear on an HTTP/2 response
      for (const k of ['connection', 'keep-alive', 'transfer-encoding']) expect(r.headers[k]).toBeUndefined();
    }
    expect(p.stats.get('http.ingress.downstream_cx_http2_total')).toBe(1);
    expect(p.stats.get('http.ingress.downstream_rq_2xx')).toBe(3);
    s.close();
    // HTTP/1.1 on the same listener still works (AUTO)
    expect((await request(port, '/h1')).status).toBe(200);
    expect(p.stats.get('http.ingress.downstream_cx_http1_total')).toBe(1);
  });

  it('routes by header, splits by weight and answers 404 without a route', async () => {
    const { port } = await proxyWith(
      vh([
        {
          match: { prefix: '/split' },
          route: {
            weighted_clusters: {
              clusters: [
                { name: 'a', weight: 50 },
                { name: 'b', weight: 50 },
              ],
            },
          },
        },
        {
          match: { prefix: '/', headers: [{ name: 'x-version', string_match: { exact: 'v2' } }] },
          route: { cluster: 'b' },
        },
        { match: { prefix: '/only' }, route: { cluster: 'a' } },
      ]),
      [cluster('a', [a.port]), cluster('b', [b.port])],
    );
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    expect(JSON.parse((await h2req(s, '/only', { headers: { 'x-version': 'v2' } })).body).backend).toBe('b');
    expect(JSON.parse((await h2req(s, '/only')).body).backend).toBe('a');
    const seen = new Set<string>();
    for (const r of await Promise.all(Array.from({ length: 40 }, () => h2req(s, '/split'))))
      seen.add(JSON.parse(r.body).backend);
    expect([...seen].sort()).toEqual(['a', 'b']);
    const nr = await h2req(s, '/nowhere');
    expect(nr.status).toBe(404);
  });

  it('header operations and mirrors apply to streams; a reload sends GOAWAY to open sessions', async () => {
    const boot = httpBootstrap(
      0,
      vh([
        {
          match: { prefix: '/' },
          route: { cluster: 'a', request_mirror_policies: [{ cluster: 'b' }] },
          request_headers_to_add: [{ header: { key: 'x-added', value: 'req' } }],
          response_headers_to_add: [{ header: { key: 'x-resp', value: 'yes' } }],
        },
      ]),
      [cluster('a', [a.port]), cluster('b', [b.port])],
    );
    const p = await startProxy(boot);
    const port = p.listenerPort('http')!;
    proxies.push(p);
    const before = b.seen.length;
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    const r = await h2req(s, '/ops', { headers: { ':authority': 'm.test' } });
    expect(r.headers['x-resp']).toBe('yes');
    expect(JSON.parse(r.body).headers['x-added']).toBe('req');
    await waitFor(() => b.seen.length > before, { what: 'the mirrored request' });
    expect(b.seen[before]?.headers.host).toBe('m.test-shadow');
    const goaway = new Promise<void>((x) => s.once('goaway', () => x()));
    const cfg = convertBootstrap(boot).config!;
    await p.reload(cfg);
    await goaway;
  });

  it('retries a 503 for a stream as for an HTTP/1.1 request', async () => {
    const flaky = await startBackend('flaky', 'v1');
    closers.push(() => void flaky.close());
    flaky.behave({ failFirst: 1 });
    const { port, p } = await proxyWith(
      vh([
        {
          match: { prefix: '/' },
          route: { cluster: 'f', retry_policy: { retry_on: '5xx', num_retries: 2 } },
        },
      ]),
      [cluster('f', [flaky.port])],
    );
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    const r = await h2req(s, '/r');
    expect(r.status).toBe(200);
    expect(flaky.seen.length).toBe(2);
    expect(p.stats.get('cluster.f.upstream_rq_retry')).toBe(1);
  });

  it('codec_type HTTP1 refuses the HTTP/2 preface; HTTP2 refuses HTTP/1.1', async () => {
    const { port } = await proxyWith(
      vh([{ match: { prefix: '/' }, route: { cluster: 'a' } }]),
      [cluster('a', [a.port])],
      {
        hcm: { codec_type: 'HTTP1' },
      },
    );
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on('error', () => {});
    const outcome = await new Promise<string>((resolve) => {
      const st = s.request({ ':path': '/' });
      st.on('response', () => resolve('response'));
      st.on('error', () => resolve('error'));
      st.on('close', () => resolve('closed'));
    });
    s.destroy();
    expect(outcome).not.toBe('response');
    expect((await request(port, '/')).status).toBe(200);

    const forced = await proxyWith(
      vh([{ match: { prefix: '/' }, route: { cluster: 'a' } }]),
      [cluster('a', [a.port])],
      {
        hcm: { codec_type: 'HTTP2' },
      },
    );
    await expect(request(forced.port, '/')).rejects.toThrow();
    const s2 = await h2connect(`http://127.0.0.1:${forced.port}`);
    closers.push(() => s2.destroy());
    expect((await h2req(s2, '/')).status).toBe(200);
  });

  it('honours http2_protocol_options max_concurrent_streams (announced in SETTINGS)', async () => {
    const { port } = await proxyWith(
      vh([{ match: { prefix: '/' }, route: { cluster: 'a' } }]),
      [cluster('a', [a.port])],
      {
        hcm: { http2_protocol_options: { max_concurrent_streams: 7, initial_stream_window_size: 131072 } },
      },
    );
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    await new Promise<void>((r) =>
      s.remoteSettings.maxConcurrentStreams === 7 ? r() : s.once('remoteSettings', () => r()),
    );
    expect(s.remoteSettings.maxConcurrentStreams).toBe(7);
    expect(s.remoteSettings.initialWindowSize).toBe(131072);
  });
});

describe('upstream HTTP/2', () => {
  it('HTTP/1.1 downstream to an h2c backend: streams multiplexed on one session', async () => {
    const be = await startH2Backend();
    closers.push(() => be.close());
    const { port, p } = await proxyWith(vh([{ match: { prefix: '/' }, route: { cluster: 'h2' } }]), [
      h2cluster('h2', [be.port]),
    ]);
    const replies = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        h1req(port, `/up/${i}`, { method: 'POST', headers: { host: 'svc.test' }, body: `x${i}` }),
      ),
    );
    for (const [i, r] of replies.entries()) {
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({
        authority: 'svc.test',
        path: `/up/${i + 1}`,
        method: 'POST',
        body: `x${i + 1}`,
      });
    }
    expect(be.sessions).toBe(1);
    expect(p.stats.get('cluster.h2.upstream_cx_http2_total')).toBe(1);
    expect(p.stats.get('cluster.h2.upstream_rq_200')).toBe(4);
    // connection-specific fields from the downstream never reach the HTTP/2 upstream
    expect(be.seen.every((s) => s.headers.connection === undefined)).toBe(true);
  });

  it('max_requests bounds the streams in flight; a route timeout resets the upstream stream (504 UT)', async () => {
    let reset = 0;
    const be = await startH2Backend((st, h) => {
      st.on('close', () => {
        if (st.rstCode === http2.constants.NGHTTP2_CANCEL) reset++;
      });
      const ms = h[':path'] === '/slow' ? 1000 : 150;
      setTimeout(() => {
        if (st.closed) return;
        st.respond({ ':status': 200 });
        st.end('late');
      }, ms);
    });
    closers.push(() => be.close());
    const log = path.join(os.tmpdir(), `h2-access-${process.pid}.log`);
    const { port, p } = await proxyWith(
      vh([
        { match: { prefix: '/slow' }, route: { cluster: 'h2', timeout: '0.2s' } },
        { match: { prefix: '/' }, route: { cluster: 'h2' } },
      ]),
      [h2cluster('h2', [be.port], { circuit_breakers: { thresholds: [{ max_requests: 1 }] } })],
      {
        hcm: {
          access_log: [
            {
              name: 'envoy.access_loggers.file',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
                path: log,
              },
            },
          ],
        },
      },
    );
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    const [r1, r2] = await Promise.all([h2req(s, '/one'), h2req(s, '/two')]);
    expect([r1.status, r2.status].sort()).toEqual([200, 503]);
    const over = r1.status === 503 ? r1 : r2;
    expect(over.headers['x-envoy-overloaded']).toBe('true');
    const t = await h2req(s, '/slow');
    expect(t.status).toBe(504);
    expect(t.body).toBe('upstream request timeout');
    await waitFor(() => reset >= 1, { what: 'the backend to see the timed-out stream reset' });
    expect(reset).toBe(1);
    expect(p.stats.get('cluster.h2.upstream_rq_timeout')).toBe(1);
    // The file logger writes through a stream: wait for both lines to reach the file.
    const read = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
    const text = await waitFor(
      () => {
        const t = read();
        return t.includes('"GET /slow HTTP/2" 504 UT') && t.includes('"GET /one HTTP/2"') ? t : undefined;
      },
      { what: 'the access log lines of /slow and /one' },
    ).catch(() => read());
    fs.rmSync(log, { force: true });
    expect(text).toContain('"GET /slow HTTP/2" 504 UT');
    expect(text).toContain('"GET /one HTTP/2"');
  });

  it('HTTP/2 to HTTP/2: a 4 MiB response and a 1 MiB request body go through flow control intact', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'abcdefghij');
    const be = await startH2Backend((st, _h, body) => {
      st.respond({ ':status': 200, 'x-got': String(body.length) });
      st.end(big);
    });
    closers.push(() => be.close());
    const { port } = await proxyWith(vh([{ match: { prefix: '/' }, route: { cluster: 'h2' } }]), [
      h2cluster('h2', [be.port]),
    ]);
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    const r = await h2req(s, '/big', { method: 'POST', body: 'x'.repeat(1024 * 1024) });
    expect(r.status).toBe(200);
    expect(r.headers['x-got']).toBe(String(1024 * 1024));
    expect(r.body.length).toBe(big.length);
    expect(r.body === big.toString()).toBe(true);
  });

  it('a new session after the backend closes the old one (GOAWAY)', async () => {
    const be = await startH2Backend((st, h) => {
      st.respond({ ':status': 200 });
      st.end('ok');
      if (h[':path'] === '/bye') st.session?.close();
    });
    closers.push(() => be.close());
    const { port, p } = await proxyWith(vh([{ match: { prefix: '/' }, route: { cluster: 'h2' } }]), [
      h2cluster('h2', [be.port]),
    ]);
    expect((await request(port, '/bye')).body).toBe('ok');
    await waitFor(() => p.stats.get('cluster.h2.upstream_cx_active') === 0, {
      what: 'the proxy to drop the session the backend closed',
    });
    expect((await request(port, '/again')).body).toBe('ok');
    expect(be.sessions).toBe(2);
    expect(p.stats.get('cluster.h2.upstream_cx_http2_total')).toBe(2);
  });

  it('the deprecated cluster field http2_protocol_options selects HTTP/2 too', async () => {
    const be = await startH2Backend();
    closers.push(() => be.close());
    const { port } = await proxyWith(vh([{ match: { prefix: '/' }, route: { cluster: 'h2' } }]), [
      cluster('h2', [be.port], { http2_protocol_options: {} }),
    ]);
    expect(JSON.parse((await request(port, '/dep')).body).path).toBe('/dep');
    expect(be.sessions).toBe(1);
  });

  it('use_downstream_protocol_config: HTTP/2 upstream for HTTP/2 requests only', async () => {
    const be = await startH2Backend();
    closers.push(() => be.close());
    const h1 = await startBackend('h1', 'v1');
    closers.push(() => void h1.close());
    // one backend port cannot speak both: two clusters with the same option, each used once
    const opt = {
      typed_extension_protocol_options: {
        [HPO]: {
          '@type': `type.googleapis.com/${HPO}`,
          use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
        },
      },
    };
    const { port } = await proxyWith(
      vh([
        { match: { prefix: '/h2' }, route: { cluster: 'two' } },
        { match: { prefix: '/h1' }, route: { cluster: 'one' } },
      ]),
      [cluster('two', [be.port], opt), cluster('one', [h1.port], opt)],
    );
    const s = await h2connect(`http://127.0.0.1:${port}`);
    closers.push(() => s.destroy());
    expect(JSON.parse((await h2req(s, '/h2')).body).path).toBe('/h2');
    expect(JSON.parse((await request(port, '/h1')).body).path).toBe('/h1');
  });

  it('config: HttpProtocolOptions under another key is refused (Envoy would not apply it)', () => {
    const boot = httpBootstrap(1, vh([{ match: { prefix: '/' }, route: { cluster: 'h2' } }]), [
      cluster('h2', [1], {
        typed_extension_protocol_options: {
          'envoy.upstreams.http': {
            '@type': `type.googleapis.com/${HPO}`,
            explicit_http_config: { http2_protocol_options: {} },
          },
        },
      }),
    ]);
    const r = convertBootstrap(boot);
    expect(r.errors.map((e) => e.path)).toEqual([
      '/static_resources/clusters/0/typed_extension_protocol_options/envoy.upstreams.http',
    ]);
  });

  it('config: other protocol options are refused by name', () => {
    const boot = httpBootstrap(1, vh([{ match: { prefix: '/' }, route: { cluster: 'h2' } }]), [
      cluster('h2', [1], {
        typed_extension_protocol_options: {
          [HPO]: {
            '@type': `type.googleapis.com/${HPO}`,
            explicit_http_config: { http2_protocol_options: { allow_connect: true } },
          },
        },
      }),
    ]);
    const r = convertBootstrap(boot);
    expect(r.errors.map((e) => e.path)).toEqual([
      `/static_resources/clusters/0/typed_extension_protocol_options/${HPO}/explicit_http_config/http2_protocol_options/allow_connect`,
    ]);
  });
});

describe('TLS with ALPN h2', () => {
  let ca: Awaited<ReturnType<typeof makeCa>>;
  let leaf: Pem;
  beforeAll(async () => {
    ca = await makeCa('h2-ca');
    leaf = await makeLeaf(ca, 'proxy', { dns: ['localhost'], ip: ['127.0.0.1'] });
  });
  const DTLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
  const UTLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
  const tlsBoot = (port: number, alpn: string[], clusters: Obj[]): Obj => {
    const boot = httpBootstrap(
      port,
      vh([{ match: { prefix: '/' }, route: { cluster: clusters[0]!.name } }]),
      clusters,
    );
    boot.static_resources.listeners[0].filter_chains[0].transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': DTLS,
        common_tls_context: {
          alpn_protocols: alpn,
          tls_certificates: [
            { certificate_chain: { inline_string: leaf.cert }, private_key: { inline_string: leaf.key } },
          ],
        },
      },
    };
    return boot;
  };

  it('selects HTTP/2 by ALPN when the context offers h2, HTTP/1.1 otherwise', async () => {
    const p = await startProxy(tlsBoot(0, ['h2', 'http/1.1'], [cluster('a', [a.port])]));
    const port = boundPorts(p)[0]!;
    proxies.push(p);
    const s = await h2connect(`https://localhost:${port}`, { ca: ca.cert });
    closers.push(() => s.destroy());
    expect((s.socket as unknown as { alpnProtocol: string }).alpnProtocol).toBe('h2');
    const r = await h2req(s, '/tls');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).headers['x-forwarded-proto']).toBe('https');
    expect(p.stats.get('http.ingress.downstream_cx_http2_total')).toBe(1);

    const p2 = await startProxy(tlsBoot(0, ['http/1.1'], [cluster('a', [a.port])]));
    const port2 = boundPorts(p2)[0]!;
    proxies.push(p2);
    const alpn = await new Promise<string | false | null>((resolve, reject) => {
      const t = tls.connect(
        {
          host: '127.0.0.1',
          port: port2,
          ca: ca.cert,
          servername: 'localhost',
          ALPNProtocols: ['h2', 'http/1.1'],
        },
        () => {
          resolve(t.alpnProtocol);
          t.destroy();
        },
      );
      t.on('error', reject);
    });
    expect(alpn).toBe('http/1.1');
  });

  it('TLS without ALPN: AUTO tells HTTP/2 by the preface (proxy to proxy over TLS)', async () => {
    const pi = await startProxy(tlsBoot(0, [], [cluster('a', [a.port])]));
    const inner = boundPorts(pi)[0]!;
    proxies.push(pi);
    const { port } = await proxyWith(vh([{ match: { prefix: '/' }, route: { cluster: 'in' } }]), [
      h2cluster('in', [inner], {
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': UTLS,
            sni: 'localhost',
            common_tls_context: {
              alpn_protocols: ['x-none'],
              validation_context: { trusted_ca: { inline_string: ca.cert } },
            },
          },
        },
      }),
    ]);
    const r = await request(port, '/chain');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).path).toBe('/chain');
    expect(pi.stats.get('http.ingress.downstream_cx_http2_total')).toBe(1);
  });

  it('upstream HTTP/2 over TLS offers ALPN h2', async () => {
    const server = http2.createSecureServer({ cert: leaf.cert, key: leaf.key });
    let negotiated: string | false | undefined;
    server.on('stream', (st) => {
      negotiated = (st.session?.socket as unknown as { alpnProtocol: string | false }).alpnProtocol;
      st.respond({ ':status': 200 });
      st.end('secure');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    const bePort = (server.address() as net.AddressInfo).port;
    const { port } = await proxyWith(vh([{ match: { prefix: '/' }, route: { cluster: 's' } }]), [
      h2cluster('s', [bePort], {
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': UTLS,
            sni: 'localhost',
            common_tls_context: { validation_context: { trusted_ca: { inline_string: ca.cert } } },
          },
        },
      }),
    ]);
    const r = await request(port, '/');
    expect(r.body).toBe('secure');
    expect(negotiated).toBe('h2');
  });
});
