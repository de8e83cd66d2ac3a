#!/usr/bin/env node
// Benchmarks meshgen proxy against HAProxy and NGINX, one worker each, in front of the same loopback
// backend (an NGINX answering a fixed 200), under the same wrk load. Prints requests/s, p50 and p99
// of each and their ratios to a direct connection and to NGINX. Every proxy is started first and
// warmed up alike; then each round measures them one after the other, so that a change in the
// machine's load between rounds shows as a change of the ratios of that round, not as a bias.
//
//   npm run build && node bench/proxy.mjs [--duration 10] [--connections 50] [--concurrency 1] [--rounds 1]
//   node bench/proxy.mjs --only meshgen --profile [--profile-dir d]   (a .cpuprofile of the proxy)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const duration = Number(opt('duration', '10'));
const rounds = Number(opt('rounds', '1'));
const warmup = Number(opt('warmup', String(Math.min(duration, 5))));
const connections = Number(opt('connections', '50'));
const concurrency = opt('concurrency', '1');
const only = opt('only', 'direct,node-pipe,meshgen,haproxy,nginx').split(',');
const profile = args.includes('--profile');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-bench-'));

const has = (b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0;
for (const b of ['wrk', 'nginx']) if (!has(b)) throw new Error(`${b} is needed`);

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function waitPort(port) {
  for (let i = 0; i < 600; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}
const procs = [];
function start(cmd, argv, env = process.env) {
  const p = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  p.on('exit', (c) => c && c !== 0 && process.stderr.write(`${cmd} exited ${c}: ${err}\n`));
  procs.push(p);
  return p;
}
const exited = (p) => p.exitCode !== null || p.signalCode !== null;
function stop(p) {
  if (exited(p)) return Promise.resolve();
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  return done;
}

function nginxConf(port, body) {
  const dir = fs.mkdtempSync(path.join(tmp, 'nginx-'));
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log crit;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  keepalive_requests 1000000;
  ${body.replace(/PORT/g, port)} }\n`,
  );
  return path.join(dir, 'nginx.conf');
}

/** CPU time (user + system, ms) of a process and its children, from /proc. */
function cpuMs(pid) {
  if (!pid) return NaN;
  let total = 0;
  const visit = (p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(f[11]) + Number(f[12])) * 1000) / 100;
      for (const t of fs.readdirSync(`/proc/${p}/task`))
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ').filter(Boolean))
          visit(c);
    } catch {
      /* gone */
    }
  };
  visit(pid);
  return total;
}

function wrk(port, pid) {
  const before = cpuMs(pid);
  const r = wrk1(port, duration);
  r.cpuUsPerRq = ((cpuMs(pid) - before) * 1000) / (r.rps * duration);
  r.load = os.loadavg()[0];
  return r;
}

function wrk1(port, seconds) {
  process.stderr.write(`wrk against port ${port} for ${seconds} s\n`);
  const r = spawnSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`],
    { encoding: 'utf8' },
  );
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const lat = (q) => {
    const m = new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  return { rps, p50: lat(50), p99: lat(99), errors: Number(errors) };
}

const backendPort = await freePort();
const backend = start('nginx', [
  '-c',
  nginxConf(
    backendPort,
    `server { listen 127.0.0.1:PORT; location / { return 200 "hello from the backend\\n"; } }`,
  ),
]);
await waitPort(backendPort);

