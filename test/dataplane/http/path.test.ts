import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import {
  admitPath,
  canonicalPath,
  mergeSlashes,
  unescapeSlashes,
  type PathNormalization,
} from '../../../src/dataplane/http/path.js';
import type { Proxy } from '../../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../../support/backends.js';
import { boundPorts, cluster, httpBootstrap, raw, startProxy, type Obj } from '../helpers.js';

// The expectations are Envoy's own (test/common/http/path_utility_test.cc) and those Istio's
// integration test observes through Envoy for each meshConfig.pathNormalization mode
// (tests/integration/pilot/...: BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES).
describe('canonicalPath (normalize_path)', () => {
  it.each([
    ['/xyz', '/xyz'],
    ['/x/y/z', '/x/y/z'],
    ['/a/b/../c', '/a/c'],
    ['/a/b/./c', '/a/b/c'],
    ['a/b/../c', '/a/c'],
    ['/a/b/../../../../c', '/c'],
    ['/a/..\\c', '/c'],
    ['/%c0%af', '/%c0%af'],
    ['/%5c%25', '/%5c%25'],
    ['/a/b/%2E%2E/c', '/a/c'],
    ['/a/b/%2E./c', '/a/c'],
    ['/a/b/%2E/c', '/a/b/c'],
    ['..', '/'],
    ['/../a/b', '/a/b'],
    ['/./a/b', '/a/b'],
    ['/A/B/C', '/A/B/C'],
    ['/a/b/%2e%2e/c', '/a/c'],
    ['/a/%2F%2f/c', '/a/%2F%2f/c'],
    // Istio, BASE
    ['/app/../admin', '/admin'],
    ['/app//', '/app//'],
    ['/xyz%30..//abc', '/xyz0..//abc'],
    ['/app/%2E./admin', '/admin'],
    ['/app\\admin', '/app/admin'],
    ['/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/%5Capp%2f%5c%2F..%2fadmin%5c/abc'],
    ['/app//../admin', '/app/admin'],
    // unreserved characters are decoded, others escaped; the query is left alone
    ['/%7euser/%41%62c', '/~user/Abc'],
    ['/a b/"q"/{x}', '/a%20b/%22q%22/%7Bx%7D'],
    ['/café', '/caf%E9'],
    ['/a/../b?x=/../%2e&y', '/b?x=/../%2e&y'],
    ['/plain/path.txt?x=/../%2e', '/plain/path.txt?x=/../%2e'],
    ['?x=1', '/?x=1'],
    // an invalid escape stays; one that a decoded byte would complete is itself escaped
    ['/a%zz/%', '/a%zz/%'],
    ['/a%%30%30b', '/a%2500b'],
  ])('%s becomes %s', (input, out) => {
    expect(canonicalPath(input)).toBe(out);
  });

  it.each(['/xyz/.%00../abc', '/xyz/%00.%00./abc', '/xyz/AAAAA%%0000/abc', '/a\u0000b'])(
    'cannot normalize %j',
    (input) => {
      expect(canonicalPath(input)).toBeUndefined();
    },
  );
});

describe('mergeSlashes and unescapeSlashes', () => {
  it.each([
    ['', ''],
    ['a//b/c', 'a/b/c'],
    ['/a//b/c/', '/a/b/c/'],
    ['//a/b/c', '/a/b/c'],
    ['/a/b/c//', '/a/b/c/'],
    ['/a////b/c', '/a/b/c'],
    ['/a//b?a=///c', '/a/b?a=///c'],
    ['/a//b?', '/a/b?'],
    ['//a/?b', '/a/?b'],
  ])('merges %j into %j', (input, out) => {
    expect(mergeSlashes(input)).toBe(out);
  });

  it.each([
    ['%2f%2F', '//'],
    ['/a%2Fb%2fc/', '/a/b/c/'],
    ['/a%5Cb%5cc', '/a\\b\\c'],
    ['%2b', '%2b'],
    ['/abc%2', '/abc%2'],
    ['/a?b=%2F', '/a?b=%2F'],
  ])('unescapes %j into %j', (input, out) => {
    expect(unescapeSlashes(input)).toBe(out);
  });
});

