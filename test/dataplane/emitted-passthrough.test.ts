import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import { meshFrom } from '../support/meshes.js';
import { waitFor } from '../support/processes.js';
import { startEmittedGateway } from './helpers.js';

/**
 * A tls-passthrough frontend rendered by the envoy target and run in meshgen proxy: the gateway's
 * tls_inspector reads the SNI of each ClientHello and passes the connection, unterminated, to the
 * backend its route names.
 */
const reached: string[] = [];
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
let proxy: Proxy;
let port: number;

async function tcpServer(name: string): Promise<number> {
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('data', (d) => reached.push(`${name}:${d[0]}`)); // 22: the ClientHello record, untouched
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  const a = await tcpServer('a');
  const b = await tcpServer('b');
  const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  namespace: t
  mtls: { mode: disabled }
  backends:
    - name: db
      port: 5432
      protocol: tcp
      versions:
        - { name: a, endpoints: ["127.0.0.1:${a}"] }
        - { name: b, endpoints: ["127.0.0.1:${b}"] }
  frontends:
    - name: pass
      address: 127.0.0.1
      port: 8000 # the proxy is moved to port 0
      protocol: tls-passthrough
      hosts: [a.example.net, "*.example.net"]
  routes:
    - name: pass-a
      parent: { frontend: pass, hosts: [a.example.net] }
      to: [{ backend: db, version: a }]
    - name: pass-rest
      parent: { frontend: pass }
      to: [{ backend: db, version: b }]
`);
  proxy = await startEmittedGateway(mesh);
  port = proxy.listenerPort('pass')!;
});

afterAll(async () => {
  await proxy?.stop();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function hello(servername: string): Promise<void> {
  const s = tls.connect({ host: '127.0.0.1', port, servername });
  s.on('error', () => {});
  await waitFor(() => reached.length > 0, { what: `the ClientHello for ${servername} to reach a server` });
  s.destroy();
}

it('routes each TLS connection by its SNI without terminating it', async () => {
  await hello('a.example.net');
  expect(reached.splice(0)).toEqual(['a:22']);
  await hello('other.example.net');
  expect(reached.splice(0)).toEqual(['b:22']);
});
