import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import type { Started } from '../../support/processes.js';
import { hasBinary } from '../../support/processes.js';
import { meshFrom } from '../../support/meshes.js';
import { connect, Netns, SERVER, waitReady } from './netns.js';

/**
 * A vip plan applied for real: endpoints listen on addresses added to the namespace's loopback, a
 * client connects to the service address many times, and the answers follow the mesh's weights.
 */
const ready = hasBinary('ip') && hasBinary('iptables-restore') && hasBinary('nft');

// web: v1 70% over two endpoints (35% each), v2 30%; api: one endpoint behind a configured VIP.
const MESH = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: vips }
spec:
  namespace: vips
  backends:
    - name: web
      port: 8080
      versions:
        - { name: v1, endpoints: ["10.124.0.11:8080", "10.124.0.12:8080"] }
        - { name: v2, endpoints: ["10.124.0.13:8080"] }
    - name: api
      port: 80
      versions:
        - { name: v1, endpoints: ["10.124.0.14:8080"] }
  routes:
    - name: web-canary
      parent: { backend: web }
      to:
        - { backend: web, version: v1, weight: 70 }
        - { backend: web, version: v2, weight: 30 }
`;
const EXPECTED = { 'ep-11': 0.35, 'ep-12': 0.35, 'ep-13': 0.3 };
const N = 400;

/**
 * Each endpoint's count must lie within 4 binomial standard deviations of N * p (about +/-9.5
 * percentage points at p = 0.35 with 400 connections): a correct plan fails this about once in
 * 10,000 runs; swapping the v1 and v2 weights (35/35/30 -> 15/15/70) fails it for certain.
 */
function withinTolerance(counts: Record<string, number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries(EXPECTED)) {
    const c = counts[name] ?? 0;
    const sd = Math.sqrt(N * p * (1 - p));
    out[name] =
      Math.abs(c - N * p) <= 4 * sd ? 'ok' : `${c} of ${N}, expected ${N * p} +/- ${Math.floor(4 * sd)}`;
  }
  return out;
}

describe.skipIf(!ready).each(['iptables', 'nft'] as const)('a vip plan applied with %s', (form) => {
  let ns: Netns;
  let server: Started;

  beforeAll(async () => {
    ns = await Netns.create();
    for (const host of [11, 12, 13, 14]) await ns.sh('ip', 'addr', 'add', `10.124.0.${host}/32`, 'dev', 'lo');
    // The configured VIP needs a route for the connection to start; the DNAT then makes it local.
    // (a veth pair inside the namespace: some kernels lack the dummy driver).
    await ns.sh('ip', 'link', 'add', 'mgvip0', 'type', 'veth', 'peer', 'name', 'mgvip1');
    await ns.sh('ip', 'addr', 'add', '10.96.0.1/16', 'dev', 'mgvip0');
    await ns.sh('ip', 'link', 'set', 'mgvip0', 'up');
    await ns.sh('ip', 'link', 'set', 'mgvip1', 'up');
    server = ns.start([
      process.execPath,
      '-e',
      SERVER,
      'ep-11=10.124.0.11:8080',
      'ep-12=10.124.0.12:8080',
      'ep-13=10.124.0.13:8080',
      'ep-14=10.124.0.14:8080',
    ]);
    await waitReady(server);
  });

  afterAll(async () => {
    await server?.stop();
    await ns?.delete();
  });

  it('has nothing on the service addresses before the plan is applied', async () => {
    expect(await connect(ns, '127.0.0.1', 8080)).toEqual({ 'error:ECONNREFUSED': 1 });
  });

  it('applies', async () => {
    const result = render(meshFrom(MESH), {
      targets: ['iptables'],
      settings: { mode: 'vip', 'vip.api': '10.96.0.10' },
    });
    const plan = result.outputs[0]!.files.find((f) => f.path === `vip.${form}`)!.contents;
    const r =
      form === 'nft' ? await ns.pipe(plan, 'nft', '-f', '-') : await ns.pipe(plan, 'iptables-restore');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it(`spreads ${N} connections to web's address (127.0.0.1:8080) as 35/35/30`, async () => {
    const counts = await connect(ns, '127.0.0.1', 8080, { n: N });
    console.log(`${form} vip split over ${N} connections: ${JSON.stringify(counts)}`);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(N);
    expect(Object.keys(counts).sort()).toEqual(['ep-11', 'ep-12', 'ep-13']);
    expect(withinTolerance(counts)).toEqual({ 'ep-11': 'ok', 'ep-12': 'ok', 'ep-13': 'ok' });
  });

  it('sends the configured VIP 10.96.0.10:80 to its one endpoint, and other ports nowhere', async () => {
    expect(await connect(ns, '10.96.0.10', 80, { n: 10 })).toEqual({ 'ep-14': 10 });
    expect(await connect(ns, '127.0.0.1', 8081)).toEqual({ 'error:ECONNREFUSED': 1 });
  });

  it('the tolerance check rejects the wrong weights', () => {
    expect(withinTolerance({ 'ep-11': 60, 'ep-12': 60, 'ep-13': 280 })['ep-13']).not.toBe('ok');
  });
});
