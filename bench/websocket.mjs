#!/usr/bin/env node
// Throughput of an upgraded (WebSocket) connection through meshgen proxy, against the same echo
// backend reached directly: one connection, 16 KiB frames written as fast as the socket takes them,
// the echo read back. Prints MiB/s each way.
//
//   npm run build && node bench/websocket.mjs [--mib 64] [--rounds 2]
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (f) => pathToFileURL(path.join(root, 'dist', 'dataplane', f)).href;
const { convertBootstrap } = await import(dist('config/bootstrap.js'));
const { Proxy } = await import(dist('server.js'));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const total = opt('mib', 64) * 1024 * 1024;
const rounds = opt('rounds', 2);

// the backend answers the handshake with 101, then echoes every byte (the frames as they are)
const backend = net.createServer((s) => {
  let head = true;
  s.on('error', () => {});
  s.on('data', (d) => {
    if (!head) return void s.write(d);
    head = false;
    s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
});
const listen = (srv) => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
const bport = await listen(backend);
const probe = net.createServer();
const pport = await listen(probe);
await new Promise((r) => probe.close(r));

const hcm = {
  '@type':
    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  stat_prefix: 'bench',
  upgrade_configs: [{ upgrade_type: 'websocket' }],
  route_config: {
    virtual_hosts: [
      { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] },
    ],
  },
  http_filters: [
    {
      name: 'r',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
    },
  ],
};
const addr = (port) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
const r = convertBootstrap({
  static_resources: {
    listeners: [
      { name: 'l', address: addr(pport), filter_chains: [{ filters: [{ name: 'hcm', typed_config: hcm }] }] },
    ],
    clusters: [
      {
        name: 'c',
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: {
          cluster_name: 'c',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: addr(bport) } }] }],
        },
      },
    ],
  },
});
if (!r.config) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
const proxy = new Proxy(r.config, { drainTimeS: 1 });
await proxy.start();

function run(port) {
  const frame = Buffer.alloc(16 * 1024 + 4, 7);
  const expected = Math.floor(total / frame.length) * frame.length;
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = 0;
    let start = 0;
    let upgraded = false;
    s.on('data', (d) => {
      if (!upgraded) {
        upgraded = true;
        start = performance.now();
        let sent = 0;
        const pump = () => {
          while (sent < expected) {
            sent += frame.length;
            if (!s.write(frame)) return void s.once('drain', pump);
          }
        };
        return pump();
      }
      got += d.length;
      if (got >= expected) {
        s.destroy();
        resolve(got / 1048576 / ((performance.now() - start) / 1000));
      }
    });
    s.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
}

for (let i = 0; i < rounds; i++) {
  const direct = await run(bport);
  const through = await run(pport);
  console.log(
    `round ${i + 1}: direct ${direct.toFixed(0)} MiB/s, through meshgen proxy ${through.toFixed(0)} MiB/s (${(through / direct).toFixed(2)})`,
  );
}
await proxy.stop();
backend.close();
