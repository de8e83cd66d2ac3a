/**
 * Linkerd, simulated for east-west traffic: a caller's proxy routes by the HTTPRoutes whose parent is
 * the called Service, and the called pod's proxy admits the request by its Server, policy HTTPRoutes,
 * AuthorizationPolicies and MeshTLSAuthentications.
 *
 * Route choice follows the Gateway API's precedence
 * (https://gateway-api.sigs.k8s.io/reference/spec/#httprouterule: exact path, longest prefix, method,
 * most headers, most query parameters, then the oldest route, then {namespace}/{name}, then rule
 * order) as Linkerd's proxy implements it (linkerd2-proxy linkerd/http/route/src/http/match.rs):
 * the path ranks by the number of characters matched whatever its type (a regex counts the whole
 * path), then headers and query parameters, and the method after them in earlier releases or before
 * them in recent ones: where that changes the rule chosen, the case is unsupported. A prefix matches
 * whole path segments ("/api/" also accepts "/api").
 * Filters: Linkerd's policy controller honours RequestHeaderModifier, ResponseHeaderModifier and
 * RequestRedirect and refuses URLRewrite, RequestMirror and ExtensionRef
 * (linkerd2 policy-controller/k8s/index/src/outbound/index/http.rs, convert_gateway_filter): a route
 * with a refused filter is left out of the Service's policy altogether.
 * Retries and timeouts: the retry.linkerd.io/{http,limit,timeout} and timeout.linkerd.io/request
 * annotations, and rules[].timeouts.request (https://linkerd.io/2/reference/retries/,
 * https://linkerd.io/2/reference/timeouts/).
 */
import {
  applyOps,
  denied,
  durationMs,
  fullMatch,
  guarded,
  hostOnly,
  isObj,
  list,
  notFound,
  observe,
  onlyKnown,
  pathWithQuery,
  readObjects,
  serviceFqdn,
  str,
  unsupported,
  type Destination,
  type HeaderOps,
  type K8sObject,
  type Obj,
  type RetryPolicy,
  type Sidecar,
} from './common.js';
import type { SimCase, SimResult, Simulator } from './types.js';

const SIDECAR: Sidecar = {
  system: 'Linkerd',
  // "the Linkerd proxy will surface connection errors as 502 responses"
  // (https://linkerd.io/2/tasks/debugging-502s/); a request timeout is 504
  resetStatus: 502,
  timeoutStatus: 504,
  // retries are made by the route, above the choice among its backends
  retryRechoosesSplit: true,
};

const VERSION_LABEL = 'meshgen.io/version';

/** The rank of a matched request: path characters, headers, query parameters, method. */
type Rank = readonly [number, number, number, number];

/**
 * The proxy's order of RequestMatch (linkerd/http/route/src/http/match.rs, `impl Ord`): the path's
 * characters first, then releases differ: headers, query parameters, then the method in earlier
 * ones; the method, then headers and query parameters in recent ones (the Gateway API's order).
 */
const ORDERS: readonly ((a: Rank, b: Rank) => number)[] = [
  (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3],
  (a, b) => a[0] - b[0] || a[3] - b[3] || a[1] - b[1] || a[2] - b[2],
];

function pathRank(p: Obj | undefined, path: string): number | undefined {
  if (!p) return 1; // no path: a "/" prefix
  const type = str(p['type']) ?? 'PathPrefix';
  const value = str(p['value']) ?? '/';
  if (type === 'Exact') return value === path ? value.length : undefined;
  if (type === 'RegularExpression') return fullMatch(value, path) ? path.length : undefined;
  if (type !== 'PathPrefix') return unsupported(`path match type ${type}`);
  if (value === '/') return 1;
  const prefix = value.replace(/\/+$/, '');
  const rest = path.replace(/\/+$/, '');
  if (!rest.startsWith(prefix)) return undefined;
  const suffix = rest.slice(prefix.length);
  return suffix === '' || suffix.startsWith('/') ? prefix.length : undefined;
}

function valueMatches(m: Obj, value: string | undefined, what: string): boolean {
  onlyKnown(m, ['type', 'name', 'value'], what);
  const type = str(m['type']) ?? 'Exact';
  if (value === undefined) return false;
  if (type === 'Exact') return value === m['value'];
  if (type === 'RegularExpression') return fullMatch(String(m['value']), value);
  return unsupported(`${what}: match type ${type}`);
}

