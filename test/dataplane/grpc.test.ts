import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import { closedPort, cluster, httpBootstrap, startProxy, type Obj } from './helpers.js';

const HPO = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const h2opts = {
  typed_extension_protocol_options: {
    [HPO]: { '@type': `type.googleapis.com/${HPO}`, explicit_http_config: { http2_protocol_options: {} } },
  },
};

const raw = (x: Buffer) => x;
const method = (path: string, responseStream: boolean) => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});
/** A gRPC service without .proto files: messages are raw bytes. */
const ECHO = {
  unary: method('/test.Echo/Unary', false),
  stream: method('/test.Echo/Stream', true),
  flaky: method('/test.Echo/Flaky', false),
};
const OTHER = { call: method('/other.Svc/Call', false) };
type Fn = (...a: unknown[]) => grpc.ClientUnaryCall & grpc.ClientReadableStream<Buffer>;
const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');
const OtherClient = grpc.makeGenericClientConstructor(OTHER, 'Other');

let server: grpc.Server;
let gate: () => void = () => {};
let flakyCalls = 0;
let proxyPort = 0;
const proxies: Proxy[] = [];
const clients: grpc.Client[] = [];

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(ECHO, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-trailer', 'kept');
      if (call.request.toString() === 'fail')
        return cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request]), md);
    },
    stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      call.write(Buffer.from('one'));
      // the second message waits until the client has the first: a proxy that buffered the
      // whole response would never let this call finish
      new Promise<void>((r) => (gate = r)).then(() => {
        call.write(Buffer.from('two'));
        const md = new grpc.Metadata();
        md.set('x-done', 'yes');
        call.end(md);
      });
    },
    flaky: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      flakyCalls++;
      if (flakyCalls === 1) return cb({ code: grpc.status.UNAVAILABLE, details: 'try again' });
      cb(null, Buffer.from(`ok after ${flakyCalls}`));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const routes: Obj[] = [
    {
      match: { prefix: '/test.Echo/Flaky' },
      route: { cluster: 'grpc', retry_policy: { retry_on: 'unavailable', num_retries: 2 } },
    },
    { match: { prefix: '/test.Echo/' }, route: { cluster: 'grpc' } },
    { match: { prefix: '/down.Svc/' }, route: { cluster: 'down' } },
  ];
  const p = await startProxy(
    httpBootstrap(
      0,
      [{ name: 'v', domains: ['*'], routes }],
      [cluster('grpc', [port], h2opts), cluster('down', [await closedPort()], h2opts)],
    ),
  );
  proxies.push(p);
  proxyPort = p.listenerPort('http')!;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(proxies.map((p) => p.stop()));
  server.forceShutdown();
});

function client<T extends grpc.Client>(C: new (a: string, c: grpc.ChannelCredentials) => T): T {
  const c = new C(`127.0.0.1:${proxyPort}`, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

describe('gRPC through the proxy (HTTP/2 both sides)', () => {
  it('unary: the reply and its trailers (grpc-status, a custom trailer) reach the client', async () => {
    const c = client(EchoClient) as unknown as grpc.Client & { unary: Fn };
    let trailer: grpc.MetadataValue[] = [];
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const call = c.unary(Buffer.from('hi'), (e: grpc.ServiceError | null, r: Buffer) =>
        e ? reject(e) : resolve(r),
      );
      call.on('status', (s: grpc.StatusObject) => (trailer = s.metadata.get('x-trailer')));
    });
    expect(reply.toString()).toBe('echo:hi');
    expect(trailer).toEqual(['kept']);
    expect(proxies[0]!.stats.get('cluster.grpc.upstream_cx_http2_total')).toBe(1);
  });

  it('unary: an error status and message from the server pass through', async () => {
    const c = client(EchoClient) as unknown as grpc.Client & { unary: Fn };
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      c.unary(Buffer.from('fail'), (e: grpc.ServiceError | null) => resolve(e!)),
    );
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe('no such thing');
  });

  it('server streaming streams (the second message is sent after the first arrived) with trailers', async () => {
    const c = client(EchoClient) as unknown as grpc.Client & { stream: Fn };
    const got: string[] = [];
    let done: grpc.MetadataValue[] = [];
    let code = -1;
    await new Promise<void>((resolve, reject) => {
      const call = c.stream(Buffer.from('go'));
      call.on('data', (d: Buffer) => {
        got.push(d.toString());
        if (got.length === 1) gate();
      });
      call.on('status', (s: grpc.StatusObject) => {
        code = s.code;
        done = s.metadata.get('x-done');
        resolve();
      });
      call.on('error', reject);
      setTimeout(() => reject(new Error('the stream did not finish: buffered?')), 5000);
    });
    expect(got).toEqual(['one', 'two']);
    expect(code).toBe(grpc.status.OK);
    expect(done).toEqual(['yes']);
  });

  it('retry_on unavailable retries a trailers-only UNAVAILABLE', async () => {
    const c = client(EchoClient) as unknown as grpc.Client & { flaky: Fn };
    const reply = await new Promise<Buffer>((resolve, reject) =>
      c.flaky(Buffer.from('x'), (e: grpc.ServiceError | null, r: Buffer) => (e ? reject(e) : resolve(r))),
    );
    expect(reply.toString()).toBe('ok after 2');
    expect(proxies[0]!.stats.get('cluster.grpc.upstream_rq_retry')).toBe(1);
  });

  it('grpc-js: a call with no route fails UNIMPLEMENTED', async () => {
    const c = client(OtherClient) as unknown as grpc.Client & { call: Fn };
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      c.call(Buffer.from('x'), (e: grpc.ServiceError | null) => resolve(e!)),
    );
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe('local replies to gRPC requests on the wire', () => {
  async function call(
    path: string,
  ): Promise<{ h: http2.IncomingHttpHeaders; frames: number; endStream: boolean }> {
    const s = http2.connect(`http://127.0.0.1:${proxyPort}`);
    try {
      return await new Promise((resolve, reject) => {
        const st = s.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        let headers: http2.IncomingHttpHeaders = {};
        let frames = 0;
        let endStream = false;
        st.on('response', (h, flags) => {
          headers = h;
          frames++;
          // a trailers-only response is one HEADERS frame carrying END_STREAM
          if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) endStream = true;
        });
        st.on('trailers', () => frames++);
        st.on('data', () => {});
        st.on('end', () => resolve({ h: headers, frames, endStream }));
        st.on('error', reject);
        st.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    } finally {
      s.close();
    }
  }

  it('no route: HTTP 200, grpc-status 12 in a trailers-only response', async () => {
    const { h, frames, endStream } = await call('/nowhere.Svc/X');
    expect(h[':status']).toBe(200);
    expect(h['content-type']).toBe('application/grpc');
    expect(h['grpc-status']).toBe('12');
    expect(h['grpc-message']).toBeUndefined();
    expect(h['content-length']).toBeUndefined();
    expect(frames).toBe(1);
    expect(endStream).toBe(true);
  });

  it('connect failure: grpc-status 14 and the reason, percent-encoded, as grpc-message', async () => {
    const { h } = await call('/down.Svc/X');
    expect(h[':status']).toBe(200);
    expect(h['grpc-status']).toBe('14');
    expect(h['grpc-message']).toBe(
      'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    );
  });
});
