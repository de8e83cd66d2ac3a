import type { PathMatch, ResolvedMatch, ResolvedRoute, StringMatch } from '../../model/types.js';

/**
 * Route precedence. Mesh routes are first match; HTTPRoute rules are chosen by specificity across
 * every HTTPRoute of one parent, whatever their order. Two orders are modelled:
 *
 * - `linkerd`: what linkerd2-proxy does for routes whose parent is a Service (linkerd/http/route
 *   `RequestMatch::cmp`): the longest path match wins (exact and prefix compare by length, a regex
 *   by the length of the whole path it matched), then the most header matches, then the most query
 *   matches, then a method match. The first maximal rule wins a tie, rules ordered by route creation
 *   time, then route name, then rule order.
 * - `gateway`: the Gateway API order that a Gateway's implementation follows: the most specific
 *   matching hostname (exact, then wildcard, then none), exact path, then the
 *   longest prefix, then method, then most headers, then most query params; regex precedence is
 *   implementation-specific.
 *
 * A later route changes behaviour when some request that an earlier route accepts is also accepted
 * by the later one with a higher (or, across HTTPRoute objects, an equal) rank: the request would
 * go to the later route. Those pairs are reported, unless the two routes render identically.
 */
export type Precedence = 'linkerd' | 'gateway';

export interface RankedRoute {
  readonly route: ResolvedRoute;
  /** Which HTTPRoute object holds its rule: ties between objects depend on creation time. */
  readonly object: string;
  /** Equal keys: the two rules behave the same, so their order does not matter. */
  readonly behaviour: string;
  /** Frontend routes: the hosts they serve (`*` or a `*.` wildcard may meet any). */
  readonly hosts?: readonly string[];
}

export interface OrderConflict {
  readonly earlier: ResolvedRoute;
  readonly later: ResolvedRoute;
  /** Why: `more specific` or `equal rank in another HTTPRoute`. */
  readonly reason: string;
}

/** A rank; `undefined` components are unknown and compare as "may be higher". */
type Rank = readonly (number | undefined)[];

const ALL: ResolvedMatch = { headers: [], queryParams: [], pointer: '' };

function pathLength(p: PathMatch | undefined): number {
  if (!p) return 1;
  if (p.kind === 'exact') return p.value.length;
  return p.value === '/' ? 1 : p.value.replace(/\/+$/, '').length;
}

/**
 * Linkerd's path component, later route `b` against earlier route `a`, in the case worst for
 * `a`: a regex scores the length of the whole request path, which equals an exact match's length
 * and is at least a prefix's.
 */
function comparePathLinkerd(b: PathMatch | undefined, a: PathMatch | undefined): number {
  const br = b?.kind === 'regex';
  const ar = a?.kind === 'regex';
  if (br && ar) return 0;
  if (br) return a?.kind === 'exact' ? 0 : 1;
  if (ar) return 0;
  return Math.sign(pathLength(b) - pathLength(a));
}

function rest(m: ResolvedMatch, precedence: Precedence): Rank {
  const method = m.method ? 1 : 0;
  if (precedence === 'linkerd') return [m.headers.length, m.queryParams.length, method];
  if (m.path?.kind === 'regex') return [undefined];
  return [
    m.path?.kind === 'exact' ? 2 : 1,
    pathLength(m.path),
    method,
    m.headers.length,
    m.queryParams.length,
  ];
}

/** How later entry `b` ranks against earlier entry `a`: -1, 0, 1, or undefined when unknown. */
export function compareEntries(
  b: ResolvedMatch,
  a: ResolvedMatch,
  precedence: Precedence,
): number | undefined {
  if (precedence === 'linkerd') {
    const p = comparePathLinkerd(b.path, a.path);
    if (p !== 0) return p;
  }
  const x = rest(b, precedence);
  const y = rest(a, precedence);
  for (let i = 0; i < x.length; i++) {
    const u = x[i];
    const v = y[i];
    if (u === undefined || v === undefined) return undefined;
    if (u !== v) return u < v ? -1 : 1;
  }
  return 0;
}

/** Segment-wise prefix as Linkerd and the Gateway API read PathPrefix. */
function prefixAccepts(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  const p = prefix.replace(/\/+$/, '');
  const rest = path.replace(/\/+$/, '');
  if (!rest.startsWith(p)) return false;
  const suffix = rest.slice(p.length);
  return suffix === '' || suffix.startsWith('/');
}

