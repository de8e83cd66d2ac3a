import { describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import type { RouteTable } from '../../../src/dataplane/config/route.js';
import {
  matchRoute,
  pickWeighted,
  redirectLocation,
  rewritePath,
  selectVirtualHost,
  type RouteRequest,
} from '../../../src/dataplane/router/route-match.js';
import { cluster, httpBootstrap, type Obj } from '../helpers.js';

function table(vhosts: Obj[]): RouteTable {
  const r = convertBootstrap(httpBootstrap(1, vhosts, [cluster('a', [1]), cluster('b', [2])]));
  if (!r.config) throw new Error(JSON.stringify(r.errors));
  const chain = r.config.listeners[0]!.chains[0]!.network;
  if (chain.kind !== 'http') throw new Error('not http');
  return chain.hcm.routes;
}

function rq(
  path: string,
  headers: Record<string, string> = {},
  authority = 'example.com',
  method = 'GET',
): RouteRequest {
  return { method, path, authority, header: (n) => headers[n] };
}
const r = (match: Obj, clusterName = 'a', name = '') => ({ name, match, route: { cluster: clusterName } });

describe('virtual host selection', () => {
  const t = table([
    { name: 'exact', domains: ['api.example.com', 'api.example.com:8080'], routes: [r({ prefix: '/' })] },
    { name: 'suffix', domains: ['*.example.com'], routes: [r({ prefix: '/' })] },
    { name: 'longsuffix', domains: ['*.b.example.com'], routes: [r({ prefix: '/' })] },
    { name: 'prefix', domains: ['foo.*'], routes: [r({ prefix: '/' })] },
    { name: 'any', domains: ['*'], routes: [r({ prefix: '/' })] },
  ]);
  it.each([
    ['api.example.com', 'exact'],
    ['API.example.com', 'exact'],
    ['api.example.com:8080', 'exact'],
    ['x.example.com', 'suffix'],
    ['a.b.example.com', 'longsuffix'],
    ['foo.org', 'prefix'],
    ['other.org', 'any'],
    ['api.example.com:9090', 'any'],
  ])('%s goes to %s', (host, name) => {
    expect(selectVirtualHost(t, host)?.name).toBe(name);
  });
  it('no virtual host: undefined (404)', () => {
    expect(
      selectVirtualHost(table([{ name: 'only', domains: ['a.com'], routes: [] }]), 'b.com'),
    ).toBeUndefined();
  });
});

describe('route matching', () => {
  const t = table([
    {
      name: 'v',
      domains: ['*'],
      routes: [
        r({ path: '/exact' }, 'a', 'path'),
        r({ prefix: '/CI', case_sensitive: false }, 'a', 'ci'),
        r({ safe_regex: { regex: '/re/[0-9]+' } }, 'a', 'regex'),
        r({ prefix: '/h', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] }, 'b', 'header'),
        r(
          { prefix: '/h', headers: [{ name: 'x-user', present_match: true, invert_match: true }] },
          'a',
          'inverted',
        ),
        r({ prefix: '/m', headers: [{ name: ':method', exact_match: 'POST' }] }, 'a', 'method'),
        r({ prefix: '/q', query_parameters: [{ name: 'v', string_match: { prefix: '2' } }] }, 'b', 'query'),
        r({ prefix: '/k', headers: [{ name: 'x-id', safe_regex_match: { regex: '[a-f]+' } }] }, 'b', 'hre'),
      ],
    },
  ]);
  const name = (req: RouteRequest) => matchRoute(t, req)?.route.name;
  it('path matches the path without query, exactly', () => {
    expect(name(rq('/exact?x=1'))).toBe('path');
    expect(name(rq('/exact/more'))).toBeUndefined();
  });
  it('prefix can be case-insensitive', () => expect(name(rq('/ci/x'))).toBe('ci'));
  it('safe_regex is anchored (full match)', () => {
    expect(name(rq('/re/123'))).toBe('regex');
    expect(name(rq('/re/123x'))).toBeUndefined();
  });
  it('header matchers, invert_match and pseudo headers', () => {
    expect(name(rq('/h', { 'x-canary': 'yes' }))).toBe('header');
    expect(name(rq('/h', { 'x-canary': 'no' }))).toBe('inverted');
    expect(name(rq('/h', { 'x-user': 'u' }))).toBeUndefined();
    expect(name(rq('/m', {}, 'h', 'POST'))).toBe('method');
    expect(name(rq('/m'))).toBeUndefined();
    expect(name(rq('/k', { 'x-id': 'abc' }))).toBe('hre');
    expect(name(rq('/k', { 'x-id': 'abcz' }))).toBeUndefined();
  });
  it('query parameters', () => {
    expect(name(rq('/q?v=2.1'))).toBe('query');
    expect(name(rq('/q?v=1'))).toBeUndefined();
  });
});

describe('actions', () => {
  it('weighted picks follow the weights', () => {
    const cs = [
      { name: 'a', weight: 90 },
      { name: 'b', weight: 10 },
    ];
    expect(pickWeighted(cs, 100, 0.899)).toBe('a');
    expect(pickWeighted(cs, 100, 0.9)).toBe('b');
  });
  it('prefix_rewrite and regex_rewrite', () => {
    const t = table([
      {
        name: 'v',
        domains: ['*'],
        routes: [
          { match: { prefix: '/api/' }, route: { cluster: 'a', prefix_rewrite: '/' } },
          {
            match: { prefix: '/r' },
            route: {
              cluster: 'a',
              regex_rewrite: { pattern: { regex: '^/r/(\\w+)/x$' }, substitution: '/y/\\1' },
            },
          },
        ],
      },
    ]);
    expect(rewritePath(matchRoute(t, rq('/api/v1?q'))!.route, '/api/v1?q')).toBe('/v1?q');
    expect(rewritePath(matchRoute(t, rq('/r/abc/x'))!.route, '/r/abc/x?k=1')).toBe('/y/abc?k=1');
  });
  it('redirect builds the Location', () => {
    const t = table([
      {
        name: 'v',
        domains: ['*'],
        routes: [{ match: { prefix: '/old' }, redirect: { prefix_rewrite: '/new', https_redirect: true } }],
      },
    ]);
    const m = matchRoute(t, rq('/old/x?y', {}, 'h.com:8080'))!;
    expect(redirectLocation(m.route, rq('/old/x?y', {}, 'h.com:8080'), 'http')).toBe('https://h.com/new/x?y');
  });
});
