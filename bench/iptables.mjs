// The vip plan at scale: for 1,000 and 10,000 services, the rule counts of the iptables form
// (kube-proxy's chains) and the nftables form (a verdict map and numgen maps), and the time each
// takes to apply, measured side by side in the same run, each in a fresh network namespace made for
// it and deleted afterwards. Needs root, ip, iptables-restore, iptables-save, nft, and `npm run build`.
// Usage: node bench/iptables.mjs [sizes...]    (default: 1000 10000)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseMesh, render } from '../dist/index.js';
import { generateMesh } from './gen-mesh.mjs';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
if (!sizes.length) sizes.push(1000, 10000);

const made = new Set();
function sh(args, input) {
  const r = spawnSync(args[0], args.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
function withNamespace(fn) {
  const name = `mg-bench-${randomBytes(5).toString('hex')}`;
  sh(['ip', 'netns', 'add', name]);
  made.add(name);
  try {
    return fn((args, input) => sh(['ip', 'netns', 'exec', name, ...args], input), name);
  } finally {
    spawnSync('ip', ['netns', 'delete', name]);
    made.delete(name);
  }
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    for (const name of made) spawnSync('ip', ['netns', 'delete', name]);
    process.exit(130);
  });

/** Applies a plan; returns the wall time of the apply command alone, in ms. */
function timed(run, args, input) {
  const start = process.hrtime.bigint();
  run(args, input);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function plans(n) {
  const parsed = parseMesh(generateMesh(n), { file: `bench-${n}.yaml` });
  if (!parsed.mesh) throw new Error('the generated mesh does not load');
  const result = render(parsed.mesh, { targets: ['iptables'], settings: { mode: 'vip' } });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => d.message).join('\n'));
  const files = Object.fromEntries(result.outputs[0].files.map((f) => [f.path, f.contents]));
  return { iptables: files['vip.iptables'], nft: files['vip.nft'] };
}

// Connection setup through the plan: endpoints of the first and the last service are put on the
// namespace's loopback, and a client opens connections one after another to each service address.
// The nat rules run for the first packet of each connection, so this is where rule walking costs.
const SERVER = `
const net = require('node:net');
for (const a of process.argv.slice(1)) { const i = a.lastIndexOf(':'); net.createServer((s) => s.end('x')).listen(Number(a.slice(i + 1)), a.slice(0, i)); }
setTimeout(() => console.log('ready'), 300);
`;
const CLIENT = `
const net = require('node:net');
const [port, n] = [Number(process.argv[1]), Number(process.argv[2])];
const once = () => new Promise((ok, fail) => { const s = net.connect({ host: '127.0.0.1', port }); s.on('data', () => {}); s.on('end', ok); s.on('error', fail); });
(async () => { for (let i = 0; i < 100; i++) await once(); const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) await once(); console.log(Number(process.hrtime.bigint() - t) / 1e3 / n); })();
`;
const CONNECTIONS = 2000;
function endpointsOf(i) {
  const host = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
  return { host, port: 20000 + (i % 40000), listen: [`${host}:8080`, `${host}:8081`, `${host}:9080`] };
}
function connectMicros(name, run, n) {
  const services = [endpointsOf(0), endpointsOf(n - 1)];
  for (const s of services) run(['ip', 'addr', 'add', `${s.host}/32`, 'dev', 'lo']);
  run(['ip', 'link', 'set', 'lo', 'up']);
  const server = spawn(
    'ip',
    ['netns', 'exec', name, process.execPath, '-e', SERVER, ...services.flatMap((s) => s.listen)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    spawnSync('sleep', ['0.6']);
    // Alternating rounds, best of five for each: the first rounds also warm caches.
    const best = services.map(() => Infinity);
    for (let round = 0; round < 5; round++)
      services.forEach((s, i) => {
        const us = Number(run([process.execPath, '-e', CLIENT, String(s.port), String(CONNECTIONS)]));
        best[i] = Math.min(best[i], us);
      });
    return best;
  } finally {
    server.kill('SIGKILL');
  }
}

const rows = [];
for (const n of sizes) {
  const plan = plans(n);
  const ipt = withNamespace((run, name) => {
    const ms = timed(run, ['iptables-restore'], plan.iptables);
    const saved = run(['iptables-save', '-t', 'nat']);
    return {
      ms,
      connect: connectMicros(name, run, n),
      rules: saved.split('\n').filter((l) => l.startsWith('-A ')).length,
      chains: saved.split('\n').filter((l) => l.startsWith(':')).length,
    };
  });
  const nft = withNamespace((run, name) => {
    const ms = timed(run, ['nft', '-f', '-'], plan.nft);
    const listed = JSON.parse(run(['nft', '-j', 'list', 'table', 'inet', 'meshgen'])).nftables;
    const rules = listed.filter((o) => o.rule).length;
    const hookRules = listed.filter(
      (o) => o.rule && ['prerouting', 'output', 'postrouting'].includes(o.rule.chain),
    ).length;
    const elements = listed.filter((o) => o.map).reduce((a, o) => a + (o.map.elem?.length ?? 0), 0);
    return {
      ms,
      connect: connectMicros(name, run, n),
      rules,
      hookRules,
      chains: listed.filter((o) => o.chain).length,
      maps: listed.filter((o) => o.map).length,
      elements,
    };
  });
  rows.push({ n, ipt, nft });
}

const pad = (s, w) => String(s).padStart(w);
console.log('vip plan: apply time and size, iptables-restore vs nft -f (each in a fresh network namespace)');
console.log(
  `${pad('services', 9)} | ${pad('iptables rules', 14)} ${pad('chains', 7)} ${pad('apply ms', 9)} | ${pad('nft rules', 9)} ${pad('in hooks', 8)} ${pad('chains', 7)} ${pad('maps', 6)} ${pad('elements', 8)} ${pad('apply ms', 9)} | ${pad('time ratio', 10)}`,
);
for (const { n, ipt, nft } of rows)
  console.log(
    `${pad(n, 9)} | ${pad(ipt.rules, 14)} ${pad(ipt.chains, 7)} ${pad(ipt.ms.toFixed(0), 9)} | ${pad(nft.rules, 9)} ${pad(nft.hookRules, 8)} ${pad(nft.chains, 7)} ${pad(nft.maps, 6)} ${pad(nft.elements, 8)} ${pad(nft.ms.toFixed(0), 9)} | ${pad((ipt.ms / nft.ms).toFixed(2) + 'x', 10)}`,
  );
console.log('');
console.log(
  `connection setup through the plan, mean of ${CONNECTIONS} sequential connections, best of 5 rounds (microseconds)`,
);
console.log(
  `${pad('services', 9)} | ${pad('iptables first', 14)} ${pad('last', 8)} | ${pad('nft first', 9)} ${pad('last', 8)}`,
);
for (const { n, ipt, nft } of rows)
  console.log(
    `${pad(n, 9)} | ${pad(ipt.connect[0].toFixed(0), 14)} ${pad(ipt.connect[1].toFixed(0), 8)} | ${pad(nft.connect[0].toFixed(0), 9)} ${pad(nft.connect[1].toFixed(0), 8)}`,
  );
console.log(
  'first/last: the service listed first/last in the plan (the last one is behind every other rule in MESHGEN_SERVICES).',
);
console.log(
  'time ratio = iptables-restore time / nft -f time. Rules in hooks: what every packet walks before the map lookup.',
);
