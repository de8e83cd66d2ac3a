import { diagnostic, inFamily } from '../../model/diagnostics.js';
import type { ResolvedBackend, ResolvedFrontend, ResolvedRoute } from '../../model/types.js';
import { k8sObject } from '../../kubernetes/objects.js';
import { GATEWAY_API, TARGET, type EmitContext } from './context.js';
import { isDefaultGatewayClass } from './gateway.js';
import {
  gatewayDuration,
  headerFilters,
  linkerdDuration,
  prefixDifference,
  prefixFamily,
  toGatewayMatch,
} from './matches.js';
import { findOrderConflicts, type Precedence, type RankedRoute } from './order.js';
import { gepDuration, retryAnnotations, retryCodes } from './retries.js';
import { RULE_TIMEOUTS_SINCE, TCP_ROUTES_SINCE } from './versions.js';
import { atLeast } from '../versions.js';

const TCP_ROUTE = 'gateway.networking.k8s.io/v1alpha2';

export type ClaimName = (namespace: string, name: string) => string;

interface BuiltRule {
  readonly route: ResolvedRoute;
  readonly rule: Record<string, unknown>;
  /** HTTPRoute-level settings: rules with different ones need different HTTPRoutes. */
  readonly annotations: Record<string, string>;
  readonly hostnames?: string[];
}

/** backendRefs: one per destination, to the version's Service, or the backend's for all versions. */
function backendRefs(
  ctx: EmitContext,
  r: ResolvedRoute,
  fromNamespace: string,
  crossNamespace: Set<string>,
): Record<string, unknown>[] {
  return r.to.map((d) => {
    const b = ctx.mesh.backendsByName.get(d.backend)!;
    const name = d.version ? ctx.versionServices.get(b.name)!.get(d.version)! : b.name;
    if (b.namespace !== fromNamespace) crossNamespace.add(b.namespace);
    return {
      name,
      namespace: b.namespace === fromNamespace ? undefined : b.namespace,
      port: b.port,
      weight: d.weight,
    };
  });
}

function reportPrefixes(ctx: EmitContext, r: ResolvedRoute): void {
  r.matches.forEach((m, i) => {
    if (m.path?.kind !== 'prefix') return;
    const diff = prefixDifference(m.path.value);
    if (diff)
      ctx.diagnostics.push(
        inFamily(
          prefixFamily(m.path.value),
          diagnostic('MG3002', `route "${r.name}": ${diff}`, {
            pointer: `${r.pointer}/match/${i}/path`,
            target: TARGET,
          }),
        ),
      );
  });
}

/** Per version rendered for, whether a rule carries its request timeout: asked for every route. */
const ruleTimeoutsAt = new WeakMap<EmitContext['version'], boolean>();

function ruleTimeouts(ctx: EmitContext): boolean {
  let on = ruleTimeoutsAt.get(ctx.version);
  if (on === undefined) {
    on = atLeast(ctx.version, RULE_TIMEOUTS_SINCE);
    ruleTimeoutsAt.set(ctx.version, on);
  }
  return on;
}

function meshRule(ctx: EmitContext, r: ResolvedRoute, namespace: string, cross: Set<string>): BuiltRule {
  reportPrefixes(ctx, r);
  const annotations = retryAnnotations(ctx, r);
  const rule: Record<string, unknown> = {};
  if (r.matches.length) rule.matches = r.matches.map(toGatewayMatch);
  const filters = headerFilters(r.requestHeaders, r.responseHeaders);
  if (filters.length) rule.filters = filters;
  rule.backendRefs = backendRefs(ctx, r, namespace, cross);
  if (r.timeoutMs !== undefined) {
    // Linkerd 2.20 reads the rule's timeouts.request as its request timeout (all tries included);
    // before, the policy controller ignores it on a Service parent and reads only the annotation
    // (linkerd2 policy-controller/k8s/index/src/outbound/index/http.rs, convert_gateway_rule).
    const d = ruleTimeouts(ctx) ? gatewayDuration(r.timeoutMs) : undefined;
    if (d) rule.timeouts = { request: d };
    else annotations['timeout.linkerd.io/request'] = linkerdDuration(r.timeoutMs);
  }
  if (r.rewrite?.pathPrefix !== undefined || r.rewrite?.host !== undefined)
    ctx.diagnostics.push(
      diagnostic(
        'MG3001',
        `route "${r.name}" uses rewrite, which the linkerd target cannot express on a backend route (Linkerd's proxy rejects the URLRewrite filter): it is left out`,
        {
          pointer: `${r.pointer}/rewrite`,
          target: TARGET,
          hint: 'rewrite on a frontend route, where the Gateway implements URLRewrite',
        },
      ),
    );
  return { route: r, rule, annotations };
}

