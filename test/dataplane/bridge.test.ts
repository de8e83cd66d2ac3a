import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { convertBootstrap } from '../../src/dataplane/config/bootstrap.js';
import { boundPorts, cluster, httpBootstrap, raw, startProxy, type Obj } from './helpers.js';

/** Fields the envoy target's bootstraps use: strip_any_host_port, TCP max duration, chains by port. */
const started: { stop(): Promise<void> }[] = [];
const backends: TestBackend[] = [];
afterAll(async () => {
  for (const p of started) await p.stop();
  for (const b of backends) await b.close();
});

const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

function tcpBootstrap(port: number, upstream: number, chain: Obj = {}, tcp: Obj = {}): Obj {
  return {
    node: { id: 't', cluster: 't' },
    static_resources: {
      listeners: [
        {
          name: 'tcp',
          address: { socket_address: { address: '127.0.0.1', port_value: port } },
          filter_chains: [
            {
              ...chain,
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: { '@type': TCP, stat_prefix: 't', cluster: 'up', ...tcp },
                },
              ],
            },
          ],
        },
      ],
      clusters: [cluster('up', [upstream])],
    },
  };
}

async function echo(): Promise<number> {
  const s = net.createServer((c) => c.pipe(c));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  started.push({ stop: () => new Promise<void>((r) => s.close(() => r())) });
  return (s.address() as net.AddressInfo).port;
}

async function run(b: Obj): Promise<Proxy> {
  const p = await startProxy(b);
  started.unshift(p);
  return p;
}

describe('strip_any_host_port', () => {
  it('matches the domain without the port and sends the stripped Host upstream', async () => {
    const be = await startBackend('a', 'v1');
    backends.push(be);
    const vh = [
      {
        name: 'a',
        domains: ['shop.example.com'],
        routes: [{ match: { prefix: '/' }, route: { cluster: 'a' } }],
      },
    ];
    const p = await run(
      httpBootstrap(0, vh, [cluster('a', [be.port])], { hcm: { strip_any_host_port: true } }),
    );
    const port = boundPorts(p)[0]!;
    const out = await raw(
      port,
      `GET /x HTTP/1.1\r\nhost: shop.example.com:${port}\r\nconnection: close\r\n\r\n`,
    );
    expect(out).toMatch(/^HTTP\/1\.1 200/);
    expect(be.seen.at(-1)?.headers.host).toBe('shop.example.com');
    const port2 = boundPorts(await run(httpBootstrap(0, vh, [cluster('a', [be.port])])))[0]!;
    const out2 = await raw(
      port2,
      `GET /x HTTP/1.1\r\nhost: shop.example.com:${port2}\r\nconnection: close\r\n\r\n`,
    );
    expect(out2).toMatch(/^HTTP\/1\.1 404/);
  });
});

describe('tcp_proxy max_downstream_connection_duration', () => {
  it('closes the connection when the duration is reached', async () => {
    const up = await echo();
    const port = boundPorts(
      await run(tcpBootstrap(0, up, {}, { max_downstream_connection_duration: '0.3s' })),
    )[0]!;
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('hi'));
      s.resume(); // read to the end, so 'close' follows the proxy's close
      s.on('close', () => resolve());
      s.on('error', () => {});
    });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2000);
  });
});

describe('filter_chain_match.destination_port', () => {
  it('uses the chain naming the local port and closes connections no chain matches', async () => {
    const up = await echo();
    // on port 0 first, with a chain naming port 1 (never the one the OS gives): nothing matches
    const p = await run(tcpBootstrap(0, up, { filter_chain_match: { destination_port: 1 } }));
    const port = boundPorts(p)[0]!;
    expect(await raw(port, 'ping')).toBe('');
    expect(p.stats.get(`listener.127.0.0.1:${port}.no_filter_chain_match`)).toBe(1);
    // then, told its port, the chain names it; the reload keeps the listening socket
    const next = convertBootstrap(tcpBootstrap(0, up, { filter_chain_match: { destination_port: port } }));
    await p.reload(next.config!);
    expect(boundPorts(p)).toEqual([port]);
    expect(await raw(port, 'ping', 500)).toBe('ping');
  });
});
