/**
 * Istio, simulated: a case goes through the VirtualServices, DestinationRules, AuthorizationPolicies
 * and PeerAuthentications the istio target rendered, by the rules of Istio's reference:
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/ (first matching
 * HTTPRoute, HTTPMatchRequest, HTTPRewrite, HTTPRetry, Headers, HTTPFaultInjection),
 * https://istio.io/latest/docs/reference/config/networking/destination-rule/ (subsets, tls),
 * https://istio.io/latest/docs/reference/config/security/authorization-policy/ (DENY before ALLOW;
 * with an ALLOW policy, a request no rule matches is denied) and
 * https://istio.io/latest/docs/reference/config/security/peer_authentication/ (STRICT refuses plain text).
 */
import {
  durationMs,
  fullMatch,
  guarded,
  hostMatches,
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
  denied,
  applyOps,
  type Destination,
  type HeaderOps,
  type K8sObject,
  type Obj,
  type RetryPolicy,
  type Sidecar,
} from './common.js';
import type { SimCase, SimResult, Simulator } from './types.js';

const SIDECAR: Sidecar = {
  system: 'Istio',
  // Envoy answers a reset before the response with 503 ("upstream connect error or disconnect/reset
  // before headers") and a route or per-try timeout with 504 ("upstream request timeout")
  resetStatus: 503,
  timeoutStatus: 504,
  // Envoy picks a weighted cluster once per request; retries stay in it
  retryRechoosesSplit: false,
};

interface World {
  readonly objects: readonly K8sObject[];
  readonly services: ReadonlyMap<string, K8sObject>; // by FQDN
}

const fqdnOf = (o: K8sObject) => `${o.name}.${o.namespace}.svc.cluster.local`;

/** `string` matches of HTTPMatchRequest: exact, prefix, regex (RE2, whole value). */
function stringMatch(m: unknown, value: string | undefined, what: string): boolean {
  if (!isObj(m)) return unsupported(`${what}: a match that is not an object`);
  onlyKnown(m, ['exact', 'prefix', 'regex'], what);
  if (value === undefined) return false;
  if (typeof m['exact'] === 'string') return value === m['exact'];
  if (typeof m['prefix'] === 'string') return value.startsWith(m['prefix']);
  if (typeof m['regex'] === 'string') return fullMatch(m['regex'], value);
  return unsupported(`${what}: an empty string match`);
}

function matches(m: Obj, c: SimCase, gateway: string | undefined, i: number): boolean {
  const what = `match ${i}`;
  onlyKnown(
    m,
    ['name', 'uri', 'method', 'headers', 'queryParams', 'ignoreUriCase', 'gateways', 'port'],
    what,
  );
  const lower = m['ignoreUriCase'] === true;
  if (m['uri'] !== undefined) {
    const uri = isObj(m['uri']) && lower ? lowerMatch(m['uri']) : m['uri'];
    if (!stringMatch(uri, lower ? c.path.toLowerCase() : c.path, `${what} uri`)) return false;
  }
  if (m['method'] !== undefined && !stringMatch(m['method'], c.method, `${what} method`)) return false;
  if (isObj(m['headers']))
    for (const [name, hm] of Object.entries(m['headers']))
      if (!stringMatch(hm, c.headers[name.toLowerCase()], `${what} header ${name}`)) return false;
  if (isObj(m['queryParams']))
    for (const [name, qm] of Object.entries(m['queryParams'])) {
      // Istio documents exact and regex for query parameters; prefix "is not supported"
      if (isObj(qm) && qm['prefix'] !== undefined) unsupported(`${what}: a prefix query parameter match`);
      if (!stringMatch(qm, c.query[name], `${what} query parameter ${name}`)) return false;
    }
  if (Array.isArray(m['gateways']) && !m['gateways'].includes(gateway ?? 'mesh')) return false;
  if (m['port'] !== undefined) unsupported(`${what}: a port match`);
  return true;
}

function lowerMatch(m: Obj): Obj {
  return Object.fromEntries(
    Object.entries(m).map(([k, v]) => [k, k === 'regex' || typeof v !== 'string' ? v : v.toLowerCase()]),
  );
}