describe('admitPath (the HCM settings together)', () => {
  const cfg = (o: Partial<PathNormalization>): PathNormalization => ({
    normalize: false,
    mergeSlashes: false,
    escapedSlashes: 'KEEP_UNCHANGED',
    ...o,
  });
  const admit = (path: string, c: PathNormalization, headers: [string, string][] = []) => {
    const req = { path, headers };
    const refused = admitPath(req, c);
    return refused ? { status: refused.status, headers: refused.headers } : req.path;
  };
  const decodeAndMerge = cfg({ normalize: true, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_FORWARD' });

  it.each([
    // Istio DECODE_AND_MERGE_SLASHES
    ['/', '/'],
    ['/app/', '/app/'],
    ['/app/../admin', '/admin'],
    ['/app//', '/app/'],
    ['/app/%2f', '/app/'],
    ['/app%2f/', '/app/'],
    ['/xyz%30..//abc', '/xyz0../abc'],
    ['/app/%2E./admin', '/admin'],
    ['/app\\admin', '/app/admin'],
    ['/app/\\/\\/\\admin', '/app/admin'],
    ['/%2Fapp%5cadmin%5Cabc', '/app/admin/abc'],
    ['/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/app/admin/abc'],
    ['/app//../admin', '/app/admin'],
    ['/app//../../admin', '/admin'],
    ['/%c0%2e%c0%2e/admin', '/%c0.%c0./admin'],
    ['/%c0%2fadmin', '/%c0/admin'],
  ])('decodes, normalizes and merges %j into %j', (input, out) => {
    expect(admit(input, decodeAndMerge)).toBe(out);
  });

  it('leaves the path alone by default, and refuses a fragment whatever the settings', () => {
    expect(admit('/a/../b//c%2f', cfg({}))).toBe('/a/../b//c%2f');
    expect(admit('/a#frag', cfg({}))).toEqual({ status: 400, headers: [] });
  });

  it('merges slashes after normalizing (MERGE_SLASHES keeps escaped slashes)', () => {
    const merge = cfg({ normalize: true, mergeSlashes: true });
    expect(admit('/app//../admin', merge)).toBe('/app/admin');
    expect(admit('/app/%2f', merge)).toBe('/app/%2f');
  });

  it('REJECT_REQUEST refuses escaped slashes; UNESCAPE_AND_REDIRECT sends the client to the decoded path', () => {
    expect(admit('/a%2Fb', cfg({ escapedSlashes: 'REJECT_REQUEST' }))).toEqual({ status: 400, headers: [] });
    expect(admit('/a/b', cfg({ escapedSlashes: 'REJECT_REQUEST' }))).toBe('/a/b');
    const redirect = cfg({ normalize: true, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_REDIRECT' });
    expect(admit('/refund/..%2fadmin?x=1', redirect)).toEqual({
      status: 307,
      headers: [['location', '/admin?x=1']],
    });
    // without escaped slashes, normalization alone never redirects
    expect(admit('/refund/../admin', redirect)).toBe('/admin');
    // gRPC clients do not follow redirects: refused instead
    expect(admit('/a%2Fb', redirect, [['content-type', 'application/grpc']])).toEqual({
      status: 400,
      headers: [],
    });
  });

  it('refuses a path normalize_path cannot normalize', () => {
    expect(admit('/a/%00', cfg({ normalize: true }))).toEqual({ status: 400, headers: [] });
  });
});

describe('the HTTP connection manager normalizes before RBAC and routing', () => {
  const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
  /** RBAC: POST to /refund… only. */
  const refundsOnly = {
    name: 'envoy.filters.http.rbac',
    typed_config: {
      '@type': RBAC,
      rules: {
        action: 'ALLOW',
        policies: {
          refunds: {
            permissions: [
              {
                and_rules: {
                  rules: [
                    { header: { name: ':method', string_match: { exact: 'POST' } } },
                    { url_path: { path: { prefix: '/refund' } } },
                  ],
                },
              },
            ],
            principals: [{ any: true }],
          },
        },
      },
    },
  };
  let app: TestBackend;
  const proxies: Proxy[] = [];
  beforeAll(async () => {
    app = await startBackend('payments', 'v1');
  });
  afterAll(async () => {
    await app.close();
  });
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.stop()));
    app.reset();
  });

  async function start(hcm: Obj): Promise<number> {
    const p = await startProxy(
      httpBootstrap(
        0,
        [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }],
        [cluster('app', [app.port])],
        { filters: [refundsOnly], hcm },
      ),
    );
    proxies.push(p);
    return boundPorts(p)[0]!;
  }
  const post = async (port: number, path: string) => {
    const out = await raw(
      port,
      `POST ${path} HTTP/1.1\r\nhost: pay\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
    );
    return { status: Number(out.slice(9, 12)), location: /^location: (.*)\r$/m.exec(out)?.[1] };
  };

  it('lets POST /refund/… through, with the normalized path, and no x-envoy-original-path', async () => {
    const port = await start({ normalize_path: true, merge_slashes: true });
    expect((await post(port, '/refund/a/./b//c')).status).toBe(200);
    expect(app.seen.map((s) => s.path)).toEqual(['/refund/a/b/c']);
    expect(app.seen[0]!.headers['x-envoy-original-path']).toBeUndefined();
  });

  it.each([
    '/refund/../admin',
    '/refund/%2e%2e/admin',
    '/refund//../../admin',
    '/REFUND/../admin',
    '/refund/..\\admin',
  ])('denies %s: RBAC sees /admin', async (path) => {
    const port = await start({ normalize_path: true, merge_slashes: true });
    expect((await post(port, path)).status).toBe(403);
    expect(app.seen).toEqual([]);
  });

  it('redirects /refund/..%2fadmin to /admin (UNESCAPE_AND_REDIRECT), which RBAC then denies', async () => {
    const port = await start({
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
    });
    const r = await post(port, '/refund/..%2fadmin');
    expect(r).toEqual({ status: 307, location: '/admin' });
    expect((await post(port, r.location!)).status).toBe(403);
    expect(app.seen).toEqual([]);
  });

  it('forwards the decoded path with UNESCAPE_AND_FORWARD and refuses it with REJECT_REQUEST', async () => {
    const forward = await start({
      normalize_path: true,
      path_with_escaped_slashes_action: 'UNESCAPE_AND_FORWARD',
    });
    expect((await post(forward, '/refund/..%2Fadmin')).status).toBe(403);
    expect((await post(forward, '/refund%2Fx')).status).toBe(200);
    expect(app.seen.map((s) => s.path)).toEqual(['/refund/x']);
    const reject = await start({ path_with_escaped_slashes_action: 'REJECT_REQUEST' });
    expect((await post(reject, '/refund/..%2fadmin')).status).toBe(400);
    expect(app.seen.length).toBe(1);
  });

  it('answers 400 to a path it cannot normalize, and counts it', async () => {
    const port = await start({ normalize_path: true });
    expect((await post(port, '/refund/%00')).status).toBe(400);
    expect(proxies[0]!.stats.get('http.ingress.downstream_rq_failed_path_normalization')).toBe(1);
    expect(app.seen).toEqual([]);
  });

  it('without normalize_path, passes the path as sent (as Envoy does)', async () => {
    const port = await start({});
    expect((await post(port, '/refund/../admin')).status).toBe(200);
    expect(app.seen.map((s) => s.path)).toEqual(['/refund/../admin']);
  });

  it('accepts the three fields in a bootstrap and refuses an unknown action by name', () => {
    const boot = (hcm: Obj) =>
      convertBootstrap(httpBootstrap(0, [{ name: 'v', domains: ['*'], routes: [] }], [], { hcm }));
    const ok = boot({
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'REJECT_REQUEST',
    });
    expect(ok.errors).toEqual([]);
    const hcm = ok.config!.listeners[0]!.chains[0]!.network;
    expect(hcm.kind === 'http' && hcm.hcm.path).toEqual({
      normalize: true,
      mergeSlashes: true,
      escapedSlashes: 'REJECT_REQUEST',
    });
    expect(boot({ path_with_escaped_slashes_action: 'UNESCAPE_EVERYTHING' }).errors.length).toBeGreaterThan(
      0,
    );
  });
});