function frontendRule(ctx: EmitContext, r: ResolvedRoute, namespace: string, cross: Set<string>): BuiltRule {
  reportPrefixes(ctx, r);
  const rule: Record<string, unknown> = {};
  if (r.matches.length) rule.matches = r.matches.map(toGatewayMatch);
  const filters = headerFilters(r.requestHeaders, r.responseHeaders);
  if (r.rewrite) {
    const urlRewrite: Record<string, unknown> = {};
    if (r.rewrite.host !== undefined) urlRewrite.hostname = r.rewrite.host;
    if (r.rewrite.pathPrefix !== undefined)
      urlRewrite.path = { type: 'ReplacePrefixMatch', replacePrefixMatch: r.rewrite.pathPrefix };
    filters.push({ type: 'URLRewrite', urlRewrite });
  }
  if (filters.length) rule.filters = filters;
  rule.backendRefs = backendRefs(ctx, r, namespace, cross);
  const timeouts: Record<string, string> = {};
  if (r.timeoutMs !== undefined) timeouts.request = gepDuration(r.timeoutMs);
  if (r.retries?.perTryTimeoutMs !== undefined)
    timeouts.backendRequest = gepDuration(r.retries.perTryTimeoutMs);
  if (Object.keys(timeouts).length) rule.timeouts = timeouts;
  if (r.retries) {
    const codes = retryCodes(r.retries);
    rule.retry = { attempts: r.retries.attempts, codes: codes.length ? codes : undefined };
    ctx.diagnostics.push(
      diagnostic(
        'MG3005',
        `route "${r.name}": frontend retries are the HTTPRoute retry field (Gateway API GEP-1731, experimental channel), which ${isDefaultGatewayClass(ctx) ? 'Envoy Gateway reads from 1.3 on: an older Envoy Gateway ignores it and retries nothing' : 'the Gateway implementation must read: one that does not retries nothing'}`,
        {
          pointer: `${r.pointer}/retries`,
          target: TARGET,
          hint: 'install the experimental Gateway API CRDs, and a Gateway implementation that supports HTTPRoute retries (Envoy Gateway 1.3 or later)',
        },
      ),
    );
    const conn = r.retries.on.filter((c) => c === 'connect-failure' || c === 'reset');
    if (conn.length)
      ctx.diagnostics.push(
        diagnostic(
          'MG3002',
          `route "${r.name}": the Gateway API retry lists status codes only; retrying ${conn.join(' and ')} is up to the Gateway implementation`,
          { pointer: `${r.pointer}/retries/on`, target: TARGET },
        ),
      );
  }
  const hostnames = r.parent.kind === 'frontend' ? r.parent.hosts.filter((h) => h !== '*') : [];
  return { route: r, rule, annotations: {}, hostnames: hostnames.length ? hostnames : undefined };
}

/**
 * Groups rules into HTTPRoutes: one per parent when their HTTPRoute-level settings agree, else one
 * per distinct setting, each keeping first-match order inside. Returns the route name each rule
 * went to.
 */
function groupRules(built: readonly BuiltRule[], baseName: string, claim: ClaimName, namespace: string) {
  // one rule is one group: no key to build (most backends have one route)
  if (built.length === 1) return [{ name: claim(namespace, baseName), rules: [built[0]!] }];
  const groups = new Map<string, BuiltRule[]>();
  for (const b of built) {
    const key = JSON.stringify([b.annotations, b.hostnames ?? []]);
    const list = groups.get(key);
    if (list) list.push(b);
    else groups.set(key, [b]);
  }
  const single = groups.size === 1;
  return [...groups.values()].map((rules) => ({
    name: claim(namespace, single ? baseName : rules[0]!.route.name),
    rules,
  }));
}

