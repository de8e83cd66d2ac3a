import {
  durationMs,
  fraction,
  headerMatcher,
  opsPair,
  stringMatcher,
  type HeaderMatch,
  type HeaderOps,
  type Obj,
  type StrMatch,
} from './common.js';
import { regexRewrite, safeRegex, type Regex } from '../regex.js';
import type { PathError } from './supported.js';

export interface RouteTable {
  name: string;
  vhosts: VirtualHostConfig[];
  request: HeaderOps;
  response: HeaderOps;
}

export interface VirtualHostConfig {
  name: string;
  domains: string[];
  routes: RouteConfig[];
  request: HeaderOps;
  response: HeaderOps;
  retry?: RetryConfig;
}

export interface RouteConfig {
  name: string;
  match: {
    kind: 'prefix' | 'path' | 'regex';
    value: string;
    regex?: Regex;
    caseSensitive: boolean;
    headers: HeaderMatch[];
    query: { name: string; test?: StrMatch }[];
  };
  action: RouteActionConfig;
  request: HeaderOps;
  response: HeaderOps;
  /**
   * The HTTP filters' own configuration of this route, by the filter's @type, as each filter reads
   * it from typed_per_filter_config (filters/registry.ts); absent for filters it does not configure.
   */
  perFilter: ReadonlyMap<string, unknown>;
}

/**
 * How an HTTP filter reads its per-route configuration (typed_per_filter_config, and any field of
 * its own): filters/registry.ts gives one per filter that has one.
 */
export interface PerRouteReader<V = unknown> {
  /** The filter's @type (the key in RouteConfig.perFilter). */
  readonly filter: string;
  /** The @type of its entries in typed_per_filter_config. */
  readonly type: string;
  /** How messages name it ("CORS (CorsPolicy)"). */
  readonly label: string;
  /** Read once per virtual host (entries there are refused without it). */
  virtualHost?(vh: Obj, p: string, errors: PathError[]): V;
  /** The filter's configuration of one route, given what virtualHost read. */
  route(r: Obj, p: string, vhost: V | undefined, action: RouteActionConfig, errors: PathError[]): unknown;
}

/** What a route does: forward to clusters, answer directly, or redirect. */
type RouteActionConfig =
  | {
      kind: 'route';
      clusters: { name: string; weight: number }[];
      totalWeight: number;
      prefixRewrite?: string;
      /** regex_rewrite: the path (without its query) rewritten. */
      regexRewrite?: (path: string) => string;
      hostRewrite?: string;
      timeoutMs: number;
      retry?: RetryConfig;
      mirrors: { cluster: string; fraction: number }[];
      hash: { kind: 'header' | 'cookie' | 'source_ip'; name: string; terminal: boolean }[];
      /** RouteAction.upgrade_configs: upgrade type (lower case) to enabled. */
      upgrades?: Map<string, boolean>;
    }
  | { kind: 'direct'; status: number; body?: string }
  | {
      kind: 'redirect';
      status: number;
      host?: string;
      port?: number;
      path?: string;
      prefixRewrite?: string;
      scheme?: string;
      stripQuery: boolean;
    };

export interface RetryConfig {
  on: Set<string>;
  numRetries: number;
  perTryTimeoutMs: number;
  statusCodes: Set<number>;
  baseIntervalMs: number;
  maxIntervalMs: number;
  /** grpc-status values retried (retry_on cancelled, deadline-exceeded, …); undefined: none. */
  grpcStatuses?: Set<number>;
}

/** retry_on conditions on the grpc-status of a response's headers (Envoy's x-envoy-retry-grpc-on). */
const GRPC_RETRY_ON: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

