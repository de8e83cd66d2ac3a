import type { Diagnostic } from '../../model/diagnostics.js';
import type {
  HeaderOps,
  ResolvedBackend,
  ResolvedMatch,
  ResolvedMesh,
  ResolvedRoute,
  StringMatch,
} from '../../model/types.js';
import { OrderedSet, TYPE, duration, percentOrApprox, typed, type Json } from './common.js';
import { clusterName } from './clusters.js';

/** A cluster a route needs: one version of a backend, or all of them (version undefined). */
export interface ClusterKey {
  readonly backend: string;
  readonly version: string | undefined;
}

/** The Envoy side of one mesh route: its routes (one per match entry) and the clusters they name. */
export interface BuiltRoute {
  readonly routes: Json[];
  readonly clusters: ClusterKey[];
  readonly usesFault: boolean;
}

export const FAULT_FILTER = 'envoy.filters.http.fault';

/** Case-insensitive `host`: Envoy rejects header operations on it; route rewrites carry it instead. */
const isHost = (name: string) => name.toLowerCase() === 'host';

function stringMatcher(m: StringMatch): Json {
  if (m.kind === 'present') return {};
  if (m.kind === 'regex') return { safe_regex: { regex: m.value } };
  return { [m.kind]: m.value };
}

function routeMatch(m: ResolvedMatch | undefined): Json {
  const out: Json = {};
  const p = m?.path;
  if (!p) out.prefix = '/';
  else if (p.kind === 'exact') out.path = p.value;
  else if (p.kind === 'prefix') out.prefix = p.value;
  else out.safe_regex = { regex: p.value };
  if (!m) return out;
  const headers: Json[] = m.headers.map((h) =>
    h.match.kind === 'present'
      ? { name: h.name, present_match: true }
      : { name: h.name, string_match: stringMatcher(h.match) },
  );
  if (m.method) headers.push({ name: ':method', string_match: { exact: m.method } });
  if (headers.length) out.headers = headers;
  if (m.queryParams.length)
    out.query_parameters = m.queryParams.map((q) =>
      q.match.kind === 'present'
        ? { name: q.name, present_match: true }
        : { name: q.name, string_match: stringMatcher(q.match) },
    );
  return out;
}

/**
 * Envoy reads a header value to add as a format string (`%START_TIME%`, `%%` for a literal `%`):
 * a mesh value is written with every `%` doubled, so that it arrives as the mesh wrote it.
 */
function headerValue(value: string): string {
  return value.replace(/%/g, '%%');
}

/** `set` overwrites, `add` appends; `host` is left to host_rewrite_literal. */
function headersToAdd(ops: HeaderOps): Json[] | undefined {
  const out = [
    ...ops.set
      .filter(([k]) => !isHost(k))
      .map(([key, value]) => ({
        header: { key, value: headerValue(value) },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      })),
    ...ops.add
      .filter(([k]) => !isHost(k))
      .map(([key, value]) => ({
        header: { key, value: headerValue(value) },
        append_action: 'APPEND_IF_EXISTS_OR_ADD',
      })),
  ];
  return out.length ? out : undefined;
}

function headersToRemove(ops: HeaderOps): string[] | undefined {
  const out = ops.remove.filter((k) => !isHost(k));
  return out.length ? out : undefined;
}

/** Our retry conditions are Envoy's names; status codes go to retriable-status-codes. */
function retryPolicy(r: ResolvedRoute): Json | undefined {
  const retries = r.retries;
  // No retries: no retry_policy at all. In envoy/config/route/v3/route_components.proto (the
  // routes of route.proto's RouteConfiguration), RouteAction's `RetryPolicy retry_policy = 9` is
  // unset by default, and the router only retries under a retry policy (or an x-envoy-retry-on header, which
  // the gateway strips from clients), so a connect failure is not retried either. The virtual hosts
  // set no retry_policy (field 16) for the same reason. A policy without num_retries would mean 1
  // retry ("defaults to 1"), so attempts is always written.
  if (!retries) return undefined;
  const on = new OrderedSet<string>();
  const codes: number[] = [];
  for (const c of retries.on) {
    if (/^\d+$/.test(c)) {
      on.add('retriable-status-codes');
      codes.push(Number(c));
    } else on.add(c);
  }
  return {
    retry_on: on.items.join(','),
    num_retries: retries.attempts,
    per_try_timeout: retries.perTryTimeoutMs === undefined ? undefined : duration(retries.perTryTimeoutMs),
    retriable_status_codes: codes.length ? codes : undefined,
    // "a retry goes to another endpoint where there is one"
    retry_host_predicate: [
      { name: 'envoy.retry_host_predicates.previous_hosts', typed_config: typed(TYPE.previousHosts) },
    ],
    host_selection_retry_max_attempts: 5,
  };
}

function hashPolicy(backends: readonly ResolvedBackend[]): Json[] | undefined {
  const out: Json[] = [];
  const seen = new Set<string>();
  for (const b of backends) {
    if (b.loadBalancer !== 'ring-hash' || !b.hashOn) continue;
    const h = b.hashOn;
    const policy: Json =
      'header' in h
        ? { header: { header_name: h.header } }
        : 'cookie' in h
          ? { cookie: { name: h.cookie } }
          : { connection_properties: { source_ip: true } };
    const key = JSON.stringify(policy);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(policy);
  }
  return out.length ? out : undefined;
}