function headerOps(v: unknown): HeaderOps {
  if (v === undefined) return { set: [], add: [], remove: [] };
  if (!isObj(v)) return unsupported('header operations that are not an object');
  onlyKnown(v, ['set', 'add', 'remove'], 'header operations');
  const pairs = (x: unknown) =>
    isObj(x) ? Object.entries(x).map(([n, s]) => [n, String(s).replace(/%%/g, '%')] as const) : [];
  return {
    set: pairs(v['set']),
    add: pairs(v['add']),
    remove: Array.isArray(v['remove']) ? v['remove'].map(String) : [],
  };
}

/**
 * HTTPRetry: `attempts` retries; `retryOn` Envoy's x-envoy-retry-on conditions, where a number is a
 * retriable status code. Without `retries`, Istio's default policy applies: 2 retries on connection
 * failures, refused streams and (in some releases) 503; the emitter always writes `retries`.
 */
function retryPolicy(v: unknown, c: SimCase): RetryPolicy | undefined {
  if (v === undefined) {
    const b = Object.values(c.backends);
    if (b.some((x) => x.reset || x.failStatus === 503 || x.status === 503 || x.failFirst))
      unsupported(
        `the route has no retries field, so Istio's default retry policy applies, whose retried statuses differ between releases`,
      );
    return undefined;
  }
  if (!isObj(v)) return unsupported('retries that are not an object');
  onlyKnown(v, ['attempts', 'perTryTimeout', 'retryOn'], 'retries');
  const attempts = typeof v['attempts'] === 'number' ? v['attempts'] : 2;
  if (attempts === 0) return undefined;
  // without retryOn the default policy's conditions stay, and its retriable status codes with them:
  // [503] in earlier releases, none in recent ones (pilot/pkg/networking/core/route/retry/retry.go)
  if (
    str(v['retryOn']) === undefined &&
    Object.values(c.backends).some((x) => (x.failFirst && (x.failStatus ?? 503) === 503) || x.status === 503)
  )
    unsupported(
      "the route's retries have no retryOn, so Istio's default conditions apply, and whether they retry a 503 differs between releases",
    );
  const on = new Set(
    (
      str(v['retryOn']) ?? 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes'
    ).split(','),
  );
  const codes = new Set([...on].filter((x) => /^\d+$/.test(x)).map(Number));
  const gateway = on.has('gateway-error');
  const any5xx = on.has('5xx');
  return {
    attempts,
    perTryTimeoutMs: durationMs(v['perTryTimeout'], 'perTryTimeout'),
    onStatus: (s) =>
      (any5xx && s >= 500) ||
      (gateway && [502, 503, 504].includes(s)) ||
      (on.has('retriable-4xx') && s === 409) ||
      codes.has(s),
    // https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
    onReset: any5xx || gateway || on.has('reset'),
    onPerTryTimeout: any5xx || gateway || on.has('reset'),
  };
}

/** The VirtualServices that serve a host, for a gateway ("ns/name") or the mesh's sidecars. */
function virtualServices(w: World, gateway: string | undefined, host: string): K8sObject[] {
  return w.objects.filter((o) => {
    if (o.kind !== 'VirtualService') return false;
    const gws = Array.isArray(o.spec['gateways']) ? o.spec['gateways'].map(String) : ['mesh'];
    const bound =
      gateway === undefined
        ? gws.includes('mesh')
        : gws.some((g) => (g.includes('/') ? g : `${o.namespace}/${g}`) === gateway);
    if (!bound) return false;
    const hosts = Array.isArray(o.spec['hosts']) ? o.spec['hosts'].map(String) : [];
    // a short host in a VirtualService is read in the VirtualService's namespace
    return hosts.some((h) =>
      hostMatches(gateway === undefined && !h.includes('*') ? serviceFqdn(h, o.namespace) : h, host),
    );
  });
}

/** Which version a DestinationRule subset is, by the pods it selects. */
function destination(w: World, d: Obj, weight: number): Destination {
  const host = serviceFqdn(str(d['host']) ?? '', 'default');
  const svc =
    w.services.get(host) ?? unsupported(`destination host ${host} is no Service of the rendered mesh`);
  const backend = svc.name;
  const rule = w.objects.find(
    (o) => o.kind === 'DestinationRule' && serviceFqdn(str(o.spec['host']) ?? '', o.namespace) === host,
  );
  const subsets = list(rule?.spec['subsets']).map((s) => str(s['name']) ?? '');
  const subset = str(d['subset']);
  if (subset !== undefined && !subsets.includes(subset))
    unsupported(`subset "${subset}" of ${host} is in no DestinationRule: Envoy would have no cluster for it`);
  return subset !== undefined ? { backend, version: subset, weight } : { backend, pool: subsets, weight };
}

