import { describe, expect, it } from 'vitest';
import { iptables } from '../../../src/emitters/iptables/index.js';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';

const mesh = (backends: string, routes = '') =>
  meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  namespace: t
  backends:
${backends}
${routes ? `  routes:\n${routes}` : ''}
`);

const files = (m: ReturnType<typeof mesh>, settings: Record<string, string> = {}) =>
  Object.fromEntries(iptables.emit(m, { settings }).files.map((f) => [f.path, f.contents]));
const codes = (m: ReturnType<typeof mesh>, settings: Record<string, string> = {}) =>
  iptables.emit(m, { settings }).diagnostics.map((d) => `${d.severity} ${d.code} ${d.message}`);

const ONE = `    - name: web
      port: 9080
      versions:
        - { name: v1, endpoints: ["10.0.0.1:8080"] }`;

describe('the iptables emitter', () => {
  it('writes one iptables and one nft plan per backend in sidecar mode, Istio defaults filled', () => {
    const out = files(exampleMesh('shop'));
    expect(Object.keys(out)).toEqual([
      'catalog.iptables',
      'catalog.nft',
      'checkout.iptables',
      'checkout.nft',
      'orders-db.iptables',
      'orders-db.nft',
      'payments.iptables',
      'payments.nft',
      'web.iptables',
      'web.nft',
    ]);
    expect(out['web.iptables']).toContain('-A MESHGEN_OUTPUT -m owner --uid-owner 1337 -j RETURN');
    expect(out['web.iptables']).toContain('-A MESHGEN_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    expect(out['web.iptables']).toContain('-A MESHGEN_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006');
    expect(out['web.nft']).toContain('meta skuid 1337 return');
  });

  it('intercepts inbound the backend port and its endpoints ports, or every port with includeInboundPorts=*', () => {
    expect(files(mesh(ONE))['web.nft']).toContain('tcp dport { 8080, 9080 } redirect to :15006');
    const all = files(mesh(ONE), { includeInboundPorts: '*', excludeInboundPorts: '22' });
    expect(all['web.iptables']).toContain(
      '-A MESHGEN_INBOUND -p tcp -m tcp --dport 22 -j RETURN\n-A MESHGEN_INBOUND -p tcp -j MESHGEN_IN_REDIRECT',
    );
  });

  it('puts the settings into the rules', () => {
    const out = files(mesh(ONE), {
      proxyUid: '2000',
      proxyGid: '2001',
      outboundPort: '16001',
      excludeOutboundPorts: '53',
      excludeOutboundCidrs: '10.0.0.0/8,fd00::/8,192.168.1.1',
    });
    expect(out['web.iptables']).toContain('--uid-owner 2000');
    expect(out['web.iptables']).toContain('--gid-owner 2001');
    expect(out['web.iptables']).toContain('-A MESHGEN_OUTPUT -p tcp -m tcp --dport 53 -j RETURN');
    expect(out['web.iptables']).toContain(
      '-A MESHGEN_OUTPUT -d 10.0.0.0/8 -j RETURN\n-A MESHGEN_OUTPUT -d 192.168.1.1/32 -j RETURN',
    );
    expect(out['web.iptables']).not.toContain('fd00');
    expect(out['web.nft']).toContain('ip daddr { 10.0.0.0/8, 192.168.1.1/32 } return');
    expect(out['web.nft']).toContain('ip6 daddr fd00::/8 return');
    expect(out['web.nft']).toContain('redirect to :16001');
  });

  it.each([
    ['mode', 'kube'],
    ['proxyUid', 'envoy'],
    ['inboundPort', '70000'],
    ['excludeOutboundPorts', '80,http'],
    ['excludeOutboundCidrs', '10.0.0.0/33'],
    ['excludeOutboundCidrs', 'example.com'],
    ['nftFamily', 'ip6'],
    ['vip.web', '::1'],
    ['vip.nosuch', '10.0.0.1'],
  ])('reports a bad setting %s=%s as MG4003 instead of failing', (key, value) => {
    const d = iptables
      .emit(mesh(ONE), { settings: { [key]: value } })
      .diagnostics.filter((x) => x.code === 'MG4003');
    expect(d).toHaveLength(1);
    expect(d[0]!.severity).toBe('error');
    expect(d[0]!.message).toContain(key);
  });

  it('ignores settings meant for other targets', () => {
    expect(codes(mesh(ONE), { gatewayClass: 'istio' }).filter((c) => c.includes('MG4003'))).toEqual([]);
  });

  it('writes vip.iptables and vip.nft in vip mode, at the local address or a configured VIP', () => {
    const out = files(mesh(ONE), { mode: 'vip' });
    expect(Object.keys(out)).toEqual(['vip.iptables', 'vip.nft']);
    expect(out['vip.iptables']).toContain('-A MESHGEN_SERVICES -d 127.0.0.1/32 -p tcp -m tcp --dport 9080');
    expect(out['vip.nft']).toContain('127.0.0.1 . 9080 : goto svc-web');
    expect(files(mesh(ONE), { mode: 'vip', 'vip.web': '10.96.0.10' })['vip.nft']).toContain(
      '10.96.0.10 . 9080 : goto svc-web',
    );
  });

  it('divides a version weight evenly over its endpoints', () => {
    const m = mesh(
      `    - name: web
      port: 9080
      versions:
        - { name: v1, endpoints: ["10.0.0.1:80", "10.0.0.2:80"] }
        - { name: v2, endpoints: ["10.0.0.3:80"] }`,
      `    - name: split
      parent: { backend: web }
      to:
        - { backend: web, version: v1, weight: 90 }
        - { backend: web, version: v2, weight: 10 }`,
    );
    const out = files(m, { mode: 'vip' });
    expect(out['vip.iptables']).toContain('--probability 0.4500000000 -j MGSEP-web-0');
    expect(out['vip.iptables']).toContain(`--probability ${(45 / 55).toFixed(10)} -j MGSEP-web-1`);
    expect(out['vip.iptables']).toMatch(
      /-A MGSVC-web -m comment --comment "web\/v2 10\.0\.0\.3:80 10%" -j MGSEP-web-2/,
    );
    expect(out['vip.nft']).toContain(
      `elements = { ${[...Array(20).keys()].map((k) => `${k} : 10.0.0.${k < 9 ? 1 : k < 18 ? 2 : 3} . 80`).join(', ')} }`,
    );
    expect(out['vip.nft']).toContain('meta l4proto tcp dnat ip to numgen random mod 20 map @ep-web');
    expect(
      codes(m, { mode: 'vip' }).some((c) => c.startsWith('warning MG3002 route "split" uses split')),
    ).toBe(true);
  });

  it('needs IPv4 endpoints in vip mode (MG3003), not in sidecar mode', () => {
    const m = mesh(`    - name: db
      port: 5432
      versions:
        - { name: a, endpoints: ["db.internal:5432"] }
        - { name: b, endpoints: ["[::1]:5432"] }
        - { name: c }`);
    const vip = codes(m, { mode: 'vip' }).filter((c) => c.includes('MG3003'));
    expect(vip).toHaveLength(3);
    expect(vip.every((c) => c.startsWith('error'))).toBe(true);
    expect(files(m, { mode: 'vip' })['vip.nft']).not.toContain('svc-db');
    expect(codes(m).filter((c) => c.includes('MG3003'))).toEqual([]);
  });

  it('says which routes a vip plan cannot honour, naming them', () => {
    const d = codes(exampleMesh('bookinfo'), { mode: 'vip' }).filter((c) => c.includes('backend "reviews"'));
    expect(d).toEqual([
      'warning MG3002 backend "reviews": the iptables vip plan balances connections, not requests: its first route "reviews-jason" matches requests, which the vip plan cannot see, and takes every connection; route "reviews-canary" never applies',
    ]);
  });

  it('marks L7 features unsupported and the split approximate, so render reports each use', () => {
    expect(iptables.fidelity.split).toBe('approximate');
    expect(iptables.fidelity['header-match']).toBe('unsupported');
    expect(iptables.fidelity.retries).toBe('unsupported');
    expect(iptables.fidelity.tcp).toBe('exact');
    const all = render(exampleMesh('bookinfo'), { targets: ['iptables'] }).diagnostics;
    expect(
      all.filter((d) => d.code === 'MG3001' && d.message.includes('header-match')).map((d) => d.pointer),
    ).toEqual(['/spec/routes/1/match/0/headers', '/spec/routes/3/match/0/headers']);
    expect(all.some((d) => d.code === 'MG3001' && d.message.includes('frontend "bookinfo-gateway"'))).toBe(
      true,
    );
  });

  it('reports two backends on one service address', () => {
    const m = mesh(`${ONE}
    - name: api
      port: 9080
      versions:
        - { name: v1, endpoints: ["10.0.0.2:8080"] }`);
    expect(
      codes(m, { mode: 'vip', 'vip.web': '10.96.0.1', 'vip.api': '10.96.0.1' }).filter((c) =>
        c.includes('MG4003'),
      ),
    ).toHaveLength(1);
  });

  it('keeps chain names within iptables 28 characters', () => {
    const name = 'a-very-long-backend-name-that-goes-on-and-on-for-sixty-chars-x';
    const out = files(mesh(ONE.replace('name: web', `name: ${name}`)), { mode: 'vip' })['vip.iptables']!;
    const chains = [...out.matchAll(/^:(\S+)/gm)].map((m) => m[1]!);
    expect(chains.filter((c) => c.startsWith('MG'))).toHaveLength(2);
    expect(Math.max(...chains.map((c) => c.length))).toBeLessThanOrEqual(28);
  });

  it('is pure: the same mesh gives the same bytes', () => {
    const m = exampleMesh('shop');
    expect(iptables.emit(m, { settings: { mode: 'vip' } })).toEqual(
      iptables.emit(m, { settings: { mode: 'vip' } }),
    );
  });
});
