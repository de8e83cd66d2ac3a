// The vip plan at scale: for 1,000 and 10,000 services, the rule counts of the iptables form
// (kube-proxy's chains) and the nftables form (a verdict map and numgen maps), and the time each
// takes to apply, measured side by side in the same run, each in a fresh network namespace made for
// it and deleted afterwards. Needs root, ip, iptables-restore, iptables-save, nft, and `npm run build`.
// Usage: node bench/iptables.mjs [sizes...]    (default: 1000 10000)
import { spawnSync } from 'node:child_process';
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
    return fn((args, input) => sh(['ip', 'netns', 'exec', name, ...args], input));
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

const rows = [];
for (const n of sizes) {
  const plan = plans(n);
  const ipt = withNamespace((run) => {
    const ms = timed(run, ['iptables-restore'], plan.iptables);
    const saved = run(['iptables-save', '-t', 'nat']);
    return {
      ms,
      rules: saved.split('\n').filter((l) => l.startsWith('-A ')).length,
      chains: saved.split('\n').filter((l) => l.startsWith(':')).length,
    };
  });
  const nft = withNamespace((run) => {
    const ms = timed(run, ['nft', '-f', '-'], plan.nft);
    const listed = JSON.parse(run(['nft', '-j', 'list', 'table', 'inet', 'meshgen'])).nftables;
    const rules = listed.filter((o) => o.rule).length;
    const hookRules = listed.filter(
      (o) => o.rule && ['prerouting', 'output', 'postrouting'].includes(o.rule.chain),
    ).length;
    const elements = listed.filter((o) => o.map).reduce((a, o) => a + (o.map.elem?.length ?? 0), 0);
    return {
      ms,
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
console.log(
  'time ratio = iptables-restore time / nft -f time. Rules in hooks: what every packet walks before the map lookup.',
);
