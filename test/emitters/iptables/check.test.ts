import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { EXAMPLES, exampleMesh, meshFrom } from '../../support/meshes.js';
import { hasBinary } from '../../support/processes.js';
import { Netns } from './netns.js';

/**
 * Every plan of every example, in both modes and with the settings that change the rules, goes
 * through the real parsers and the kernel's own check: `iptables-restore --test` and `nft -c -f`,
 * inside a namespace made for the run.
 */
const ready = hasBinary('ip') && hasBinary('iptables-restore') && hasBinary('nft');

const VARIANTS: Record<string, Record<string, string>> = {
  sidecar: {},
  'sidecar with exclusions': {
    proxyUid: '2000',
    proxyGid: '2001',
    inboundPort: '16006',
    outboundPort: '16001',
    excludeInboundPorts: '22,15090',
    excludeOutboundPorts: '53,5432',
    excludeOutboundCidrs: '10.0.0.0/8,169.254.169.254,fd00::/8',
  },
  'sidecar, every inbound port, ip family': {
    includeInboundPorts: '*',
    excludeInboundPorts: '22',
    nftFamily: 'ip',
  },
  vip: { mode: 'vip' },
  'vip, ip family': { mode: 'vip', nftFamily: 'ip' },
};

describe.skipIf(!ready)('plans pass iptables-restore --test and nft -c', () => {
  let ns: Netns;
  beforeAll(async () => {
    ns = await Netns.create();
  });
  afterAll(async () => {
    await ns?.delete();
  });

  const cases = EXAMPLES.flatMap((example) =>
    Object.keys(VARIANTS).map((variant) => [example, variant] as const),
  );
  it.each(cases)('%s, %s', async (example, variant) => {
    const result = render(exampleMesh(example), { targets: ['iptables'], settings: VARIANTS[variant] });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const files = result.outputs[0]!.files;
    expect(files.filter((f) => f.path.endsWith('.iptables')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.path.endsWith('.nft')).length).toBe(
      files.filter((f) => f.path.endsWith('.iptables')).length,
    );
    for (const f of files) {
      const r = f.path.endsWith('.nft')
        ? await ns.pipe(f.contents, 'nft', '-c', '-f', '-')
        : await ns.pipe(f.contents, 'iptables-restore', '--test');
      expect(`${f.path}: ${r.stderr}`).toBe(`${f.path}: `);
      expect(r.status, f.path).toBe(0);
    }
  });

  it('a backend with a 62-character name and many endpoints passes too', async () => {
    const name = 'a-very-long-backend-name-that-goes-on-and-on-for-sixty-chars-x';
    const endpoints = Array.from({ length: 12 }, (_, i) => `"10.1.0.${i + 1}:8080"`).join(', ');
    const m = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: long }
spec:
  backends:
    - name: ${name}
      port: 80
      versions:
        - { name: v1, endpoints: [${endpoints}] }
        - { name: v2, endpoints: ["10.1.1.1:8080"] }
  routes:
    - name: split
      parent: { backend: ${name} }
      to:
        - { backend: ${name}, version: v1, weight: 99 }
        - { backend: ${name}, version: v2, weight: 1 }
`);
    for (const mode of ['sidecar', 'vip']) {
      for (const f of render(m, { targets: ['iptables'], settings: { mode } }).outputs[0]!.files) {
        const r = f.path.endsWith('.nft')
          ? await ns.pipe(f.contents, 'nft', '-c', '-f', '-')
          : await ns.pipe(f.contents, 'iptables-restore', '--test');
        expect(`${f.path}: ${r.status} ${r.stderr}`).toBe(`${f.path}: 0 `);
      }
    }
  });

  it('the checks reject a broken plan (they are not vacuous)', async () => {
    const files = render(exampleMesh('hello'), { targets: ['iptables'], settings: { mode: 'vip' } })
      .outputs[0]!.files;
    const ipt = files.find((f) => f.path === 'vip.iptables')!.contents.replace('-j DNAT', '-j DNATT');
    const nft = files.find((f) => f.path === 'vip.nft')!.contents.replace('numgen random', 'numgen randm');
    expect((await ns.pipe(ipt, 'iptables-restore', '--test')).status).not.toBe(0);
    expect((await ns.pipe(nft, 'nft', '-c', '-f', '-')).status).not.toBe(0);
  });
});