function retryConfig(r: Obj): RetryConfig {
  const on = new Set(
    String(r.retry_on ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const grpc = [...on].filter((x) => x in GRPC_RETRY_ON).map((x) => GRPC_RETRY_ON[x]!);
  return {
    on,
    grpcStatuses: grpc.length ? new Set(grpc) : undefined,
    numRetries: r.num_retries === undefined ? 1 : Number(r.num_retries),
    perTryTimeoutMs: durationMs(r.per_try_timeout, 0),
    statusCodes: new Set(((r.retriable_status_codes ?? []) as number[]).map(Number)),
    baseIntervalMs: durationMs(r.retry_back_off?.base_interval, 25),
    maxIntervalMs: durationMs(
      r.retry_back_off?.max_interval,
      durationMs(r.retry_back_off?.base_interval, 25) * 10,
    ),
  };
}

/** upgrade_configs (HCM or route): HTTP/1.1 Upgrade tokens to enabled; CONNECT and h2c are refused. */
export function upgradeConfigs(
  list: Obj[] | undefined,
  p: string,
  errors: PathError[],
): Map<string, boolean> | undefined {
  if (!list) return undefined;
  const out = new Map<string, boolean>();
  list.forEach((u, i) => {
    const t = String(u.upgrade_type ?? '').toLowerCase();
    if (t === 'connect' || t === 'h2c')
      errors.push({
        path: `${p}/${i}/upgrade_type`,
        message: `upgrade_type ${u.upgrade_type} is not implemented by meshgen proxy (HTTP/1.1 Upgrade such as websocket is)`,
      });
    out.set(t, u.enabled === undefined ? true : Boolean(u.enabled));
  });
  return out;
}

/** The route configuration; `readers` are the HTTP filters' per-route readers (filters/registry.ts). */
export function routeTable(
  rc: Obj,
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  readers: readonly PerRouteReader[],
): RouteTable {
  const vhosts = ((rc.virtual_hosts ?? []) as Obj[]).map((vh, i) =>
    virtualHost(vh, `${p}/virtual_hosts/${i}`, clusterNames, errors, readers),
  );
  const seen = new Map<string, number>();
  vhosts.forEach((vh, i) =>
    vh.domains.forEach((d) => {
      if (seen.has(d))
        errors.push({
          path: `${p}/virtual_hosts/${i}/domains`,
          message: `domain "${d}" is already in virtual host ${seen.get(d)}`,
        });
      seen.set(d, i);
    }),
  );
  return { name: String(rc.name ?? ''), vhosts, ...opsPair(rc, p, errors) };
}

function virtualHost(
  vh: Obj,
  vp: string,
  clusterNames: Set<string>,
  errors: PathError[],
  readers: readonly PerRouteReader[],
): VirtualHostConfig {
  const vhRetry = vh.retry_policy ? retryConfig(vh.retry_policy) : undefined;
  const vhReaders = readers.filter((r) => r.virtualHost);
  const vhState = readers.map((r) => r.virtualHost?.(vh, vp, errors));
  for (const [fname, fc] of Object.entries((vh.typed_per_filter_config ?? {}) as Record<string, Obj>))
    if (!vhReaders.some((r) => r.type === fc?.['@type']))
      errors.push({
        path: `${vp}/typed_per_filter_config/${fname}`,
        message: `meshgen proxy implements typed_per_filter_config on a virtual host only for ${labels(vhReaders)}`,
      });
  const routes = ((vh.routes ?? []) as Obj[]).map((r, j) =>
    route(r, `${vp}/routes/${j}`, clusterNames, errors, vhRetry, readers, vhState),
  );
  return {
    name: String(vh.name),
    domains: ((vh.domains ?? []) as string[]).map((d) => d.toLowerCase()),
    routes,
    retry: vhRetry,
    ...opsPair(vh, vp, errors),
  };
}

const labels = (rs: readonly PerRouteReader[]) => rs.map((r) => r.label).join(' and ');

function route(
  r: Obj,
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  vhRetry: RetryConfig | undefined,
  readers: readonly PerRouteReader[],
  vhState: unknown[],
): RouteConfig {
  const match = routeMatch((r.match ?? {}) as Obj, p, errors);
  let action: RouteActionConfig;
  if (r.route) action = routeAction(r.route as Obj, match, p, clusterNames, errors, vhRetry);
  else if (r.direct_response) action = directResponse(r.direct_response as Obj);
  else if (r.redirect) action = redirectAction(r.redirect as Obj);
  else {
    errors.push({ path: p, message: 'a route needs route, redirect or direct_response' });
    action = { kind: 'direct', status: 500 };
  }
  for (const [fname, fc] of Object.entries((r.typed_per_filter_config ?? {}) as Record<string, Obj>))
    if (!readers.some((x) => x.type === fc?.['@type']))
      errors.push({
        path: `${p}/typed_per_filter_config/${fname}`,
        message: `meshgen proxy implements typed_per_filter_config only for ${labels(readers)}`,
      });
  const perFilter = new Map<string, unknown>();
  readers.forEach((x, i) => {
    const c = x.route(r, p, vhState[i], action, errors);
    if (c !== undefined) perFilter.set(x.filter, c);
  });
  return { name: String(r.name ?? ''), match, action, ...opsPair(r, p, errors), perFilter };
}

function routeMatch(m: Obj, p: string, errors: PathError[]): RouteConfig['match'] {
  const caseSensitive = m.case_sensitive === undefined ? true : Boolean(m.case_sensitive);
  const headers = ((m.headers ?? []) as Obj[]).map((h, i) =>
    headerMatcher(h, `${p}/match/headers/${i}`, errors),
  );
  const query = ((m.query_parameters ?? []) as Obj[]).map((q, i) => ({
    name: String(q.name),
    test: q.string_match
      ? stringMatcher(q.string_match, `${p}/match/query_parameters/${i}/string_match`, errors)
      : undefined,
  }));
  const common = { caseSensitive, headers, query };
  if (m.prefix !== undefined)
    return { kind: 'prefix', value: caseSensitive ? m.prefix : m.prefix.toLowerCase(), ...common };
  if (m.path !== undefined)
    return { kind: 'path', value: caseSensitive ? m.path : m.path.toLowerCase(), ...common };
  if (m.safe_regex)
    return {
      kind: 'regex',
      value: String(m.safe_regex.regex),
      // as Envoy: case_sensitive is ignored for safe_regex
      regex: safeRegex(m.safe_regex.regex, `${p}/match/safe_regex/regex`, errors),
      ...common,
    };
  errors.push({ path: `${p}/match`, message: 'a route match needs prefix, path or safe_regex' });
  return { kind: 'prefix', value: '/', ...common };
}

/** cluster or weighted_clusters: the clusters and their total weight (checked). */
function routeClusters(ra: Obj, p: string, clusterNames: Set<string>, errors: PathError[]) {
  const clusters: { name: string; weight: number }[] = ra.cluster
    ? [{ name: String(ra.cluster), weight: 1 }]
    : ((ra.weighted_clusters?.clusters ?? []) as Obj[]).map((c) => ({
        name: String(c.name),
        weight: Number(c.weight ?? 0),
      }));
  const total = clusters.reduce((a, c) => a + c.weight, 0);
  if (ra.weighted_clusters?.total_weight !== undefined && Number(ra.weighted_clusters.total_weight) !== total)
    errors.push({
      path: `${p}/route/weighted_clusters/total_weight`,
      message: `total_weight ${ra.weighted_clusters.total_weight} differs from the sum of weights ${total}`,
    });
  if (!clusters.length)
    errors.push({ path: `${p}/route`, message: 'a route action needs cluster or weighted_clusters' });
  else if (total <= 0)
    errors.push({ path: `${p}/route/weighted_clusters`, message: 'weights must sum to more than 0' });
  for (const c of clusters)
    if (!clusterNames.has(c.name))
      errors.push({ path: `${p}/route`, message: `route: unknown cluster '${c.name}'` });
  return { clusters, total };
}

function routeAction(
  ra: Obj,
  match: RouteConfig['match'],
  p: string,
  clusterNames: Set<string>,
  errors: PathError[],
  vhRetry: RetryConfig | undefined,
): RouteActionConfig {
  const { clusters, total } = routeClusters(ra, p, clusterNames, errors);
  const mirrors = ((ra.request_mirror_policies ?? []) as Obj[]).map((mp, i) => {
    if (!clusterNames.has(mp.cluster))
      errors.push({
        path: `${p}/route/request_mirror_policies/${i}/cluster`,
        message: `unknown cluster '${mp.cluster}'`,
      });
    return {
      cluster: String(mp.cluster),
      fraction: mp.runtime_fraction ? fraction(mp.runtime_fraction.default_value, 0) : 1,
    };
  });
  if (ra.prefix_rewrite !== undefined && match.kind !== 'prefix')
    errors.push({ path: `${p}/route/prefix_rewrite`, message: 'prefix_rewrite needs a prefix match' });
  return {
    kind: 'route',
    clusters,
    totalWeight: total,
    prefixRewrite: ra.prefix_rewrite,
    regexRewrite: ra.regex_rewrite
      ? regexRewrite(ra.regex_rewrite, `${p}/route/regex_rewrite`, errors)
      : undefined,
    hostRewrite: ra.host_rewrite_literal,
    timeoutMs: durationMs(ra.timeout, 15_000),
    retry: ra.retry_policy ? retryConfig(ra.retry_policy) : vhRetry,
    mirrors,
    hash: ((ra.hash_policy ?? []) as Obj[]).map((h) => ({
      kind: h.header ? 'header' : h.cookie ? 'cookie' : 'source_ip',
      name: h.header ? String(h.header.header_name).toLowerCase() : h.cookie ? String(h.cookie.name) : '',
      terminal: Boolean(h.terminal),
    })),
    upgrades: upgradeConfigs(ra.upgrade_configs, `${p}/route/upgrade_configs`, errors),
  };
}

function directResponse(d: Obj): RouteActionConfig {
  return {
    kind: 'direct',
    status: Number(d.status),
    body:
      d.body?.inline_string ??
      (d.body?.inline_bytes ? Buffer.from(d.body.inline_bytes, 'base64').toString() : undefined),
  };
}

const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

function redirectAction(rd: Obj): RouteActionConfig {
  return {
    kind: 'redirect',
    status: REDIRECT_CODES[rd.response_code ?? 'MOVED_PERMANENTLY'] ?? 301,
    host: rd.host_redirect,
    port: rd.port_redirect,
    path: rd.path_redirect,
    prefixRewrite: rd.prefix_rewrite,
    scheme: rd.https_redirect ? 'https' : rd.scheme_redirect,
    stripQuery: Boolean(rd.strip_query),
  };
}
