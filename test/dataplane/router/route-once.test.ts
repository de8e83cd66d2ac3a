import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import type { HeaderMatch } from '../../../src/dataplane/config/common.js';
import { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { cluster, httpBootstrap, request, type Obj } from '../helpers.js';

/**
 * The route is matched once per request and carried on the stream: the filters that read it (fault
 * for its per-route config, CORS for the route's policy) and the router share that one match, and a
 * retry or an upgrade does not match again. The route's header matcher counts its calls.
 */

const FILTERS: Obj[] = [
  {
    name: 'envoy.filters.http.fault',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
      abort: { http_status: 503, percentage: { numerator: 0 } },
    },
  },
  {
    name: 'envoy.filters.http.cors',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' },
  },
];

let backend: TestBackend;
let upgrader: net.Server;
let proxy: Proxy | undefined;
let matches = 0;

beforeAll(async () => {
  backend = await startBackend('b', 'v1');
  // answers any request with a 101, then echoes
  upgrader = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
      s.on('data', (d) => s.write(d));
    });
  });
  await new Promise<void>((r) => upgrader.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await backend.close();
  await new Promise((r) => upgrader.close(r));
});

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  backend.reset();
  matches = 0;
});

/** A proxy whose one route (header x-match present) counts how often its matcher runs. */
async function start(port: number, route: Obj): Promise<number> {
  const vhosts = [
    {
      name: 'v',
      domains: ['*'],
      routes: [{ match: { prefix: '/', headers: [{ name: 'x-match', present_match: true }] }, route }],
    },
  ];
  const boot = httpBootstrap(0, vhosts, [cluster('b', [port])], {
    filters: FILTERS,
    hcm: { upgrade_configs: [{ upgrade_type: 'websocket' }] },
  });
  const r = convertBootstrap(boot);
  if (!r.config) throw new Error(JSON.stringify(r.errors));
  const net0 = r.config.listeners[0]!.chains[0]!.network;
  if (net0.kind !== 'http') throw new Error('not an HTTP chain');
  const m = net0.hcm.routes.vhosts[0]!.routes[0]!.match.headers[0]! as HeaderMatch;
  // present_match has no test: give it one that counts and keeps the meaning
  m.test = () => {
    matches++;
    return true;
  };
  proxy = new Proxy(r.config, { drainTimeS: 1 });
  await proxy.start();
  return proxy.listenerPort('http')!;
}

/** Sends an upgrade request; resolves with the response head once it arrives. */
function upgrade(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('error', reject);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      s.destroy();
      resolve(got.slice(0, got.indexOf('\r\n')));
    });
    s.write('GET /ws HTTP/1.1\r\nhost: x\r\nx-match: 1\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n');
  });
}

describe('route match', () => {
  it('runs once for a request that the fault and CORS filters and the router all look at', async () => {
    const port = await start(backend.port, { cluster: 'b' });
    const r = await request(port, '/a', { headers: { 'x-match': '1' } });
    expect(r.status).toBe(200);
    expect(matches).toBe(1);
  });

  it('runs once for a retried request', async () => {
    backend.behave({ failFirst: 1 });
    const port = await start(backend.port, {
      cluster: 'b',
      retry_policy: { retry_on: '5xx', num_retries: 2, retry_back_off: { base_interval: '0.001s' } },
    });
    const r = await request(port, '/a', { headers: { 'x-match': '1' } });
    expect(r.status).toBe(200);
    expect(backend.seen).toHaveLength(2);
    expect(matches).toBe(1);
  });

  it('runs once for an upgraded request', async () => {
    const port = await start((upgrader.address() as net.AddressInfo).port, { cluster: 'b' });
    expect(await upgrade(port)).toBe('HTTP/1.1 101 Switching Protocols');
    expect(matches).toBe(1);
  });
});