function reportOrder(ctx: EmitContext, ranked: RankedRoute[], precedence: Precedence, parent: string): void {
  for (const c of findOrderConflicts(ranked, precedence))
    ctx.diagnostics.push(
      diagnostic(
        'MG3004',
        `${parent}: route "${c.later.name}" would take requests that route "${c.earlier.name}" matches first (${c.reason}): HTTPRoute rules are chosen by specificity, not in order`,
        {
          pointer: c.later.pointer,
          target: TARGET,
          hint: `make the routes' matches disjoint, or give "${c.earlier.name}" a match at least as specific as "${c.later.name}"`,
        },
      ),
    );
}

/** Gateway API limits (CRD and CEL): 16 rules and fewer than 128 matches a route, 64 a rule. */
const MAX_RULES = 16;
const MAX_ROUTE_MATCHES = 127;
const MAX_RULE_MATCHES = 64;

/**
 * One mesh route as one or more HTTPRoute rules with the same filters and backends: a rule holds
 * at most 64 matches, and a rule rewriting with ReplacePrefixMatch exactly one (CEL rule).
 */
function splitRule(rule: Record<string, unknown>): Record<string, unknown>[] {
  const matches = rule.matches as unknown[] | undefined;
  const filters = (rule.filters as { urlRewrite?: { path?: unknown } }[] | undefined) ?? [];
  const size = filters.some((f) => f.urlRewrite?.path) ? 1 : MAX_RULE_MATCHES;
  if (!matches || matches.length <= size) return [rule];
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < matches.length; i += size) out.push({ ...rule, matches: matches.slice(i, i + size) });
  return out;
}

function emitHttpRoutes(
  ctx: EmitContext,
  built: BuiltRule[],
  baseName: string,
  namespace: string,
  parentRef: Record<string, unknown>,
  claim: ClaimName,
  precedence: Precedence,
  parentLabel: string,
): void {
  const ranked: RankedRoute[] = [];
  for (const g of groupRules(built, baseName, claim, namespace)) {
    const first = g.rules[0]!;
    // Pack the rules into HTTPRoutes within the limits; later ones are named <name>-2, <name>-3...
    const objects: Record<string, unknown>[][] = [[]];
    let matchCount = 0;
    const objectOf = new Map<ResolvedRoute, number>();
    for (const b of g.rules)
      for (const rule of splitRule(b.rule)) {
        const n = (rule.matches as unknown[] | undefined)?.length ?? 1;
        const current = objects[objects.length - 1]!;
        if (current.length >= MAX_RULES || (current.length && matchCount + n > MAX_ROUTE_MATCHES)) {
          objects.push([]);
          matchCount = 0;
        }
        objects[objects.length - 1]!.push(rule);
        matchCount += n;
        if (!objectOf.has(b.route)) objectOf.set(b.route, objects.length - 1);
      }
    const names = objects.map((_, i) => (i === 0 ? g.name : claim(namespace, `${g.name}-${i + 1}`)));
    objects.forEach((rules, i) =>
      ctx.objects.push(
        k8sObject(
          ctx.mesh,
          GATEWAY_API,
          'HTTPRoute',
          { name: names[i]!, namespace, annotations: first.annotations },
          { spec: { parentRefs: [parentRef], hostnames: first.hostnames, rules } },
        ),
      ),
    );
    // order conflicts are between two routes of one parent: nothing to rank for a lone route
    if (built.length > 1)
      for (const b of g.rules)
        ranked.push({
          route: b.route,
          object: names[objectOf.get(b.route)!]!,
          behaviour: JSON.stringify([
            b.rule.filters,
            b.rule.backendRefs,
            b.rule.timeouts,
            b.rule.retry,
            b.annotations,
          ]),
          hosts: b.hostnames,
        });
  }
  if (built.length < 2) return;
  const position = new Map(built.map((b, i) => [b.route, i]));
  ranked.sort((a, b) => position.get(a.route)! - position.get(b.route)!);
  reportOrder(ctx, ranked, precedence, parentLabel);
}

function tcpRoute(
  ctx: EmitContext,
  r: ResolvedRoute,
  name: string,
  namespace: string,
  parentRef: Record<string, unknown>,
  cross: Set<string>,
) {
  if (r.timeoutMs !== undefined)
    ctx.diagnostics.push(
      diagnostic(
        'MG3001',
        `route "${r.name}" has a timeout on a TCP route, which the linkerd target cannot express: it is left out`,
        {
          pointer: `${r.pointer}/timeout`,
          target: TARGET,
        },
      ),
    );
  ctx.objects.push(
    k8sObject(
      ctx.mesh,
      TCP_ROUTE,
      'TCPRoute',
      { name, namespace },
      { spec: { parentRefs: [parentRef], rules: [{ backendRefs: backendRefs(ctx, r, namespace, cross) }] } },
    ),
  );
}