/** What each round measures, in this order: name, port, pid (for its CPU time). */
const targets = [];
const perRound = [];
try {
  if (only.includes('direct')) targets.push({ name: 'direct', port: backendPort, pid: backend.pid });

  if (only.includes('meshgen')) {
    const port = await freePort();
    const boot = path.join(tmp, 'bootstrap.json');
    fs.writeFileSync(
      boot,
      JSON.stringify({
        static_resources: {
          listeners: [
            {
              name: 'bench',
              address: { socket_address: { address: '127.0.0.1', port_value: port } },
              filter_chains: [
                {
                  filters: [
                    {
                      name: 'envoy.filters.network.http_connection_manager',
                      typed_config: {
                        '@type':
                          'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                        stat_prefix: 'bench',
                        route_config: {
                          virtual_hosts: [
                            {
                              name: 'all',
                              domains: ['*'],
                              routes: [{ match: { prefix: '/' }, route: { cluster: 'backend' } }],
                            },
                          ],
                        },
                        http_filters: [
                          {
                            name: 'envoy.filters.http.router',
                            typed_config: {
                              '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                            },
                          },
                        ],
                      },
                    },
                  ],
                },
              ],
            },
          ],
          clusters: [
            {
              name: 'backend',
              type: 'STATIC',
              connect_timeout: '1s',
              load_assignment: {
                cluster_name: 'backend',
                endpoints: [
                  {
                    lb_endpoints: [
                      {
                        endpoint: {
                          address: { socket_address: { address: '127.0.0.1', port_value: backendPort } },
                        },
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
      }),
    );
    const profDir = opt('profile-dir', path.join(os.tmpdir(), 'meshgen-proxy-profiles'));
    const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    if (profile) process.stderr.write(`CPU profile of the proxy goes to ${profDir}\n`);
    const p = start(process.execPath, [
      ...nodeArgs,
      path.join(root, 'dist', 'cli.js'),
      'proxy',
      '-c',
      boot,
      '--concurrency',
      concurrency,
      '--drain-time-s',
      '0',
    ]);
    await waitPort(port);
    targets.push({ name: 'meshgen', port, pid: p.pid });
  }

  if (only.includes('node-pipe')) {
    // the floor of any Node.js proxy here: bytes piped 1:1 between connections, no HTTP at all
    const port = await freePort();
    const src = `const net=require('net');net.createServer({noDelay:true},(d)=>{const u=net.connect(${backendPort},'127.0.0.1');u.setNoDelay(true);d.on('data',(b)=>u.write(b));u.on('data',(b)=>d.write(b));d.on('close',()=>u.destroy());u.on('close',()=>d.destroy());d.on('error',()=>{});u.on('error',()=>{});}).listen(${port},'127.0.0.1')`;
    const p = start(process.execPath, ['-e', src]);
    await waitPort(port);
    targets.push({ name: 'node-pipe', port, pid: p.pid });
  }

  if (only.includes('haproxy') && has('haproxy')) {
    const port = await freePort();
    const cfg = path.join(tmp, 'haproxy.cfg');
    fs.writeFileSync(
      cfg,
      `global\n  nbthread 1\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n  option http-keep-alive\n  http-reuse always\nfrontend f\n  bind 127.0.0.1:${port}\n  default_backend b\nbackend b\n  server s1 127.0.0.1:${backendPort}\n`,
    );
    const p = start('haproxy', ['-db', '-f', cfg]);
    await waitPort(port);
    targets.push({ name: 'haproxy', port, pid: p.pid });
  }

  if (only.includes('nginx')) {
    const port = await freePort();
    const conf = nginxConf(
      port,
      `upstream b { server 127.0.0.1:${backendPort}; keepalive 64; }
       server { listen 127.0.0.1:PORT; location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
    );
    const p = start('nginx', ['-c', conf]);
    await waitPort(port);
    targets.push({ name: 'nginx', port, pid: p.pid });
  }
  // the same warm-up for each (the JIT for meshgen proxy, caches and connections for all)
  for (const t of targets) if (warmup > 0) wrk1(t.port, warmup);
  for (let r = 0; r < rounds; r++) {
    const results = {};
    for (const t of targets) results[t.name] = wrk(t.port, t.pid);
    perRound.push(results);
  }
} finally {
  await Promise.all(procs.map(stop));
}

const f = (x, k = 2) => (Number.isFinite(x) ? x.toFixed(k) : '-');
const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? (v[(v.length - 1) >> 1] + v[v.length >> 1]) / 2 : NaN;
};
console.log(
  `wrk -t1 -c${connections} -d${duration}s after a ${warmup} s warm-up each, ${rounds} round(s), one worker each (meshgen --concurrency ${concurrency}), ${os.cpus().length} cores`,
);
perRound.forEach((results, i) => {
  const n = results.nginx;
  const d = results.direct;
  const loads = Object.values(results).map((r) => r.load);
  console.log(`round ${i + 1} (load average ${f(Math.min(...loads), 1)}-${f(Math.max(...loads), 1)})`);
  console.log(
    'proxy       req/s     p50 ms  p99 ms  non-2xx  rps/direct  rps/nginx  p99/nginx  cpu us/rq  cpu/nginx',
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(10)} ${f(r.rps, 0).padStart(8)}  ${f(r.p50).padStart(7)} ${f(r.p99).padStart(7)}  ${String(r.errors).padStart(7)}  ${f(d ? r.rps / d.rps : NaN).padStart(10)}  ${f(n ? r.rps / n.rps : NaN).padStart(9)}  ${f(n ? r.p99 / n.p99 : NaN).padStart(9)}  ${f(r.cpuUsPerRq, 1).padStart(9)}  ${f(n ? r.cpuUsPerRq / n.cpuUsPerRq : NaN).padStart(9)}`,
    );
  }
});
const withBoth = perRound.filter((r) => r.meshgen && r.nginx);
if (withBoth.length) {
  const rps = withBoth.map((r) => r.meshgen.rps / r.nginx.rps);
  const p99 = withBoth.map((r) => r.meshgen.p99 / r.nginx.p99);
  console.log(
    `meshgen/nginx per round: req/s ${rps.map((x) => f(x)).join(' ')}, p99 ${p99.map((x) => f(x)).join(' ')}`,
  );
  const ok = median(rps) >= 0.5 && median(p99) <= 2;
  console.log(
    `goal (>= 1/2 of NGINX req/s, p99 <= 2x NGINX; medians ${f(median(rps))}, ${f(median(p99))}): ${ok ? 'met' : 'not met'}`,
  );
}
fs.rmSync(tmp, { recursive: true, force: true });
