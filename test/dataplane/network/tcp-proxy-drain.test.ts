/**
 * tcp_proxy connections on a drained listener: a reload (or a shutdown) lets them go on for the
 * drain time, then closes them, as Envoy closes the connections of a drained listener; before,
 * a reload left them open for ever on the old configuration.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import { Proxy } from '../../../src/dataplane/server.js';
import { waitFor } from '../../support/processes.js';
import { cluster, type Obj } from '../helpers.js';

const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const DRAIN_S = 1;

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

function tcpBootstrap(upstream: number, statPrefix = 't'): Obj {
  return {
    node: { id: 't', cluster: 't' },
    static_resources: {
      listeners: [
        {
          name: 'tcp',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: { '@type': TCP, stat_prefix: statPrefix, cluster: 'up' },
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

/** An echo server on port 0. */
async function echo(): Promise<number> {
  const conns = new Set<net.Socket>();
  const s = net.createServer((c) => {
    conns.add(c);
    c.on('error', () => {});
    c.on('close', () => conns.delete(c));
    c.pipe(c);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  stops.push(
    () =>
      new Promise<void>((r) => {
        for (const c of conns) c.destroy();
        s.close(() => r());
      }),
  );
  return (s.address() as net.AddressInfo).port;
}

async function proxyFor(b: Obj): Promise<Proxy> {
  const r = convertBootstrap(b);
  const p = new Proxy(r.config!, { drainTimeS: DRAIN_S });
  await p.start();
  stops.push(() => p.stop());
  return p;
}

/** A long-lived connection through the proxy: `roundTrip` echoes a line, `closedAt` is when it closed (0: open). */
async function longLived(port: number) {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  let got = '';
  let closedAt = 0;
  s.on('data', (d: Buffer) => (got += d.toString('latin1')));
  s.on('close', () => (closedAt = Date.now()));
  return {
    get closedAt() {
      return closedAt;
    },
    async roundTrip(line: string): Promise<void> {
      got = '';
      s.write(line);
      await waitFor(() => got === line || closedAt > 0, { what: `the echo of ${line}` });
      expect(got).toBe(line);
    },
  };
}

describe('tcp_proxy connections on drain', () => {
  it('go on after a reload for the drain time, then are closed', async () => {
    const up = await echo();
    const p = await proxyFor(tcpBootstrap(up));
    const port = p.listeners()[0]!.port;
    const c = await longLived(port);
    await c.roundTrip('before');
    const reloadedAt = Date.now();
    await p.reload(convertBootstrap(tcpBootstrap(up, 't2')).config!);
    // still carried by the old generation while it drains
    await waitFor(() => Date.now() - reloadedAt >= 300, { what: 'part of the drain time' });
    await c.roundTrip('during the drain');
    expect(c.closedAt).toBe(0);
    // a new connection takes the new configuration
    const fresh = await longLived(port);
    await fresh.roundTrip('new');
    await waitFor(() => c.closedAt > 0, { what: 'the drained connection to close', timeoutMs: 5000 });
    expect(c.closedAt - reloadedAt).toBeGreaterThanOrEqual(DRAIN_S * 1000 - 50);
    expect(c.closedAt - reloadedAt).toBeLessThan(DRAIN_S * 1000 + 1500);
    // the new generation's connection is not drained
    await fresh.roundTrip('still open');
    expect(p.stats.get('tcp.t2.downstream_cx_total')).toBe(1);
  });

  it('go on during a shutdown drain, then are closed', async () => {
    const up = await echo();
    const p = await proxyFor(tcpBootstrap(up));
    const c = await longLived(p.listeners()[0]!.port);
    await c.roundTrip('before');
    const t0 = Date.now();
    const stopped = p.drainAndStop();
    await waitFor(() => Date.now() - t0 >= 300, { what: 'part of the drain time' });
    await c.roundTrip('during the drain');
    await stopped;
    await waitFor(() => c.closedAt > 0, { what: 'the connection to close', timeoutMs: 5000 });
    expect(c.closedAt - t0).toBeGreaterThanOrEqual(DRAIN_S * 1000 - 50);
  });
});
