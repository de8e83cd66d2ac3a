import { describe, expect, it } from 'vitest';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { FULL_MESH } from './fixtures.js';
import { emitObjects } from './helpers.js';
import { routeThroughIstio, routeThroughMesh, type Request } from './simulate.js';

const req = (r: Partial<Request>): Request => ({
  host: 'x',
  path: '/',
  method: 'GET',
  headers: {},
  query: {},
  ...r,
});

/** Every combination of a few hosts, paths, methods, headers and query strings. */
function requests(hosts: string[]): Request[] {
  const out: Request[] = [];
  const paths = [
    '/',
    '/api/x',
    '/reviews',
    '/reviews/12',
    '/reviews/ab',
    '/reviews-all',
    '/reviewsx',
    '/old/a',
    '/productpage',
    '/static/x',
    '/staticx',
    '/api/v1/products/1',
    '/login',
  ];
  const headerSets: Record<string, string>[] = [
    {},
    { 'end-user': 'jason' },
    { 'end-user': 'jason', 'x-trace': '', 'x-env': 'prod-1', 'x-re': 'aaa' },
    { 'x-beta': '1' },
  ];
  const querySets: Record<string, string>[] = [
    {},
    { debug: '1', lang: 'en-GB', v: '42', flag: '' },
    { debug: '2' },
  ];
  for (const host of hosts)
    for (const path of paths)
      for (const method of ['GET', 'POST'])
        for (const headers of headerSets)
          for (const query of querySets) out.push(req({ host, path, method, headers, query }));
  return out;
}

describe('requests routed through the emitted VirtualServices land where the mesh says', () => {
  it('through a frontend whose routes serve different hosts (one VirtualService per host)', () => {
    const mesh = meshFrom(FULL_MESH);
    const { objects } = emitObjects(mesh);
    const all = requests(['api.example.com', 'shop.example.com', 'other.example.com', 'example.org']);
    let routed = 0;
    for (const r of all) {
      const want = routeThroughMesh(mesh, { frontend: 'public' }, r);
      expect(routeThroughIstio(objects, 'shop/public', r), JSON.stringify(r)).toEqual(want);
      if (want !== 'no-route') routed++;
    }
    expect(routed).toBeGreaterThan(0);
    expect(routed).toBeLessThan(all.length);
  });

  it('east-west, through a backend with header, regex, query and method matches', () => {
    const mesh = meshFrom(FULL_MESH);
    const { objects } = emitObjects(mesh);
    for (const r of requests(['reviews.shop.svc.cluster.local']))
      expect(routeThroughIstio(objects, 'mesh', r), JSON.stringify(r)).toEqual(
        routeThroughMesh(mesh, { backend: 'reviews' }, r),
      );
  });

  it.each(['shop', 'bookinfo', 'hello'])(
    'through every HTTP frontend and backend of example %s',
    (example) => {
      const mesh = exampleMesh(example);
      const { objects } = emitObjects(mesh);
      for (const f of mesh.frontends.filter((x) => x.protocol === 'http' || x.protocol === 'https'))
        for (const r of requests([...f.hosts.filter((h) => !h.includes('*')), 'anything.test']))
          expect(routeThroughIstio(objects, `${mesh.namespace}/${f.name}`, r)).toEqual(
            routeThroughMesh(mesh, { frontend: f.name }, r),
          );
      for (const b of mesh.backends.filter((x) => x.protocol !== 'tcp'))
        for (const r of requests([b.fqdn]))
          expect(routeThroughIstio(objects, 'mesh', r)).toEqual(
            routeThroughMesh(mesh, { backend: b.name }, r),
          );
    },
  );
});
