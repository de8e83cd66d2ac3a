import type { ResolvedMatch, ResolvedMesh, ResolvedRoute, StringMatch } from '../../model/types.js';
import { hasAnyKey } from '../../kubernetes/objects.js';
import { goDuration, headerModifiers, type Output } from './model.js';

/** Where a router route sends its requests: a real service (and subset) or a split's virtual service. */
interface Target {
  readonly Service: string;
  readonly ServiceSubset?: string;
}

/**
 * The routes of one parent as service-router `Routes`, in first-match order (Consul's order too).
 * A mesh match list is an OR of AND-ed conditions; Consul's `Match.HTTP` is one AND-ed set, so each
 * match entry becomes one Consul route with the same destination.
 */
export function routerRoutes(
  mesh: ResolvedMesh,
  parent: string,
  namespace: string,
  routes: readonly ResolvedRoute[],
  out: Output,
): Record<string, unknown>[] {
  const result: Record<string, unknown>[] = [];
  for (const r of routes) {
    const target = routeTarget(mesh, parent, namespace, r, out);
    if (!target) continue;
    const destination = routeDestination(r, target, out);
    if (r.matches.length === 0) {
      result.push({ Destination: destination });
      continue;
    }
    for (const m of r.matches) {
      const http = httpMatch(m);
      result.push(http ? { Match: { HTTP: http }, Destination: destination } : { Destination: destination });
    }
  }
  return result;
}

/** True when some route accepts every request, so nothing falls through to Consul's default route. */
export function hasCatchAll(routes: readonly ResolvedRoute[]): boolean {
  return routes.some(
    (r) => r.matches.length === 0 || r.matches.some((m) => httpMatch(m) === undefined || isEverything(m)),
  );
}

function isEverything(m: ResolvedMatch): boolean {
  return (
    m.path?.kind === 'prefix' &&
    m.path.value === '/' &&
    !m.method &&
    m.headers.length === 0 &&
    m.queryParams.length === 0
  );
}

/**
 * A single destination is addressed directly (service + subset). A split needs a service-splitter,
 * and a splitter applies to every request for its service: a route that splits gets a virtual
 * service `<parent>--<route>` of its own holding the splitter, so other routes (and callers of the
 * backend from elsewhere) are not split with it.
 */
function routeTarget(
  mesh: ResolvedMesh,
  parent: string,
  namespace: string,
  r: ResolvedRoute,
  out: Output,
): Target | undefined {
  if (r.to.length === 1) return { Service: r.to[0]!.backend, ServiceSubset: r.to[0]!.version };
  // Consul refuses a splitter that names one destination twice: equal destinations add up.
  const merged = new Map<string, { backend: string; version?: string; weight: number }>();
  for (const t of r.to) {
    const key = `${t.backend}\0${t.version ?? ''}`;
    const prior = merged.get(key);
    if (prior) prior.weight += t.weight;
    else merged.set(key, { backend: t.backend, version: t.version, weight: t.weight });
  }
  const to = [...merged.values()];
  if (to.length === 1) return { Service: to[0]!.backend, ServiceSubset: to[0]!.version };
  const cached = out.targets.get(r) as Target | undefined;
  if (cached) return cached;
  const name = `${parent}--${r.name}`;
  if (!out.claim(name, 'route', r.name, r.pointer)) return undefined;
  const protocols = new Set(to.map((t) => mesh.backendsByName.get(t.backend)?.protocol ?? 'http'));
  if (protocols.size > 1)
    out.warn(
      'MG3002',
      `route "${r.name}" splits between backends of different protocols (${[...protocols].join(', ')}); Consul's discovery chain needs one protocol, so Consul will refuse the splitter`,
      `${r.pointer}/to`,
    );
  out.add({ Kind: 'service-defaults', Name: name, Protocol: [...protocols][0] }, namespace);
  out.add(
    {
      Kind: 'service-splitter',
      Name: name,
      Splits: to.map((t) => ({ Weight: t.weight, Service: t.backend, ServiceSubset: t.version })),
    },
    namespace,
  );
  const target = { Service: name };
  out.targets.set(r, target);
  return target;
}

function routeDestination(r: ResolvedRoute, target: Target, out: Output): Record<string, unknown> {
  const subject = `route "${r.name}"`;
  const d: Record<string, unknown> = { Service: target.Service, ServiceSubset: target.ServiceSubset };
  if (r.rewrite?.pathPrefix !== undefined) d.PrefixRewrite = r.rewrite.pathPrefix;
  if (r.timeoutMs !== undefined) d.RequestTimeout = goDuration(r.timeoutMs);
  if (r.retries && r.retries.attempts > 0) {
    d.NumRetries = r.retries.attempts;
    const on: string[] = [];
    const codes: number[] = [];
    for (const c of r.retries.on) {
      if (c === 'connect-failure') d.RetryOnConnectFailure = true;
      else if (/^\d+$/.test(c)) codes.push(Number(c));
      else on.push(c); // 5xx, gateway-error, reset, retriable-4xx: Envoy's x-envoy-retry-on names
    }
    if (on.length) d.RetryOn = on;
    if (codes.length) d.RetryOnStatusCodes = codes;
    out.warn(
      'MG3002',
      `${subject}: Consul sets no retry host predicate, so a retry may go to the endpoint that just failed rather than another one`,
      `${r.pointer}/retries`,
      undefined,
      'consul: no retry host predicate',
    );
  }
  d.RequestHeaders = headerModifiers(r.requestHeaders, subject, `${r.pointer}/headers/request`, out);
  d.ResponseHeaders = headerModifiers(r.responseHeaders, subject, `${r.pointer}/headers/response`, out);
  return d;
}

/** `ServiceRouteHTTPMatch`, or undefined when the entry accepts every request. */
function httpMatch(m: ResolvedMatch): Record<string, unknown> | undefined {
  const http: Record<string, unknown> = {};
  if (m.path?.kind === 'exact') http.PathExact = m.path.value;
  else if (m.path?.kind === 'prefix') http.PathPrefix = m.path.value;
  else if (m.path?.kind === 'regex') http.PathRegex = m.path.value;
  if (m.headers.length) http.Header = m.headers.map((h) => ({ Name: h.name, ...stringMatch(h.match, true) }));
  if (m.queryParams.length)
    http.QueryParam = m.queryParams.map((q) => ({ Name: q.name, ...stringMatch(q.match, false) }));
  if (m.method) http.Methods = [m.method];
  return hasAnyKey(http) ? http : undefined;
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|]/g;

/**
 * Header matches have Exact, Prefix, Regex and Present; query parameters lack Prefix, so a prefix
 * becomes the anchored regex `<escaped prefix>.*` (Envoy's safe_regex matches the whole value).
 */
function stringMatch(sm: StringMatch, prefixAllowed: boolean): Record<string, unknown> {
  switch (sm.kind) {
    case 'exact':
      return { Exact: sm.value };
    case 'regex':
      return { Regex: sm.value };
    case 'present':
      return { Present: true };
    case 'prefix':
      return prefixAllowed ? { Prefix: sm.value } : { Regex: `${sm.value.replace(REGEX_SPECIAL, '\\$&')}.*` };
  }
}