/** The rank of a request under one HTTPRouteMatch, or undefined when it does not match. */
function rankOf(m: Obj, c: SimCase): Rank | undefined {
  onlyKnown(m, ['path', 'headers', 'queryParams', 'method'], 'an HTTPRoute match');
  if (m['method'] !== undefined && m['method'] !== c.method) return undefined;
  const path = pathRank(isObj(m['path']) ? m['path'] : undefined, c.path);
  if (path === undefined) return undefined;
  const headers = list(m['headers']);
  if (!headers.every((h) => valueMatches(h, c.headers[String(h['name']).toLowerCase()], 'a header match')))
    return undefined;
  const query = list(m['queryParams']);
  if (!query.every((q) => valueMatches(q, c.query[String(q['name'])], 'a query parameter match')))
    return undefined;
  return [path, headers.length, query.length, m['method'] !== undefined ? 1 : 0];
}

interface Chosen {
  readonly route: K8sObject;
  readonly rule: Obj;
  readonly rank: Rank;
}

/**
 * The best rule of the routes for the request. A rule without matches matches every request as a
 * "/" prefix. Routes are taken in name order; a tie between two routes would be decided by their
 * creation time, which rendered objects do not have, so it is said rather than guessed.
 */
function choose(routes: readonly K8sObject[], c: SimCase): Chosen | undefined {
  const [earlier, recent] = ORDERS.map((order) => chooseBy(routes, c, order));
  if (earlier?.rule !== recent?.rule)
    unsupported(
      'the HTTPRoute rule chosen depends on the Linkerd release: earlier proxies rank a method match after headers and query parameters, recent ones before them',
    );
  return recent;
}

function chooseBy(
  routes: readonly K8sObject[],
  c: SimCase,
  compareRank: (a: Rank, b: Rank) => number,
): Chosen | undefined {
  let best: Chosen | undefined;
  let tiedAcrossRoutes = false;
  for (const route of [...routes].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  )) {
    for (const rule of list(route.spec['rules'])) {
      const ms = Array.isArray(rule['matches']) ? list(rule['matches']) : [{}];
      for (const m of ms) {
        const rank = rankOf(m, c);
        if (!rank) continue;
        const cmp = best ? compareRank(rank, best.rank) : 1;
        if (cmp > 0) {
          best = { route, rule, rank };
          tiedAcrossRoutes = false;
        } else if (cmp === 0 && best!.route !== route) tiedAcrossRoutes = true;
      }
    }
  }
  if (best && tiedAcrossRoutes)
    unsupported(
      `HTTPRoutes tie for this request at the same precedence; Linkerd would take the oldest, and rendered objects have no creation time`,
    );
  return best;
}

function modifier(v: unknown): HeaderOps {
  if (!isObj(v)) return { set: [], add: [], remove: [] };
  onlyKnown(v, ['set', 'add', 'remove'], 'a header modifier');
  const pairs = (x: unknown) => list(x).map((h) => [String(h['name']), String(h['value'])] as const);
  return {
    set: pairs(v['set']),
    add: pairs(v['add']),
    remove: Array.isArray(v['remove']) ? v['remove'].map(String) : [],
  };
}

/** The filters Linkerd's policy controller cannot convert (it bails on them). */
const REFUSED_FILTERS = ['URLRewrite', 'RequestMirror', 'ExtensionRef'];

/**
 * An HTTPRoute with a filter Linkerd refuses, on a rule or a backendRef: the policy controller fails
 * to convert the route, logs "failed to convert route" and leaves the whole route out of the Service's
 * outbound policy (policy-controller/k8s/index/src/outbound/index.rs, Namespace::apply). The request is
 * routed as if the route did not exist: by the Service's other routes, or its default route.
 */
function refused(route: K8sObject): boolean {
  return list(route.spec['rules']).some((rule) =>
    [rule, ...list(rule['backendRefs'])].some((x) =>
      list(x['filters']).some((f) => REFUSED_FILTERS.includes(str(f['type']) ?? '')),
    ),
  );
}

function filters(v: unknown): { request: HeaderOps; response: HeaderOps } {
  let request: HeaderOps = { set: [], add: [], remove: [] };
  let response: HeaderOps = { set: [], add: [], remove: [] };
  for (const f of list(v)) {
    const type = str(f['type']);
    if (type === 'RequestHeaderModifier') request = modifier(f['requestHeaderModifier']);
    else if (type === 'ResponseHeaderModifier') response = modifier(f['responseHeaderModifier']);
    else unsupported(`the ${String(type)} filter is not simulated`);
  }
  return { request, response };
}

/**
 * The annotations' retries. Linkerd retries on the listed response statuses and on a try that runs past
 * retry.linkerd.io/timeout; a connection error is the load balancer's concern, not a retry's.
 */
