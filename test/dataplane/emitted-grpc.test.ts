import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import { meshFrom } from '../support/meshes.js';
import { emittedFile, startEmittedGateway } from './helpers.js';

/**
 * gRPC through a gateway bootstrap the envoy target writes for a `protocol: grpc` backend (its
 * cluster speaks HTTP/2 by typed_extension_protocol_options): a grpc-js client over h2c to the
 * gateway run in meshgen proxy, a grpc-js server behind it.
 */
const raw = (x: Buffer) => x;
const SAY = {
  say: {
    path: '/t.Greeter/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};
const Greeter = grpc.makeGenericClientConstructor(SAY, 'Greeter');

let server: grpc.Server;
let proxy: Proxy;
let port: number;
let client: grpc.Client & { say: (...a: unknown[]) => grpc.ClientUnaryCall };

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(SAY, {
    say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-served-by', 'greeter');
      cb(null, Buffer.from(`hello ${call.request.toString()}`), md);
    },
  });
  const bePort = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: g }
spec:
  namespace: g
  mtls: { mode: disabled }
  backends:
    - name: greeter
      port: 9090
      protocol: grpc
      versions: [{ name: v1, endpoints: ["127.0.0.1:${bePort}"] }]
  frontends:
    - name: edge
      address: 127.0.0.1
      port: 8000 # the proxy is moved to port 0
      protocol: http
  routes:
    - name: greet
      parent: { frontend: edge }
      match: [{ path: { prefix: /t.Greeter/ } }]
      to: [{ backend: greeter }]
`);
  expect(emittedFile(mesh, 'gateway.yaml').contents).toContain(
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  );
  proxy = await startEmittedGateway(mesh);
  port = proxy.listenerPort('edge')!;
  client = new Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
});

afterAll(async () => {
  client?.close();
  await proxy?.stop();
  server?.forceShutdown();
});

describe('the emitted gateway carries gRPC to a grpc backend', () => {
  it('unary call with its trailing metadata, HTTP/2 on both sides', async () => {
    let servedBy: grpc.MetadataValue[] = [];
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const call = client.say(Buffer.from('mesh'), (e: grpc.ServiceError | null, r: Buffer) =>
        e ? reject(e) : resolve(r),
      );
      call.on('status', (s: grpc.StatusObject) => (servedBy = s.metadata.get('x-served-by')));
    });
    expect(reply.toString()).toBe('hello mesh');
    expect(servedBy).toEqual(['greeter']);
    const stats = proxy.stats.text();
    expect(stats).toMatch(/downstream_cx_http2_total: 1/);
    expect(stats).toMatch(/upstream_cx_http2_total: 1/);
  });
});
