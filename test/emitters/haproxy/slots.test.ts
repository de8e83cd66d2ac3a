import { describe, expect, it } from 'vitest';
import { haproxySlots } from '../../../src/emitters/haproxy/index.js';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { hasBinary } from '../../support/processes.js';
import { checkMesh } from '../../smartstack/examples.js';
import { KITCHEN_SINK } from '../../smartstack/kitchen-sink.js';

const cfg = (settings: Record<string, string>) =>
  render(exampleMesh('shop'), { targets: ['haproxy'], settings }).outputs[0]!.files.find(
    (f) => f.path === 'haproxy.cfg',
  )!.contents;

describe('haproxy server slots (--set serverSlots)', () => {
  it('gives each backend version its slots, the spare ones in maintenance, and an admin socket', () => {
    const text = cfg({ serverSlots: '3', runtimeSocket: '/run/mesh/haproxy.sock' });
    expect(text).toContain('    stats socket unix@/run/mesh/haproxy.sock mode 600 level admin\n');
    // every version's servers are <version>-0 .. -2; the ones without an endpoint are disabled
    for (const section of text.split('\nbackend ').slice(1)) {
      const servers = section.split('\n').filter((l) => l.startsWith('    server '));
      const byVersion = new Map<string, string[]>();
      for (const s of servers) {
        const name = s.split(' ')[5]!;
        const version = name.replace(/-\d+$/, '');
        byVersion.set(version, [...(byVersion.get(version) ?? []), s]);
      }
      for (const [version, lines] of byVersion) {
        expect(lines.map((l) => l.split(' ')[5])).toEqual(lines.map((_, i) => `${version}-${i}`));
        expect(lines.length).toBeGreaterThanOrEqual(3);
        for (const l of lines) expect(l.includes(' 0.0.0.0:0 ')).toBe(l.endsWith(' disabled'));
      }
    }
  });

  it('changes nothing without the setting', () => {
    const text = cfg({});
    expect(text).not.toContain('stats socket');
    expect(text).not.toContain('disabled');
  });

  it('refuses a slot count that is not a number from 1 to 1000', () => {
    const r = render(exampleMesh('shop'), { targets: ['haproxy'], settings: { serverSlots: '0' } });
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toContainEqual(
      expect.stringContaining('MG4003 --set serverSlots="0" is not valid for the haproxy target'),
    );
  });

  it('describes the slots of every backend version a backend section serves', () => {
    const mesh = exampleMesh('shop');
    const groups = haproxySlots(mesh, { settings: { serverSlots: '2' } })!;
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      const endpoints = mesh.backendsByName
        .get(g.backend)!
        .versions.find((v) => v.name === g.version)!
        .endpoints.map((e) => (e.family === 'ipv6' ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`));
      expect(g.slots).toBe(Math.max(2, endpoints.length));
      expect(g.endpoints).toEqual([...endpoints, ...Array(g.slots - endpoints.length).fill(undefined)]);
      expect(g.pools.length).toBeGreaterThan(0);
    }
    expect(haproxySlots(mesh, { settings: {} })).toBeUndefined();
  });

  (hasBinary('haproxy') ? it : it.skip)('passes haproxy -c for a mesh using every feature', async () => {
    const r = await checkMesh(
      'haproxy',
      meshFrom(KITCHEN_SINK),
      () => ['haproxy', '-c', '-f', 'haproxy.cfg'],
      {
        serverSlots: '3',
      },
    );
    expect(r.output).toContain('Configuration file is valid');
    expect(r.status, r.output).toBe(0);
  });
});
