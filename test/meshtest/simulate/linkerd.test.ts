import { describe, expect, it } from 'vitest';
import { simulateLinkerd } from '../../../src/meshtest/simulate/linkerd.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { edit, filesFor, simCase, SMALL } from './support.js';

const shop = filesFor(exampleMesh('shop'), 'linkerd');
const bookinfo = filesFor(exampleMesh('bookinfo'), 'linkerd');
const small = filesFor(meshFrom(SMALL), 'linkerd');
const fromWeb = { entry: { caller: 'web' }, host: 'catalog' } as const;
const toApi = { entry: { caller: 'client' }, host: 'api.small.svc.cluster.local' } as const;

describe('linkerd simulator', () => {
  it('routes by HTTPRoutes on the Service, and leaves the path as sent (Linkerd refuses URLRewrite)', () => {
    const r = simulateLinkerd(shop, simCase({ ...fromWeb, path: '/api/items', headers: { 'x-debug': '1' } }));
    expect(r).toMatchObject({ kind: 'observed', status: 200, backend: 'catalog', path: '/api/items' });
    expect(r).toMatchObject({
      requestHeaders: { 'x-mesh': 'shop' },
      shares: { 'catalog/v1': 0.8, 'catalog/v2': 0.2 },
    });
  });

  it('matches a PathPrefix by whole segments: "/api/" also accepts "/api", where the mesh answers 404', () => {
    expect(simulateLinkerd(shop, simCase({ ...fromWeb, path: '/api' }))).toMatchObject({
      status: 200,
      backend: 'catalog',
    });
    expect(simulateLinkerd(shop, simCase({ ...fromWeb, path: '/apix' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
    expect(simulateLinkerd(shop, simCase({ ...fromWeb, path: '/other' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
  });

  it('chooses among routes by precedence: more headers win, whatever the route order', () => {
    const jason = simulateLinkerd(
      bookinfo,
      simCase({ entry: { caller: 'productpage' }, host: 'reviews', headers: { 'end-user': 'jason' } }),
    );
    expect(jason).toMatchObject({ status: 200, backend: 'reviews', version: 'v2' });
    const other = simulateLinkerd(bookinfo, simCase({ entry: { caller: 'productpage' }, host: 'reviews' }));
    expect(other).toMatchObject({ status: 200, shares: { 'reviews/v1': 0.5, 'reviews/v3': 0.5 } });
    // a query parameter match outranks the same path without one
    const debug = simulateLinkerd(small, simCase({ ...toApi, path: '/items', query: { debug: '1' } }));
    expect(debug).toMatchObject({ requestHeaders: { 'x-debug-route': 'yes' } });
  });

  it('says unsupported where the release decides: a method match ranks after query parameters in earlier proxies, before them in recent ones', () => {
    const c = simCase({ ...toApi, path: '/items', query: { debug: '1' } });
    expect(simulateLinkerd(small, c)).toMatchObject({
      status: 200,
      requestHeaders: { 'x-debug-route': 'yes' },
    });
    const method = edit(
      small,
      'httproute-small-items.yaml',
      '            value: /items\n',
      '            value: /items\n          method: GET\n',
    );
    expect(simulateLinkerd(method, c)).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('Linkerd release'),
    });
    // where both orders agree, the method match decides
    expect(simulateLinkerd(method, simCase({ ...toApi, path: '/items' }))).toMatchObject({
      status: 200,
      requestHeaders: { 'x-route': 'items' },
    });
  });

  it('retries by the annotations, on statuses and per-try timeouts but not on resets (502)', () => {
    const c = (backends: Record<string, object>) => simCase({ ...toApi, path: '/items', backends });
    expect(simulateLinkerd(small, c({ api: { failFirst: 1 } }))).toMatchObject({ status: 200, tries: 2 });
    expect(simulateLinkerd(small, c({ api: { failFirst: 9 } }))).toMatchObject({ status: 503, tries: 3 });
    expect(simulateLinkerd(small, c({ api: { reset: true } }))).toEqual({
      kind: 'observed',
      status: 502,
      tries: 1,
    });
    // each try runs out after 1s and is retried whatever retry.linkerd.io/http says
    expect(simulateLinkerd(small, c({ api: { hang: true } }))).toEqual({
      kind: 'observed',
      status: 504,
      tries: 3,
    });
    const answered = simulateLinkerd(small, c({ api: { delayMs: 200 } }));
    expect(answered).toMatchObject({
      requestHeaders: { 'x-route': 'items', 'x-via': 'meshgen' },
      responseHeaders: { 'x-served': 'api' },
    });
  });

  it('admits by Server, policy HTTPRoutes and MeshTLSAuthentication identities (403)', () => {
    const pay = (caller: string, method: string, path: string) =>
      simulateLinkerd(shop, simCase({ entry: { caller }, host: 'payments', method, path }));
    expect(pay('checkout', 'POST', '/pay')).toMatchObject({ status: 200, backend: 'payments' });
    expect(pay('checkout', 'POST', '/refund/1')).toMatchObject({ status: 200 });
    expect(pay('checkout', 'GET', '/pay')).toEqual({ kind: 'observed', status: 403, denied: true });
    expect(pay('web', 'POST', '/pay')).toEqual({ kind: 'observed', status: 403, denied: true });
  });

  it('reads the rendered objects: a changed retry limit or identity changes the outcome', () => {
    const limit = edit(
      small,
      'httproute-small-items.yaml',
      'retry.linkerd.io/limit: "2"',
      'retry.linkerd.io/limit: "1"',
    );
    const c = simCase({ ...toApi, path: '/items', backends: { api: { failFirst: 2 } } });
    expect(simulateLinkerd(small, c)).toMatchObject({ status: 200, tries: 3 });
    expect(simulateLinkerd(limit, c)).toMatchObject({ status: 503, tries: 2 });
    const ids = edit(
      shop,
      'meshtlsauthentication-shop-payments-allow-0.yaml',
      '- checkout.shop.',
      '- web.shop.',
    );
    expect(
      simulateLinkerd(
        ids,
        simCase({ entry: { caller: 'web' }, host: 'payments', method: 'POST', path: '/pay' }),
      ),
    ).toMatchObject({ status: 200 });
  });

  it('leaves out a route with a filter Linkerd refuses: the Service routes as if it did not exist', () => {
    const before = simulateLinkerd(small, simCase({ ...toApi, path: '/items' }));
    expect(before).toMatchObject({ status: 200, requestHeaders: { 'x-route': 'items' } });
    const rewrite = edit(
      small,
      'httproute-small-items.yaml',
      '        - type: ResponseHeaderModifier',
      '        - type: URLRewrite\n          urlRewrite: {}\n        - type: ResponseHeaderModifier',
    );
    // the other route of the Service still answers its own requests; this one finds no route
    expect(simulateLinkerd(rewrite, simCase({ ...toApi, path: '/items' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
    expect(
      simulateLinkerd(rewrite, simCase({ ...toApi, path: '/items', query: { debug: '1' } })),
    ).toMatchObject({ status: 200, requestHeaders: { 'x-debug-route': 'yes' } });
    // the debug route refused too: no route is left, and the Service's default route answers
    const both = edit(
      rewrite,
      'httproute-small-debug.yaml',
      '      filters:\n',
      '      filters:\n        - type: RequestMirror\n          requestMirror: {}\n',
    );
    const r = simulateLinkerd(both, simCase({ ...toApi, path: '/items' }));
    expect(r).toMatchObject({ status: 200, backend: 'api', path: '/items' });
    expect(r).not.toHaveProperty('requestHeaders.x-route');
  });

  it('says unsupported for frontends and split retries', () => {
    expect(
      simulateLinkerd(shop, simCase({ entry: { frontend: 'public' }, host: 'shop.example.com' })),
    ).toMatchObject({ kind: 'unsupported', reason: expect.stringContaining('Gateway class') });
    const split = simulateLinkerd(
      shop,
      simCase({ ...fromWeb, path: '/api/x', backends: { catalog: { failFirst: 1 } } }),
    );
    expect(split).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('another destination'),
    });
  });
});