/** Weights per cluster (two entries naming one cluster add up), in first-seen order. */
function destinations(r: ResolvedRoute, prefix: string): { name: string; weight: number; key: ClusterKey }[] {
  const byName = new Map<string, { name: string; weight: number; key: ClusterKey }>();
  for (const t of r.to) {
    const name = clusterName(t.backend, t.version, prefix);
    const seen = byName.get(name);
    if (seen) seen.weight += t.weight;
    else byName.set(name, { name, weight: t.weight, key: { backend: t.backend, version: t.version } });
  }
  return [...byName.values()];
}

/**
 * Builds one mesh HTTP route: one Envoy route per match entry (any may match; Envoy routes are
 * first match, so the order of the mesh's routes is kept), all sharing one action.
 */
export function buildHttpRoute(
  mesh: ResolvedMesh,
  r: ResolvedRoute,
  prefix: string,
  diagnostics: Diagnostic[],
): BuiltRoute {
  const dests = destinations(r, prefix);
  const clusters = dests.map((d) => d.key);
  const mirror = r.mirror && {
    name: clusterName(r.mirror.backend, r.mirror.version, prefix),
    key: { backend: r.mirror.backend, version: r.mirror.version },
  };
  if (mirror) clusters.push(mirror.key);
  const hostSet = r.requestHeaders.set.find(([k]) => isHost(k))?.[1];
  const action: Json = {
    ...(dests.length === 1
      ? { cluster: dests[0]!.name }
      : { weighted_clusters: { clusters: dests.map((d) => ({ name: d.name, weight: d.weight })) } }),
    prefix_rewrite: r.rewrite?.pathPrefix,
    host_rewrite_literal: r.rewrite?.host ?? hostSet,
    // Unset: route_components.proto's RouteAction.timeout, "If not specified, the default is 15s"
    // (retries included); stated to the user by an MG3005 info in index.ts.
    timeout: r.timeoutMs === undefined ? undefined : duration(r.timeoutMs),
    retry_policy: retryPolicy(r),
    request_mirror_policies: mirror && [
      {
        cluster: mirror.name,
        runtime_fraction: {
          default_value: percentOrApprox(
            r.mirror!.percent,
            `route "${r.name}" mirror`,
            `${r.pointer}/mirror/percent`,
            diagnostics,
          ),
        },
      },
    ],
    hash_policy: hashPolicy(r.to.map((t) => mesh.backendsByName.get(t.backend)!)),
  };
  const fault = r.fault;
  const perFilter: Json | undefined = fault && {
    [FAULT_FILTER]: typed(TYPE.fault, {
      delay: fault.delay && {
        fixed_delay: duration(fault.delay.ms),
        percentage: percentOrApprox(
          fault.delay.percent,
          `route "${r.name}" fault delay`,
          `${r.pointer}/fault/delay/percent`,
          diagnostics,
        ),
      },
      abort: fault.abort && {
        http_status: fault.abort.status,
        percentage: percentOrApprox(
          fault.abort.percent,
          `route "${r.name}" fault abort`,
          `${r.pointer}/fault/abort/percent`,
          diagnostics,
        ),
      },
    }),
  };
  const extras: Json = {
    typed_per_filter_config: perFilter,
    request_headers_to_add: headersToAdd(r.requestHeaders),
    request_headers_to_remove: headersToRemove(r.requestHeaders),
    response_headers_to_add: headersToAdd(r.responseHeaders),
    response_headers_to_remove: headersToRemove(r.responseHeaders),
  };
  // No catch-all route is added: a request no route matches gets Envoy's own 404 (the router's
  // NR response flag), as the spec's "No match" asks.
  const matches: readonly (ResolvedMatch | undefined)[] = r.matches.length ? r.matches : [undefined];
  const routes = matches.map((m, i) => ({
    name: matches.length === 1 ? r.name : `${r.name}#${i}`,
    match: routeMatch(m),
    route: action,
    ...extras,
  }));
  return { routes, clusters, usesFault: fault !== undefined };
}

/** The tcp_proxy of a TCP route: the split as weighted clusters, the timeout bounding the connection. */
export function buildTcpProxy(
  mesh: ResolvedMesh,
  r: ResolvedRoute,
  prefix: string,
  statPrefix: string,
): { config: Json; clusters: ClusterKey[] } {
  const dests = destinations(r, prefix);
  const hash = hashPolicy(r.to.map((t) => mesh.backendsByName.get(t.backend)!))?.filter(
    (h) => h.connection_properties,
  );
  return {
    config: typed(TYPE.tcpProxy, {
      stat_prefix: statPrefix,
      ...(dests.length === 1
        ? { cluster: dests[0]!.name }
        : { weighted_clusters: { clusters: dests.map((d) => ({ name: d.name, weight: d.weight })) } }),
      max_downstream_connection_duration: r.timeoutMs === undefined ? undefined : duration(r.timeoutMs),
      hash_policy: hash?.length ? [{ source_ip: {} }] : undefined,
    }),
    clusters: dests.map((d) => d.key),
  };
}
