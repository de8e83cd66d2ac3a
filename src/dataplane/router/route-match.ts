import type { HeaderMatch } from '../config/common.js';
import type { RouteConfig, RouteTable, VirtualHostConfig } from '../config/route.js';

/** What the router needs of a request: plain data, so tests can drive it without sockets. */
export interface RouteRequest {
  method: string;
  /** :path, with its query string. */
  path: string;
  authority: string;
  /** A header by lower-case name; several values joined by ','. */
  header(name: string): string | undefined;
}

/** Envoy's virtual host choice: exact domain, then `*.suffix` (longest), then `prefix*` (longest), then `*`. */
export function selectVirtualHost(table: RouteTable, authority: string): VirtualHostConfig | undefined {
  const host = authority.toLowerCase();
  let best: VirtualHostConfig | undefined;
  let bestRank = -1;
  let bestLen = -1;
  for (const vh of table.vhosts) {
    for (const d of vh.domains) {
      let rank = -1;
      if (d === host) return vh;
      if (d === '*') rank = 0;
      else if (d.startsWith('*') && host.length > d.length - 1 && host.endsWith(d.slice(1))) rank = 2;
      else if (d.endsWith('*') && host.length > d.length - 1 && host.startsWith(d.slice(0, -1))) rank = 1;
      if (rank > bestRank || (rank === bestRank && rank > 0 && d.length > bestLen)) {
        best = vh;
        bestRank = rank;
        bestLen = d.length;
      }
    }
  }
  return bestRank >= 0 ? best : undefined;
}

function pseudo(req: RouteRequest, name: string): string | undefined {
  switch (name) {
    case ':method':
      return req.method;
    case ':path':
      return req.path;
    case ':authority':
    case 'host':
      return req.authority;
    default:
      return req.header(name);
  }
}

export function headerMatches(h: HeaderMatch, req: RouteRequest): boolean {
  const v = pseudo(req, h.name);
  let ok: boolean;
  if (h.test) ok = v !== undefined && h.test(v);
  else ok = (v !== undefined) === (h.present ?? true);
  return h.invert ? !ok : ok;
}

function queryOf(path: string): URLSearchParams | undefined {
  const q = path.indexOf('?');
  return q < 0 ? undefined : new URLSearchParams(path.slice(q + 1));
}

function routeMatches(r: RouteConfig, req: RouteRequest): boolean {
  const m = r.match;
  const path = req.path;
  if (m.kind === 'prefix') {
    if (!(m.caseSensitive ? path.startsWith(m.value) : path.toLowerCase().startsWith(m.value))) return false;
  } else {
    const q = path.indexOf('?');
    const bare = q < 0 ? path : path.slice(0, q);
    if (m.kind === 'path') {
      if ((m.caseSensitive ? bare : bare.toLowerCase()) !== m.value) return false;
    } else if (!m.regex!.test(bare)) return false;
  }
  for (const h of m.headers) if (!headerMatches(h, req)) return false;
  if (m.query.length) {
    const qs = queryOf(path);
    for (const q of m.query) {
      const v = qs?.get(q.name) ?? undefined;
      if (v === undefined || v === null) return false;
      if (q.test && !q.test(v)) return false;
    }
  }
  return true;
}

export interface RouteMatch {
  vhost: VirtualHostConfig;
  route: RouteConfig;
}

/** The first matching route of the chosen virtual host, or undefined (Envoy answers 404). */
export function matchRoute(table: RouteTable, req: RouteRequest): RouteMatch | undefined {
  const vhost = selectVirtualHost(table, req.authority);
  if (!vhost) return undefined;
  for (const route of vhost.routes) if (routeMatches(route, req)) return { vhost, route };
  return undefined;
}

/** Picks a cluster of a weighted list; `rand` in [0,1). */
export function pickWeighted(
  clusters: { name: string; weight: number }[],
  total: number,
  rand: number,
): string {
  if (clusters.length === 1) return clusters[0]!.name;
  let x = rand * total;
  for (const c of clusters) {
    if (x < c.weight) return c.name;
    x -= c.weight;
  }
  return clusters[clusters.length - 1]!.name;
}

/** The upstream path after prefix_rewrite / regex_rewrite (regex rewrites the path without its query). */
export function rewritePath(route: RouteConfig, path: string): string {
  const a = route.action;
  if (a.kind !== 'route') return path;
  if (a.prefixRewrite !== undefined && route.match.kind === 'prefix')
    return a.prefixRewrite + path.slice(route.match.value.length);
  if (a.regexRewrite) {
    const q = path.indexOf('?');
    const bare = q < 0 ? path : path.slice(0, q);
    return a.regexRewrite(bare) + (q < 0 ? '' : path.slice(q));
  }
  return path;
}

/** The Location of a redirect route. */
export function redirectLocation(route: RouteConfig, req: RouteRequest, scheme: string): string {
  const a = route.action;
  if (a.kind !== 'redirect') return '';
  const [h, p] = splitHostPort(req.authority);
  const sch = a.scheme ?? scheme;
  let host = a.host ?? h;
  let port = a.port !== undefined ? String(a.port) : a.host ? '' : p;
  if (a.scheme && !a.port) port = '';
  if (port && !((sch === 'http' && port === '80') || (sch === 'https' && port === '443'))) host += `:${port}`;
  let path = req.path;
  if (a.path !== undefined) path = a.path;
  else if (a.prefixRewrite !== undefined && route.match.kind === 'prefix')
    path = a.prefixRewrite + path.slice(route.match.value.length);
  if (a.stripQuery) {
    const q = path.indexOf('?');
    if (q >= 0) path = path.slice(0, q);
  }
  return `${sch}://${host}${path}`;
}

function splitHostPort(a: string): [string, string] {
  const i = a.lastIndexOf(':');
  if (i > 0 && !a.endsWith(']') && /^\d+$/.test(a.slice(i + 1))) return [a.slice(0, i), a.slice(i + 1)];
  return [a, ''];
}