function retryPolicy(a: Readonly<Record<string, string>>): RetryPolicy | undefined {
  const http = a['retry.linkerd.io/http'];
  const limit = a['retry.linkerd.io/limit'];
  const timeout = a['retry.linkerd.io/timeout'];
  if (http === undefined && limit === undefined && timeout === undefined) return undefined;
  const attempts = limit !== undefined ? Number(limit) : 1;
  if (!attempts) return undefined;
  const conditions = (http ?? '').split(',').filter(Boolean);
  const onStatus = (s: number): boolean => {
    if (http === undefined)
      return unsupported('retries without retry.linkerd.io/http: the statuses retried are Linkerd defaults');
    return conditions.some((c) => {
      if (c === '5xx') return s >= 500 && s <= 599;
      if (c === 'gateway-error') return s >= 502 && s <= 504;
      const range = /^(\d+)-(\d+)$/.exec(c);
      if (range) return s >= Number(range[1]) && s <= Number(range[2]);
      if (/^\d+$/.test(c)) return s === Number(c);
      return unsupported(`retry condition ${c}`);
    });
  };
  return {
    attempts,
    perTryTimeoutMs: durationMs(timeout, 'retry.linkerd.io/timeout'),
    onStatus,
    onReset: false,
    onPerTryTimeout: true,
  };
}

interface World {
  readonly objects: readonly K8sObject[];
  readonly services: readonly K8sObject[];
}

const selectorOf = (o: K8sObject): Obj => (isObj(o.spec['selector']) ? o.spec['selector'] : {});

/** A backendRef's Service as a mesh backend and version (per-version Services carry meshgen.io/version). */
function destinationOf(w: World, ref: Obj, ns: string, routeWeight: number): Destination {
  onlyKnown(ref, ['name', 'namespace', 'port', 'weight', 'group', 'kind', 'filters'], 'a backendRef');
  if (ref['filters'] !== undefined) unsupported('backendRef filters are not simulated');
  const name = String(ref['name']);
  const svc = w.services.find((s) => s.name === name && s.namespace === (str(ref['namespace']) ?? ns));
  if (!svc)
    return unsupported(
      `backendRef ${name} names no rendered Service (Linkerd answers such a backend with an error)`,
    );
  const weight = typeof ref['weight'] === 'number' ? ref['weight'] : routeWeight;
  const version = svc.labels[VERSION_LABEL];
  const app = String(selectorOf(svc)['app'] ?? svc.name);
  if (version !== undefined) return { backend: app, version, weight };
  const pool = w.services
    .filter((s) => s.labels[VERSION_LABEL] !== undefined && selectorOf(s)['app'] === app)
    .map((s) => s.labels[VERSION_LABEL]!);
  return { backend: svc.name, pool, weight };
}

/** The caller's proxy identity: `<serviceAccount>.<namespace>.serviceaccount.identity.linkerd.<trustDomain>`. */
function callerIdentity(w: World, caller: K8sObject): string {
  // The objects say nothing of which service account a backend's pods run as; the mesh's default is
  // the backend's name. Where an identity names a service account of the caller's namespace that is
  // no backend's name, some backend runs as another account and the caller's cannot be told.
  // (a frontend's Gateway pods run as the frontend's name: those accounts are no backend's)
  const names = new Set(
    w.objects
      .filter((o) => (o.kind === 'Service' || o.kind === 'Gateway') && o.namespace === caller.namespace)
      .map((o) => o.name),
  );
  for (const o of w.objects)
    if (o.kind === 'MeshTLSAuthentication')
      for (const id of Array.isArray(o.spec['identities']) ? o.spec['identities'].map(String) : []) {
        const [sa, ns] = id.split('.');
        if (ns === caller.namespace && sa !== undefined && sa !== '*' && !names.has(sa))
          unsupported(
            `identity ${id} names a service account that is no backend's name: which account "${caller.name}" runs as is not in the objects`,
          );
      }
  return `${caller.name}.${caller.namespace}.serviceaccount.identity.linkerd`;
}

function identityMatches(pattern: string, identity: string): boolean {
  if (pattern === '*') return true;
  // identities are written with the trust domain, which the installation sets: compare up to it
  const withoutDomain = pattern.replace(
    /\.serviceaccount\.identity\.linkerd\..*$/,
    '.serviceaccount.identity.linkerd',
  );
  if (withoutDomain.startsWith('*.')) return identity.endsWith(withoutDomain.slice(1));
  return withoutDomain === identity;
}

