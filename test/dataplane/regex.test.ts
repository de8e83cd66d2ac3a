import { describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../src/dataplane/config/bootstrap.js';
import { matchRoute, rewritePath, type RouteRequest } from '../../src/dataplane/router/route-match.js';
import { cluster, httpBootstrap, type Obj } from './helpers.js';

/** Envoy compiles every safe_regex of a bootstrap with RE2: its syntax, its refusals, its linear time. */

const ROUTES =
  '/static_resources/listeners/0/filter_chains/0/filters/0/typed_config/route_config/virtual_hosts/0/routes';

function convert(routes: Obj[]) {
  return convertBootstrap(httpBootstrap(0, [{ name: 'v', domains: ['*'], routes }], [cluster('a', [8080])]));
}

function table(routes: Obj[]) {
  const r = convert(routes);
  if (!r.config) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  const net = r.config.listeners[0]!.chains[0]!.network;
  if (net.kind !== 'http') throw new Error('not an HTTP listener');
  return net.hcm.routes;
}

const rq = (path: string, headers: Record<string, string> = {}): RouteRequest => ({
  method: 'GET',
  path,
  authority: 'x',
  header: (n) => headers[n],
});

const to = (match: Obj, name = 'r') => ({ name, match, route: { cluster: 'a' } });

describe('safe_regex is RE2', () => {
  it('takes RE2 syntax JavaScript does not have: named groups (?P<…>), \\pL classes, \\Q…\\E quoting', () => {
    const t = table([
      to({ safe_regex: { regex: '/(?P<id>[0-9]+)' } }, 'named'),
      to({ safe_regex: { regex: '/\\pL+' } }, 'letters'),
      to({ safe_regex: { regex: '/\\Q*.*\\E' } }, 'quoted'),
    ]);
    expect(matchRoute(t, rq('/123'))?.route.name).toBe('named');
    expect(matchRoute(t, rq('/été'))?.route.name).toBe('letters');
    expect(matchRoute(t, rq('/*.*'))?.route.name).toBe('quoted');
    expect(matchRoute(t, rq('/*x*'))).toBeUndefined();
  });

  it('refuses at load, with the path, what RE2 refuses: a backreference, lookahead, lookbehind', () => {
    const r = convert([
      to({ safe_regex: { regex: '/(a)\\1' } }),
      to({ prefix: '/', headers: [{ name: 'x', safe_regex_match: { regex: '(?=a)a' } }] }),
      to({ prefix: '/', headers: [{ name: 'x', string_match: { safe_regex: { regex: '(?<!b)a' } } }] }),
    ]);
    expect(r.config).toBeUndefined();
    expect(r.errors).toEqual([
      {
        path: `${ROUTES}/0/match/safe_regex/regex`,
        message: expect.stringMatching(
          /^invalid RE2 regex: .*\\1.*has no lookahead, lookbehind or backreferences/,
        ),
      },
      {
        path: `${ROUTES}/1/match/headers/0/safe_regex_match/regex`,
        message: expect.stringMatching(/^invalid RE2 regex: .*\(\?=.*has no lookahead/),
      },
      {
        path: `${ROUTES}/2/match/headers/0/string_match/safe_regex/regex`,
        message: expect.stringContaining('has no lookahead, lookbehind or backreferences'),
      },
    ]);
  });

  it('ignores case_sensitive, as Envoy does for safe_regex', () => {
    const t = table([to({ safe_regex: { regex: '/abc' }, case_sensitive: false })]);
    expect(matchRoute(t, rq('/abc'))).toBeDefined();
    expect(matchRoute(t, rq('/ABC'))).toBeUndefined();
  });

  it('matches in linear time: a pattern that backtracks exponentially in JavaScript returns at once', () => {
    const t = table([to({ safe_regex: { regex: '/(a+)+$' } })]);
    const started = Date.now();
    // JavaScript's RegExp takes 2^27 steps (seconds) to fail this one; RE2 a pass over 29 characters
    expect(matchRoute(t, rq(`/${'a'.repeat(27)}b`))).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('regex_rewrite is RE2::GlobalReplace', () => {
  const rewrite = (pattern: string, substitution: string, path: string) => {
    const t = table([
      {
        match: { prefix: '/' },
        route: { cluster: 'a', regex_rewrite: { pattern: { regex: pattern }, substitution } },
      },
    ]);
    return rewritePath(matchRoute(t, rq(path))!.route, path);
  };

  it('replaces every match, \\1 naming a group, \\\\ a backslash, and a $ is literal text', () => {
    expect(rewrite('^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api?q=1')).toBe(
      '/v1/api/instance/foo?q=1',
    );
    expect(rewrite('o', '0', '/foo/boo')).toBe('/f00/b00');
    expect(rewrite('/a', '/$1\\\\', '/a')).toBe('/$1\\');
  });

  it('refuses a substitution naming a group the pattern lacks, or an unknown escape', () => {
    const r = convert([
      {
        match: { prefix: '/' },
        route: { cluster: 'a', regex_rewrite: { pattern: { regex: '/(a)' }, substitution: '\\2' } },
      },
      {
        match: { prefix: '/' },
        route: { cluster: 'a', regex_rewrite: { pattern: { regex: '/a' }, substitution: '\\n' } },
      },
    ]);
    expect(r.errors).toEqual([
      {
        path: `${ROUTES}/0/route/regex_rewrite`,
        message: 'invalid regex_rewrite: substitution uses \\2 but the pattern has 1 capture group',
      },
      {
        path: `${ROUTES}/1/route/regex_rewrite`,
        message:
          'invalid regex_rewrite: invalid rewrite: a backslash must be followed by a digit or a backslash, not "n"',
      },
    ]);
  });
});