function regexAccepts(re: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${re})$`).test(value);
  } catch {
    return true;
  }
}

function pathsOverlap(a: PathMatch | undefined, b: PathMatch | undefined): boolean {
  if (!a || !b) return true;
  if (a.kind === 'exact' && b.kind === 'exact') return a.value === b.value;
  if (a.kind === 'exact' && b.kind === 'prefix') return prefixAccepts(b.value, a.value);
  if (a.kind === 'prefix' && b.kind === 'exact') return prefixAccepts(a.value, b.value);
  if (a.kind === 'prefix' && b.kind === 'prefix')
    return prefixAccepts(a.value, b.value) || prefixAccepts(b.value, a.value);
  if (a.kind === 'regex' && b.kind === 'exact') return regexAccepts(a.value, b.value);
  if (a.kind === 'exact' && b.kind === 'regex') return regexAccepts(b.value, a.value);
  return true;
}

function valuesOverlap(a: StringMatch, b: StringMatch): boolean {
  if (a.kind === 'present' || b.kind === 'present') return true;
  if (a.kind === 'exact' && b.kind === 'exact') return a.value === b.value;
  if (a.kind === 'exact' && b.kind === 'prefix') return a.value.startsWith(b.value);
  if (a.kind === 'prefix' && b.kind === 'exact') return b.value.startsWith(a.value);
  if (a.kind === 'prefix' && b.kind === 'prefix')
    return a.value.startsWith(b.value) || b.value.startsWith(a.value);
  if (a.kind === 'exact' && b.kind === 'regex') return regexAccepts(b.value, a.value);
  if (a.kind === 'regex' && b.kind === 'exact') return regexAccepts(a.value, b.value);
  return true;
}

function fieldsOverlap(
  a: readonly { name: string; match: StringMatch }[],
  b: readonly { name: string; match: StringMatch }[],
): boolean {
  if (!a.length || !b.length) return true;
  const byName = new Map<string, StringMatch[]>();
  for (const f of a) byName.set(f.name, [...(byName.get(f.name) ?? []), f.match]);
  for (const f of b) for (const m of byName.get(f.name) ?? []) if (!valuesOverlap(m, f.match)) return false;
  return true;
}

function hostsOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b) return true;
  if (a.some((h) => h.startsWith('*')) || b.some((h) => h.startsWith('*'))) return true;
  const set = new Set(a);
  return b.some((h) => set.has(h));
}

function hostRank(hosts: readonly string[] | undefined): number {
  if (!hosts?.length) return 0;
  return hosts.some((h) => !h.startsWith('*')) ? 2 : 1;
}

/** Whether one request can satisfy both match entries. */
export function matchesOverlap(a: ResolvedMatch, b: ResolvedMatch): boolean {
  if (a.method && b.method && a.method !== b.method) return false;
  return (
    pathsOverlap(a.path, b.path) &&
    fieldsOverlap(a.headers, b.headers) &&
    fieldsOverlap(a.queryParams, b.queryParams)
  );
}

/**
 * The pairs of routes (earlier, later) of one parent whose first-match behaviour the target's
 * precedence changes. Pairwise within a parent: O(k²) in the routes of that parent, linear in the
 * number of parents.
 */
export function findOrderConflicts(routes: readonly RankedRoute[], precedence: Precedence): OrderConflict[] {
  const out: OrderConflict[] = [];
  const entries = routes.map((r) => (r.route.matches.length ? r.route.matches : [ALL]));
  for (let j = 1; j < routes.length; j++) {
    for (let i = 0; i < j; i++) {
      if (routes[i]!.behaviour === routes[j]!.behaviour) continue;
      if (!hostsOverlap(routes[i]!.hosts, routes[j]!.hosts)) continue;
      const sameObject = routes[i]!.object === routes[j]!.object;
      // The Gateway API ranks the matching hostname before the path: exact, then wildcard, then none.
      const hostOrder =
        precedence === 'gateway' ? Math.sign(hostRank(routes[j]!.hosts) - hostRank(routes[i]!.hosts)) : 0;
      if (hostOrder < 0) continue;
      let reason: string | undefined;
      for (const a of entries[i]!) {
        for (const b of entries[j]!) {
          if (!matchesOverlap(a, b)) continue;
          const c = hostOrder > 0 ? 1 : compareEntries(b, a, precedence);
          if (c === undefined)
            reason = 'the Gateway API leaves the precedence of regular expressions to the implementation';
          else if (c > 0)
            reason =
              hostOrder > 0
                ? 'the later route names a more specific host'
                : 'the later route is more specific';
          else if (c === 0 && !sameObject)
            reason = 'their rank is equal and they sit in different HTTPRoutes (order by creation time)';
          if (reason) break;
        }
        if (reason) break;
      }
      if (reason) out.push({ earlier: routes[i]!.route, later: routes[j]!.route, reason });
    }
  }
  return out;
}