/**
 * Before 2.18 Linkerd reads no TCPRoute on a Service port it treats as opaque (2.16 watches none, 2.17
 * drops them for opaque ports: linkerd2 policy-controller/grpc/src/outbound.rs, PR 13948), so a TCP
 * route to a backend would be accepted by the API server and ignored: every connection would go to
 * every pod of the backend. It is refused instead.
 */
function refuseTcpRoute(ctx: EmitContext, b: ResolvedBackend, r: ResolvedRoute): void {
  const [only] = r.to;
  // a route to all of the backend itself changes nothing: nothing is lost
  if (
    r.to.length === 1 &&
    only!.backend === b.name &&
    only!.version === undefined &&
    r.timeoutMs === undefined
  )
    return;
  ctx.diagnostics.push(
    diagnostic(
      'MG3001',
      `route "${r.name}" sends TCP traffic for backend "${b.name}"${r.to.length > 1 ? ' in a split' : ''}, which Linkerd ${ctx.version.text} cannot express (it reads TCPRoutes on a Service's opaque port from 2.18 on): it is left out, and every connection goes to all pods of "${b.name}"`,
      {
        pointer: r.pointer,
        target: TARGET,
        hint: `render for Linkerd 2.18 or later (--set linkerd.version=${TCP_ROUTES_SINCE}) once the cluster runs it`,
      },
    ),
  );
}

/** East-west: HTTPRoutes (or a TCPRoute) attached to the backend's Service. */
export function emitBackendRoutes(
  ctx: EmitContext,
  b: ResolvedBackend,
  claim: ClaimName,
  cross: Map<string, Set<string>>,
): void {
  const routes = b.routes.filter((r) => !r.implicit);
  if (!routes.length) return;
  const ns = b.namespace;
  const set = cross.get(ns) ?? new Set<string>();
  cross.set(ns, set);
  const parentRef = { group: '', kind: 'Service', name: b.name, port: b.port };
  if (b.protocol === 'tcp') {
    if (!atLeast(ctx.version, TCP_ROUTES_SINCE)) {
      refuseTcpRoute(ctx, b, routes[0]!);
      return;
    }
    // A TCPRoute has one rule and mesh TCP routes have no match: the first one takes every connection.
    tcpRoute(ctx, routes[0]!, claim(ns, b.name), ns, parentRef, set);
    return;
  }
  const built = routes.map((r) => meshRule(ctx, r, ns, set));
  if (b.protocol === 'grpc')
    for (const r of routes)
      if (r.retries)
        ctx.diagnostics.push(
          diagnostic(
            'MG3002',
            `route "${r.name}": gRPC failures arrive as HTTP 200 with a grpc-status, which retry.linkerd.io/http does not see; only per-try timeouts and HTTP-level errors are retried`,
            { pointer: `${r.pointer}/retries`, target: TARGET },
          ),
        );
  emitHttpRoutes(ctx, built, b.name, ns, parentRef, claim, 'linkerd', `backend "${b.name}"`);
}

/** North-south: HTTPRoutes (or a TCPRoute) attached to the frontend's Gateway. */
export function emitFrontendRoutes(
  ctx: EmitContext,
  f: ResolvedFrontend,
  claim: ClaimName,
  cross: Map<string, Set<string>>,
): void {
  if (!f.routes.length) return;
  const ns = ctx.mesh.namespace;
  const set = cross.get(ns) ?? new Set<string>();
  cross.set(ns, set);
  const parentRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: f.name };
  if (f.protocol === 'tcp' || f.protocol === 'tls-passthrough') {
    tcpRoute(ctx, f.routes[0]!, claim(ns, f.name), ns, parentRef, set);
    return;
  }
  const built = f.routes.map((r) => frontendRule(ctx, r, ns, set));
  emitHttpRoutes(ctx, built, f.name, ns, parentRef, claim, 'gateway', `frontend "${f.name}"`);
}