/** The identity a caller's sidecar presents: its service account (Istio writes one per backend). */
function callerPrincipal(w: World, caller: string): { namespace: string; sa: string } {
  const svc =
    [...w.services.values()].find((s) => s.name === caller) ??
    unsupported(`caller "${caller}" is no Service of the rendered mesh`);
  const sa = w.objects.find(
    (o) => o.kind === 'ServiceAccount' && o.name === caller && o.namespace === svc.namespace,
  );
  if (!sa)
    unsupported(
      `no ServiceAccount named "${caller}" is rendered, so the identity of its pods is not known here`,
    );
  return { namespace: svc.namespace, sa: caller };
}

function selects(o: K8sObject, backend: K8sObject): boolean {
  const sel = isObj(o.spec['selector']) ? o.spec['selector'] : undefined;
  if (!sel) return o.namespace === backend.namespace;
  const want = isObj(sel['matchLabels']) ? sel['matchLabels'] : {};
  const pods = isObj(backend.spec['selector']) ? backend.spec['selector'] : {};
  return o.namespace === backend.namespace && Object.entries(want).every(([k, v]) => pods[k] === v);
}

/**
 * mTLS and authorization at the destination's sidecar. The caller's side speaks mTLS unless the
 * destination's DestinationRule says `tls.mode: DISABLE`; a STRICT destination refuses plain text and
 * a DISABLE one refuses mTLS (the caller sees the connection fail: 503). Then DENY policies, then ALLOW
 * policies: with at least one ALLOW policy, a request that none matches gets 403 (RBAC: access denied).
 */
function access(w: World, c: SimCase, to: K8sObject, principal: string | undefined): SimResult | undefined {
  const rule = w.objects.find(
    (o) => o.kind === 'DestinationRule' && serviceFqdn(str(o.spec['host']) ?? '', o.namespace) === fqdnOf(to),
  );
  const tls = isObj(rule?.spec['trafficPolicy']) ? (rule!.spec['trafficPolicy'] as Obj)['tls'] : undefined;
  const clientMode = isObj(tls) ? str(tls['mode']) : undefined;
  const peers = w.objects.filter((o) => o.kind === 'PeerAuthentication' && selects(o, to));
  const own =
    peers.find((p) => p.spec['selector'] !== undefined) ??
    peers.find((p) => p.spec['selector'] === undefined);
  const serverMode = isObj(own?.spec['mtls']) ? str((own!.spec['mtls'] as Obj)['mode']) : undefined;
  const mtls = clientMode !== 'DISABLE';
  if (!mtls && serverMode === 'STRICT') return denied(503);
  if (mtls && clientMode === 'ISTIO_MUTUAL' && serverMode === 'DISABLE') return denied(503);
  const peer = mtls ? principal : undefined;
  const policies = w.objects.filter((o) => o.kind === 'AuthorizationPolicy' && selects(o, to));
  const matchesRule = (r: Obj) => ruleMatches(r, c, peer);
  for (const p of policies) {
    const action = str(p.spec['action']) ?? 'ALLOW';
    if (action !== 'ALLOW' && action !== 'DENY')
      unsupported(`AuthorizationPolicy ${p.name} has action ${action}`);
    onlyKnown(p.spec, ['selector', 'action', 'rules'], `AuthorizationPolicy ${p.name}`);
  }
  if (policies.some((p) => p.spec['action'] === 'DENY' && list(p.spec['rules']).some(matchesRule)))
    return denied(403);
  const allows = policies.filter((p) => (str(p.spec['action']) ?? 'ALLOW') === 'ALLOW');
  if (allows.length && !allows.some((p) => list(p.spec['rules']).some(matchesRule))) return denied(403);
  return undefined;
}

/** Istio's path and principal patterns: exact, "prefix*", "*suffix", or "*". */
function pattern(p: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (p === '*') return true;
  if (p.endsWith('*')) return value.startsWith(p.slice(0, -1));
  if (p.startsWith('*')) return value.endsWith(p.slice(1));
  return p === value;
}

/**
 * Principals are `<trustDomain>/ns/<ns>/sa/<sa>`; the trust domain is the installation's, which the
 * objects do not carry, so it is taken to be the one the policies name.
 */