const ALLOWING: Record<string, boolean> = {
  'all-unauthenticated': true,
  'cluster-unauthenticated': true,
  'all-authenticated': true, // the caller is a meshed pod with an identity
  'cluster-authenticated': true,
  audit: true,
  deny: false,
};

function defaultPolicy(value: string | undefined, where: string): boolean {
  if (value === undefined)
    return unsupported(
      `${where}: the cluster's default inbound policy decides, which the objects do not say`,
    );
  const allow = ALLOWING[value];
  if (allow === undefined) return unsupported(`${where}: inbound policy ${value}`);
  return allow;
}

/**
 * The called pod's inbound policy (https://linkerd.io/2/reference/authorization-policy/): without a
 * Server, the namespace's default inbound policy; with one, its policy routes (a request none matches
 * gets 404), the AuthorizationPolicies on the Server or the matched route, then the Server's accessPolicy.
 */
function inbound(w: World, c: SimCase, to: K8sObject, identity: string): SimResult | undefined {
  const pods = selectorOf(to);
  const port = list(to.spec['ports'])[0];
  const server = w.objects.find((o) => {
    if (o.kind !== 'Server' || o.namespace !== to.namespace) return false;
    const sel =
      isObj(o.spec['podSelector']) && isObj(o.spec['podSelector']['matchLabels'])
        ? o.spec['podSelector']['matchLabels']
        : {};
    const portOk =
      o.spec['port'] === port?.['targetPort'] ||
      o.spec['port'] === port?.['port'] ||
      o.spec['port'] === port?.['name'];
    return portOk && Object.entries(sel).every(([k, v]) => pods[k] === v);
  });
  if (!server) {
    const ns = w.objects.find((o) => o.kind === 'Namespace' && o.name === to.namespace);
    return defaultPolicy(
      ns?.annotations['config.linkerd.io/default-inbound-policy'],
      `no Server selects "${to.name}"`,
    )
      ? undefined
      : denied(403);
  }
  const routes = w.objects.filter(
    (o) =>
      o.kind === 'HTTPRoute' &&
      list(o.spec['parentRefs']).some((p) => p['kind'] === 'Server' && p['name'] === server.name),
  );
  let matched: K8sObject | undefined;
  if (routes.length) {
    const chosen = choose(routes, c);
    if (!chosen) return notFound;
    matched = chosen.route;
  }
  const policies = w.objects.filter((o) => {
    if (o.kind !== 'AuthorizationPolicy' || o.namespace !== server.namespace) return false;
    const t = isObj(o.spec['targetRef']) ? o.spec['targetRef'] : {};
    return (
      (t['kind'] === 'Server' && t['name'] === server.name) ||
      (t['kind'] === 'HTTPRoute' && matched !== undefined && t['name'] === matched.name) ||
      t['kind'] === 'Namespace'
    );
  });
  const authorizes = (p: K8sObject) =>
    list(p.spec['requiredAuthenticationRefs']).every((ref) => {
      if (ref['kind'] === 'ServiceAccount')
        return (
          `${String(ref['name'])}.${str(ref['namespace']) ?? p.namespace}.serviceaccount.identity.linkerd` ===
          identity
        );
      if (ref['kind'] !== 'MeshTLSAuthentication')
        return unsupported(`authentication kind ${String(ref['kind'])}`);
      const authn = w.objects.find(
        (o) =>
          o.kind === 'MeshTLSAuthentication' &&
          o.name === ref['name'] &&
          o.namespace === (str(ref['namespace']) ?? p.namespace),
      );
      if (!authn) return false;
      onlyKnown(authn.spec, ['identities', 'identityRefs'], `MeshTLSAuthentication ${authn.name}`);
      const ids = Array.isArray(authn.spec['identities']) ? authn.spec['identities'].map(String) : [];
      const refs = list(authn.spec['identityRefs']).map(
        (r) =>
          `${String(r['name'])}.${str(r['namespace']) ?? authn.namespace}.serviceaccount.identity.linkerd`,
      );
      return ids.some((id) => identityMatches(id, identity)) || refs.includes(identity);
    });
  if (policies.some(authorizes)) return undefined;
  return defaultPolicy(str(server.spec['accessPolicy']) ?? 'deny', `Server ${server.name}`)
    ? undefined
    : denied(403);
}

