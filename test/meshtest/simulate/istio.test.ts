import { describe, expect, it } from 'vitest';
import { simulateIstio } from '../../../src/meshtest/simulate/istio.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { edit, filesFor, simCase, SMALL } from './support.js';

const shop = filesFor(exampleMesh('shop'), 'istio');
const small = filesFor(meshFrom(SMALL), 'istio');
const fromWeb = { entry: { caller: 'web' }, host: 'catalog' } as const;
const viaPublic = { entry: { frontend: 'public' }, host: 'shop.example.com', scheme: 'https' } as const;

describe('istio simulator', () => {
  it('takes the first VirtualService route that matches, by header, then the split to subsets', () => {
    const beta = simulateIstio(shop, simCase({ ...viaPublic, path: '/cart', headers: { 'x-beta': '1' } }));
    expect(beta).toMatchObject({ kind: 'observed', status: 200, backend: 'web', version: 'v2', tries: 1 });
    expect(beta).toMatchObject({ responseHeaders: { 'x-release': 'beta' }, shares: { 'web/v2': 1 } });
    const plain = simulateIstio(shop, simCase({ ...viaPublic, path: '/cart' }));
    expect(plain).toMatchObject({ status: 200, backend: 'web', shares: { 'web/v1': 0.9, 'web/v2': 0.1 } });
    expect(plain).toMatchObject({ version: undefined, responseHeaders: {} });
  });

  it('answers 404 when no route matches, for a gateway host or a sidecar', () => {
    expect(simulateIstio(shop, simCase({ ...viaPublic, host: 'other.example.com' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
    expect(simulateIstio(shop, simCase({ ...fromWeb, path: '/other' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
    expect(simulateIstio(shop, simCase({ ...fromWeb, path: '/api/x', method: 'POST' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
  });

  it('rewrites the matched prefix, keeps the query and applies request header operations', () => {
    const r = simulateIstio(
      shop,
      simCase({ ...fromWeb, path: '/api/items', query: { page: '2' }, headers: { 'x-debug': '1' } }),
    );
    expect(r).toMatchObject({ status: 200, path: '/v1/items?page=2', requestHeaders: { 'x-mesh': 'shop' } });
    expect(r.kind === 'observed' && r.requestHeaders?.['x-debug']).toBe(undefined);
    expect(r).toMatchObject({ shares: { 'catalog/v1': 0.8, 'catalog/v2': 0.2 } });
  });

  it('matches query parameters and sets, adds and removes headers each way', () => {
    const debug = simulateIstio(
      small,
      simCase({ entry: { caller: 'client' }, host: 'api', path: '/items', query: { debug: '1' } }),
    );
    expect(debug).toMatchObject({
      status: 200,
      requestHeaders: { 'x-debug-route': 'yes' },
      path: '/items?debug=1',
    });
    const items = simulateIstio(
      small,
      simCase({
        entry: { caller: 'client' },
        host: 'api',
        path: '/items/3',
        headers: { 'x-via': 'app', 'x-drop': 'x' },
      }),
    );
    expect(items).toMatchObject({
      requestHeaders: { 'x-route': 'items', 'x-via': 'app, meshgen' },
      responseHeaders: { 'x-served': 'api' },
    });
    expect(items.kind === 'observed' && 'x-drop' in (items.requestHeaders ?? {})).toBe(false);
  });

  it('retries on the listed status and counts tries, then gives the last status', () => {
    const c = (backends: Record<string, object>) =>
      simCase({ entry: { caller: 'client' }, host: 'api', path: '/items', backends });
    expect(simulateIstio(small, c({ api: { failFirst: 2 } }))).toMatchObject({ status: 200, tries: 3 });
    expect(simulateIstio(small, c({ 'api/v1': { failFirst: 5 } }))).toMatchObject({ status: 503, tries: 3 });
    // 500 is not in retryOn "503": one try
    expect(simulateIstio(small, c({ api: { failFirst: 1, failStatus: 500 } }))).toMatchObject({
      status: 500,
      tries: 1,
    });
    // a reset is not retried on "503" alone: Envoy answers 503 and no backend answered
    expect(simulateIstio(small, c({ api: { reset: true } }))).toEqual({
      kind: 'observed',
      status: 503,
      tries: 1,
    });
  });

  it("says unsupported where Istio's default retry conditions decide, which differ by release", () => {
    const c = simCase({
      entry: { caller: 'client' },
      host: 'api',
      path: '/items',
      backends: { api: { failFirst: 1 } },
    });
    const noRetryOn = edit(small, 'virtualservice-small-api.yaml', '        retryOn: "503"\n', '');
    expect(simulateIstio(noRetryOn, c)).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('no retryOn'),
    });
    // attempts 0: no retry in any release
    const none = edit(small, 'virtualservice-small-api.yaml', 'attempts: 2', 'attempts: 0');
    expect(simulateIstio(none, c)).toMatchObject({ kind: 'observed', status: 503, tries: 1 });
  });

  it('bounds each try by perTryTimeout and the whole request by timeout (504)', () => {
    const hang = simulateIstio(
      shop,
      simCase({ ...fromWeb, path: '/api/x', backends: { catalog: { hang: true } } }),
    );
    // three tries of 1s fill the 3s timeout: no fourth try starts
    expect(hang).toEqual({ kind: 'observed', status: 504, tries: 3 });
    const slow = simulateIstio(
      shop,
      simCase({ ...fromWeb, path: '/api/x', backends: { catalog: { delayMs: 500 } } }),
    );
    expect(slow).toMatchObject({ status: 200, tries: 1 });
    // a per-try timeout is not retried when retryOn is "503" only
    const small504 = simulateIstio(
      small,
      simCase({
        entry: { caller: 'client' },
        host: 'api',
        path: '/items',
        backends: { api: { delayMs: 1500 } },
      }),
    );
    expect(small504).toEqual({ kind: 'observed', status: 504, tries: 1 });
  });

  it('denies by AuthorizationPolicy principals, paths and methods (403)', () => {
    const pay = (caller: string, method: string, path: string) =>
      simulateIstio(shop, simCase({ entry: { caller }, host: 'payments', method, path }));
    expect(pay('checkout', 'POST', '/pay')).toMatchObject({ status: 200, backend: 'payments' });
    expect(pay('checkout', 'POST', '/refund/7')).toMatchObject({ status: 200 });
    expect(pay('checkout', 'GET', '/pay')).toEqual({ kind: 'observed', status: 403, denied: true });
    expect(pay('web', 'POST', '/pay')).toEqual({ kind: 'observed', status: 403, denied: true });
  });

  it('refuses plain text at a STRICT destination (what a DestinationRule with tls DISABLE sends)', () => {
    const files = edit(shop, 'destinationrule-shop-payments.yaml', 'mode: ISTIO_MUTUAL', 'mode: DISABLE');
    const r = simulateIstio(
      files,
      simCase({ entry: { caller: 'checkout' }, host: 'payments', method: 'POST', path: '/pay' }),
    );
    expect(r).toEqual({ kind: 'observed', status: 503, denied: true });
  });

  it('reads the rendered objects: a changed weight or match changes the outcome', () => {
    const weights = edit(shop, 'virtualservice-shop-catalog.yaml', 'weight: 80', 'weight: 30');
    expect(simulateIstio(weights, simCase({ ...fromWeb, path: '/api/x' }))).toMatchObject({
      shares: { 'catalog/v1': 0.6, 'catalog/v2': 0.4 },
    });
    const match = edit(shop, 'virtualservice-shop-catalog.yaml', 'prefix: /api/', 'exact: /api/');
    expect(simulateIstio(match, simCase({ ...fromWeb, path: '/api/x' }))).toEqual({
      kind: 'observed',
      status: 404,
    });
  });

  it('aborts every request with a 100% fault and reaches no backend', () => {
    const files = edit(
      shop,
      'virtualservice-shop-catalog.yaml',
      'fault:\n        delay:\n          fixedDelay: "0.5s"\n          percentage:\n            value: 1',
      'fault:\n        abort:\n          httpStatus: 418\n          percentage:\n            value: 100',
    );
    expect(simulateIstio(files, simCase({ ...fromWeb, path: '/api/x' }))).toEqual({
      kind: 'observed',
      status: 418,
    });
  });

  it('says unsupported rather than guess: chance between split versions, unknown fields, never-answering backends', () => {
    const differ = simulateIstio(
      shop,
      simCase({ ...fromWeb, path: '/api/x', backends: { 'catalog/v2': { status: 500 } } }),
    );
    expect(differ).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringMatching(/catalog\/v1: 200, catalog\/v2: 500.*chance/),
    });
    const odd = edit(
      shop,
      'virtualservice-shop-catalog.yaml',
      '      timeout: "3s"',
      '      corsPolicy: {}\n      timeout: "3s"',
    );
    expect(simulateIstio(odd, simCase({ ...fromWeb, path: '/api/x' }))).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('corsPolicy'),
    });
    const hang = simulateIstio(
      small,
      simCase({
        entry: { caller: 'client' },
        host: 'api',
        path: '/items',
        query: { debug: '1' },
        backends: { api: { hang: true } },
      }),
    );
    expect(hang).toMatchObject({ kind: 'unsupported', reason: expect.stringContaining('never answers') });
    expect(simulateIstio(shop, simCase({ entry: { caller: 'web' }, host: 'example.org' }))).toMatchObject({
      kind: 'unsupported',
    });
  });
});

describe('istio simulator at a frontend', () => {
  it('says unsupported when the case speaks http to an HTTPS server, or the server wants client certificates', () => {
    const plain = simulateIstio(shop, simCase({ entry: { frontend: 'public' }, host: 'shop.example.com' }));
    expect(plain).toMatchObject({ kind: 'unsupported', reason: expect.stringContaining('speaks HTTPS') });
    const mutual = edit(shop, 'gateway-shop-public.yaml', 'mode: SIMPLE', 'mode: MUTUAL');
    const r = simulateIstio(
      mutual,
      simCase({ entry: { frontend: 'public' }, host: 'shop.example.com', scheme: 'https' }),
    );
    expect(r).toMatchObject({ kind: 'unsupported', reason: expect.stringContaining('client certificates') });
  });
});

describe('istio simulator on a pool of versions', () => {
  const toWeb = { entry: { caller: 'checkout' }, host: 'web' } as const;

  it('answers for the pool when its versions behave alike, and says chance when they do not', () => {
    const alike = simulateIstio(
      shop,
      simCase({ ...toWeb, backends: { 'web/v1': { status: 503 }, 'web/v2': { status: 503 } } }),
    );
    // the implicit route has attempts: 0, so nothing is retried
    expect(alike).toMatchObject({
      kind: 'observed',
      status: 503,
      backend: 'web',
      version: undefined,
      tries: 1,
    });
    const differ = simulateIstio(shop, simCase({ ...toWeb, backends: { 'web/v1': { status: 500 } } }));
    expect(differ).toMatchObject({ kind: 'unsupported', reason: expect.stringContaining('one pool') });
  });
});