function withoutTrustDomain(p: string): string {
  return p === '*' ? p : p.replace(/^[^/]*\/(?=ns\/)/, '');
}

function ruleMatches(r: Obj, c: SimCase, principal: string | undefined): boolean {
  onlyKnown(r, ['from', 'to'], 'an authorization rule');
  const sources = list(r['from']).map((f) => (isObj(f['source']) ? f['source'] : {}));
  for (const s of sources) onlyKnown(s, ['principals'], 'an authorization source');
  const ops = list(r['to']).map((t) => (isObj(t['operation']) ? t['operation'] : {}));
  for (const o of ops) onlyKnown(o, ['paths', 'methods'], 'an authorization operation');
  const fromOk =
    !sources.length ||
    sources.some(
      (s) =>
        !Array.isArray(s['principals']) ||
        s['principals'].some((p) => pattern(withoutTrustDomain(String(p)), principal)),
    );
  const toOk =
    !ops.length ||
    ops.some(
      (o) =>
        (!Array.isArray(o['paths']) || o['paths'].some((p) => pattern(String(p), c.path))) &&
        (!Array.isArray(o['methods']) || o['methods'].includes(c.method)),
    );
  return fromOk && toOk;
}

function simulate(files: Parameters<Simulator>[0], c: SimCase): SimResult {
  const objects = readObjects(files);
  const services = new Map(objects.filter((o) => o.kind === 'Service').map((o) => [fqdnOf(o), o] as const));
  const w: World = { objects, services };
  const host = hostOnly(c.host);
  let gateway: string | undefined;
  let principal: string | undefined;
  let vsHost = host;
  if ('frontend' in c.entry) {
    const name = c.entry.frontend;
    const gw =
      objects.find((o) => o.kind === 'Gateway' && o.name === name) ??
      unsupported(`no Istio Gateway "${name}" is rendered`);
    const servers = list(gw.spec['servers']);
    const server = servers.find((s) =>
      (Array.isArray(s['hosts']) ? s['hosts'] : []).some((h) =>
        hostMatches(String(h).replace(/^[^/]*\//, ''), host),
      ),
    );
    if (!server) return notFound;
    const protocol = isObj(server['port']) ? str(server['port']['protocol']) : undefined;
    if (protocol !== 'HTTP' && protocol !== 'HTTPS')
      unsupported(`Gateway server protocol ${protocol}: only HTTP routing is simulated`);
    if ((protocol === 'HTTPS') !== (c.scheme === 'https'))
      unsupported(
        `the Gateway server speaks ${protocol} and the case sends ${c.scheme}: the connection fails before any route`,
      );
    if (isObj(server['tls']) && server['tls']['mode'] === 'MUTUAL')
      unsupported(
        'the Gateway server requires client certificates (tls mode MUTUAL), which this simulation does not model',
      );
    gateway = `${gw.namespace}/${gw.name}`;
    // the gateway's pods call backends as the frontend's service account (the emitter's default)
    principal = `ns/${gw.namespace}/sa/${name}`;
  } else {
    const who = callerPrincipal(w, c.entry.caller);
    principal = `ns/${who.namespace}/sa/${who.sa}`;
    vsHost = serviceFqdn(host, who.namespace);
    const svc =
      services.get(vsHost) ??
      unsupported(`host ${host} is no Service of the mesh: Istio would pass it through, outside any route`);
    const port = list(svc.spec['ports'])[0];
    if (port && str(port['appProtocol']) === 'tcp')
      unsupported(`${svc.name} is a TCP service: only HTTP routing is simulated`);
  }
  const vss = virtualServices(w, gateway, vsHost);
  if (vss.length > 1)
    unsupported(
      `several VirtualServices (${vss.map((v) => v.name).join(', ')}) serve ${vsHost}: Istio merges them in an order this simulation does not model`,
    );
  const vs = vss[0];
  if (!vs) {
    if (gateway !== undefined) return notFound;
    // no VirtualService: Istio's default route, to every endpoint of the Service
    const d = destination(w, { host: vsHost }, 100);
    return finish(w, c, principal, {
      destinations: [d],
      // the mesh's default retry policy applies, as to a route without `retries`
      retries: retryPolicy(undefined, c),
      path: pathWithQuery(c.path, c.query),
      headers: { ...c.headers, host: c.host },
      responseOps: { set: [], add: [], remove: [] },
    });
  }
  onlyKnown(vs.spec, ['hosts', 'gateways', 'http', 'tcp', 'tls', 'exportTo'], `VirtualService ${vs.name}`);
  const http = list(vs.spec['http']);
  const route = http.find((r, i) => {
    const ms = list(r['match']);
    return !Array.isArray(r['match']) || ms.some((m, j) => matches(m, c, gateway, i * 100 + j));
  });
  // no HTTPRoute accepts the request: Envoy's 404 (NR)
  if (!route) return notFound;
  onlyKnown(
    route,
    [
      'name',
      'match',
      'route',
      'rewrite',
      'headers',
      'retries',
      'timeout',
      'fault',
      'mirror',
      'mirrorPercentage',
    ],
    `HTTPRoute ${str(route['name']) ?? ''}`,
  );
  const matched = list(route['match']).find((m, j) => matches(m, c, gateway, j));
  let path = c.path;
  const headers: Record<string, string> = { ...c.headers, host: c.host };
  if (isObj(route['rewrite'])) {
    const rw = route['rewrite'];
    onlyKnown(rw, ['uri', 'authority'], 'rewrite');
    if (typeof rw['uri'] === 'string') {
      // "If the original URI was matched based on prefix, the value provided in this field will
      // replace the corresponding matched prefix"; otherwise the whole path
      const uri = matched && isObj(matched['uri']) ? matched['uri'] : undefined;
      if (uri && typeof uri['prefix'] === 'string') path = rw['uri'] + path.slice(uri['prefix'].length);
      else path = rw['uri'];
    }
    if (typeof rw['authority'] === 'string') headers['host'] = rw['authority'];
  }
  const ops = isObj(route['headers']) ? route['headers'] : {};
  applyOps(headers, headerOps(ops['request']));
  // fault injection runs before the router, in the caller's sidecar: an abort for every request never
  // reaches a backend and is not retried; a delay does not count against the route's timeout. The
  // route keeps its retries and timeout (istio pilot/pkg/networking/core/route/route.go: the fault is
  // a per-route filter config beside the RouteAction's RetryPolicy and Timeout)
  if (isObj(route['fault'])) {
    const f = route['fault'];
    onlyKnown(f, ['abort', 'delay'], 'fault');
    if (isObj(f['abort'])) {
      const pct = isObj(f['abort']['percentage']) ? Number(f['abort']['percentage']['value']) : 100;
      if (pct >= 100) return { kind: 'observed', status: Number(f['abort']['httpStatus']) };
      if (pct > 0)
        unsupported(`a fault abort of ${pct}% of requests: whether the first request is aborted is chance`);
    }
  }
  const destinations = list(route['route']).map((r) =>
    destination(
      w,
      isObj(r['destination']) ? r['destination'] : {},
      typeof r['weight'] === 'number' ? r['weight'] : list(route['route']).length === 1 ? 100 : 0,
    ),
  );
  return finish(w, c, principal, {
    destinations,
    retries: retryPolicy(route['retries'], c),
    timeoutMs: durationMs(route['timeout'], 'timeout'),
    path: pathWithQuery(path, c.query),
    headers,
    responseOps: headerOps(ops['response']),
  });
}

interface Decided {
  readonly destinations: readonly Destination[];
  readonly retries?: RetryPolicy;
  readonly timeoutMs?: number;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly responseOps: HeaderOps;
}

function finish(w: World, c: SimCase, principal: string | undefined, d: Decided): SimResult {
  // access is decided at each destination's sidecar; with a split over backends of different
  // policies the outcome of the first request would be chance
  const verdicts = new Set<string>();
  let verdict: SimResult | undefined;
  for (const dest of d.destinations.filter((x) => x.weight > 0)) {
    const svc = [...w.services.values()].find((s) => s.name === dest.backend)!;
    const v = access(w, c, svc, principal);
    verdicts.add(JSON.stringify(v ?? null));
    verdict = v;
  }
  if (verdicts.size > 1)
    unsupported(
      'the destinations of the split have different access rules: which one decides the first request is chance',
    );
  if (verdict) return verdict;
  return observe(
    c,
    {
      destinations: d.destinations,
      policy: { retries: d.retries, timeoutMs: d.timeoutMs },
      path: d.path,
      requestHeaders: d.headers,
      responseOps: d.responseOps,
    },
    SIDECAR,
  );
}

/** The Istio simulator. */
export const simulateIstio: Simulator = (files, c) => guarded(() => simulate(files, c));
