import { describe, expect, it } from 'vitest';
import { simulateConsul } from '../../../src/meshtest/simulate/consul.js';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { edit, filesFor, simCase, SMALL } from './support.js';

const shop = filesFor(exampleMesh('shop'), 'consul');
const small = filesFor(meshFrom(SMALL), 'consul');
const fromWeb = { entry: { caller: 'web' }, host: 'catalog.shop.svc.cluster.local' } as const;
const viaPublic = { entry: { frontend: 'public' }, host: 'shop.example.com', scheme: 'https' } as const;

describe('consul simulator', () => {
  it('routes by the service-router, then the splitter and the resolver subsets', () => {
    const r = simulateConsul(
      shop,
      simCase({ ...fromWeb, path: '/api/items', query: { page: '2' }, headers: { 'x-debug': '1' } }),
    );
    expect(r).toMatchObject({ kind: 'observed', status: 200, backend: 'catalog', path: '/v1/items?page=2' });
    expect(r).toMatchObject({
      requestHeaders: { 'x-mesh': 'shop' },
      shares: { 'catalog/v1': 0.8, 'catalog/v2': 0.2 },
    });
    expect(r.kind === 'observed' && 'x-debug' in (r.requestHeaders ?? {})).toBe(false);
  });

  it('sends what no router route matches to the service itself, where the mesh answers 404', () => {
    // the mesh: catalog has routes, none accepts /other, so 404; Consul's implicit default route
    // takes it to every instance of catalog
    const r = simulateConsul(shop, simCase({ ...fromWeb, path: '/other' }));
    expect(r).toMatchObject({
      kind: 'observed',
      status: 200,
      backend: 'catalog',
      path: '/other',
      shares: { catalog: 1 },
    });
  });

  it('serves the ingress gateway by host: first match by header, then the split', () => {
    expect(simulateConsul(shop, simCase({ ...viaPublic, headers: { 'x-beta': '1' } }))).toMatchObject({
      status: 200,
      backend: 'web',
      version: 'v2',
      responseHeaders: { 'x-release': 'beta' },
    });
    expect(simulateConsul(shop, simCase(viaPublic))).toMatchObject({
      shares: { 'web/v1': 0.9, 'web/v2': 0.1 },
    });
    expect(simulateConsul(shop, simCase({ ...viaPublic, host: 'other.example.com' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
  });

  it('retries by NumRetries, RetryOnStatusCodes and RetryOn, with no per-try timeout', () => {
    expect(
      simulateConsul(shop, simCase({ ...viaPublic, backends: { web: { failFirst: 1 } } })),
    ).toMatchObject({ status: 200, tries: 2 });
    expect(
      simulateConsul(shop, simCase({ ...viaPublic, backends: { web: { failFirst: 9 } } })),
    ).toMatchObject({ status: 503, tries: 3 });
    expect(simulateConsul(shop, simCase({ ...viaPublic, backends: { web: { reset: true } } }))).toEqual({
      kind: 'observed',
      status: 503,
      tries: 3,
    });
    // Consul has no per-try timeout: the 3s RequestTimeout ends the one try
    const hang = simulateConsul(
      shop,
      simCase({ ...fromWeb, path: '/api/x', backends: { catalog: { hang: true } } }),
    );
    expect(hang).toEqual({ kind: 'observed', status: 504, tries: 1 });
  });

  it("applies Envoy's 15s default route timeout where the mesh sets none", () => {
    const c = simCase({ entry: { caller: 'checkout' }, host: 'web', backends: { web: { delayMs: 20_000 } } });
    expect(simulateConsul(shop, c)).toEqual({ kind: 'observed', status: 504, tries: 1 });
    expect(simulateConsul(shop, { ...c, backends: { web: { delayMs: 10_000 } } })).toMatchObject({
      status: 200,
    });
  });

  it('applies intentions of the receiving service: L7 permissions in order, wildcard last', () => {
    const pay = (caller: string, method: string, path: string) =>
      simulateConsul(shop, simCase({ entry: { caller }, host: 'payments', method, path }));
    expect(pay('checkout', 'POST', '/pay')).toMatchObject({ status: 200, backend: 'payments' });
    expect(pay('checkout', 'POST', '/refund/1')).toMatchObject({ status: 200 });
    expect(pay('checkout', 'GET', '/pay')).toEqual({ kind: 'observed', status: 403, denied: true });
    expect(pay('web', 'POST', '/pay')).toEqual({ kind: 'observed', status: 403, denied: true });
  });

  it('reads the rendered objects: a changed split weight or retry count changes the outcome', () => {
    const weights = edit(shop, 'servicesplitter-shop-catalog--catalog-api.yaml', 'weight: 80', 'weight: 50');
    const w = edit(weights, 'servicesplitter-shop-catalog--catalog-api.yaml', 'weight: 20', 'weight: 50');
    expect(simulateConsul(w, simCase({ ...fromWeb, path: '/api/x' }))).toMatchObject({
      shares: { 'catalog/v1': 0.5, 'catalog/v2': 0.5 },
    });
    const retries = edit(small, 'servicerouter-small-api.yaml', 'numRetries: 2', 'numRetries: 1');
    const c = simCase({
      entry: { caller: 'client' },
      host: 'api',
      path: '/items',
      backends: { api: { failFirst: 2 } },
    });
    expect(simulateConsul(small, c)).toMatchObject({ status: 200, tries: 3 });
    expect(simulateConsul(retries, c)).toMatchObject({ status: 503, tries: 2 });
  });

  it('says unsupported for the HCL flavour, TCP services and a default intention', () => {
    const hcl = render(exampleMesh('shop'), { targets: ['consul'], settings: { consulFormat: 'hcl' } })
      .outputs[0]!.files;
    expect(simulateConsul(hcl, simCase(fromWeb))).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('CRD'),
    });
    expect(simulateConsul(shop, simCase({ entry: { caller: 'checkout' }, host: 'orders-db' }))).toMatchObject(
      { kind: 'unsupported', reason: expect.stringContaining('tcp') },
    );
    const noIntention = shop.filter((f) => f.path !== 'serviceintentions-shop-catalog.yaml');
    expect(simulateConsul(noIntention, simCase({ ...fromWeb, path: '/api/x' }))).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('default intention'),
    });
  });
});