function simulate(files: Parameters<Simulator>[0], c: SimCase): SimResult {
  const entry = c.entry;
  if (!('caller' in entry))
    return unsupported(
      'frontend traffic is routed by the Gateway API implementation of the Gateway class, not by Linkerd: only east-west traffic is simulated',
    );
  const objects = readObjects(files);
  const services = objects.filter((o) => o.kind === 'Service');
  const w: World = { objects, services };
  const caller = services.find((s) => s.name === entry.caller && s.labels[VERSION_LABEL] === undefined);
  if (!caller) return unsupported(`caller "${entry.caller}" is no Service of the rendered mesh`);
  const fqdn = serviceFqdn(hostOnly(c.host), caller.namespace);
  const svc = services.find((s) => `${s.name}.${s.namespace}.svc.cluster.local` === fqdn);
  if (!svc) return unsupported(`host ${c.host} is no Service of the rendered mesh`);
  const port = list(svc.spec['ports'])[0];
  if (str(port?.['appProtocol'])?.includes('opaque'))
    unsupported(`${svc.name} is an opaque (TCP) port: only HTTP routing is simulated`);
  if (
    objects.some(
      (o) => o.kind === 'TCPRoute' && list(o.spec['parentRefs']).some((p) => p['name'] === svc.name),
    )
  )
    unsupported(`${svc.name} has TCP routes: only HTTP routing is simulated`);
  const routes = objects.filter(
    (o) =>
      o.kind === 'HTTPRoute' &&
      !refused(o) &&
      list(o.spec['parentRefs']).some(
        (p) =>
          p['kind'] === 'Service' &&
          p['name'] === svc.name &&
          (str(p['namespace']) ?? o.namespace) === svc.namespace &&
          (p['port'] === undefined || p['port'] === port?.['port']),
      ),
  );
  const identity = callerIdentity(w, caller);
  const headers: Record<string, string> = { ...c.headers, host: c.host };
  if (!routes.length) {
    // no route: Linkerd's default route to the Service itself
    const d = destinationOf(w, { name: svc.name, namespace: svc.namespace }, svc.namespace, 1);
    const verdict = inbound(w, c, svc, identity);
    if (verdict) return verdict;
    return observe(
      c,
      {
        destinations: [d],
        policy: {},
        path: pathWithQuery(c.path, c.query),
        requestHeaders: headers,
        responseOps: { set: [], add: [], remove: [] },
      },
      SIDECAR,
    );
  }
  const chosen = choose(routes, c);
  // routes attach to the Service and none matches: the proxy answers 404 "no route found for request"
  // (linkerd2-proxy PR 2109: "if no route in an HTTPRoute matches a request, a 404 error must be returned")
  if (!chosen) return notFound;
  const { route, rule } = chosen;
  onlyKnown(route.spec, ['parentRefs', 'rules'], `HTTPRoute ${route.name}`);
  onlyKnown(
    rule,
    ['name', 'matches', 'filters', 'backendRefs', 'timeouts'],
    `a rule of HTTPRoute ${route.name}`,
  );
  const ops = filters(rule['filters']);
  applyOps(headers, ops.request);
  const timeouts = isObj(rule['timeouts']) ? rule['timeouts'] : {};
  onlyKnown(timeouts, ['request'], `the timeouts of HTTPRoute ${route.name}`);
  const timeoutMs =
    durationMs(timeouts['request'], 'timeouts.request') ??
    durationMs(route.annotations['timeout.linkerd.io/request'], 'timeout.linkerd.io/request');
  for (const a of ['timeout.linkerd.io/response', 'timeout.linkerd.io/idle'])
    if (route.annotations[a] !== undefined) unsupported(`the ${a} annotation is not simulated`);
  const refs = list(rule['backendRefs']);
  if (!refs.length) unsupported(`a rule of HTTPRoute ${route.name} has no backendRefs`);
  // a backendRef without weight weighs 1 (Gateway API)
  const destinations = refs.map((r) => destinationOf(w, r, route.namespace, 1));
  const verdicts = new Set(
    destinations
      .filter((d) => d.weight > 0)
      .map((d) =>
        JSON.stringify(
          inbound(
            w,
            c,
            services.find((s) => s.name === d.backend && s.labels[VERSION_LABEL] === undefined) ?? svc,
            identity,
          ) ?? null,
        ),
      ),
  );
  if (verdicts.size > 1)
    unsupported(
      'the destinations of the split have different inbound policies: which one decides the first request is chance',
    );
  const verdict = JSON.parse([...verdicts][0] ?? 'null') as SimResult | null;
  if (verdict) return verdict;
  return observe(
    c,
    {
      destinations,
      policy: { timeoutMs, retries: retryPolicy(route.annotations) },
      path: pathWithQuery(c.path, c.query),
      requestHeaders: headers,
      responseOps: ops.response,
    },
    SIDECAR,
  );
}

/** The Linkerd simulator. */
export const simulateLinkerd: Simulator = (files, c) => guarded(() => simulate(files, c));
