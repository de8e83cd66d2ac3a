/**
 * Consul, simulated: a case goes through the discovery chain the consul target rendered (CRD flavour),
 * by Consul's documented rules:
 * https://developer.hashicorp.com/consul/docs/connect/config-entries/service-router (routes in order,
 * the first match wins; a request no route matches takes the implicit default route to the service
 * itself; `PrefixRewrite`, `RequestTimeout`, `NumRetries`, `RetryOnConnectFailure`, `RetryOn`,
 * `RetryOnStatusCodes`, `RequestHeaders`/`ResponseHeaders`),
 * https://developer.hashicorp.com/consul/docs/connect/config-entries/service-splitter (weights, per
 * split header operations), https://developer.hashicorp.com/consul/docs/connect/config-entries/service-resolver
 * (subsets) and https://developer.hashicorp.com/consul/docs/connect/config-entries/service-intentions
 * (the most precise source wins; L7 permissions in order, the first match is terminal).
 */
import {
  applyOps,
  denied,
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
  system: 'Consul',
  // Consul's data plane is Envoy: 503 for a reset before the response, 504 for a route timeout
  resetStatus: 503,
  timeoutStatus: 504,
  // the splitter becomes Envoy weighted clusters, chosen once per request
  retryRechoosesSplit: false,
};

/**
 * Consul leaves the route timeout unset when `RequestTimeout` is, and Envoy's default route timeout
 * is 15s (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto,
 * RouteAction.timeout).
 */
const ENVOY_DEFAULT_TIMEOUT_MS = 15_000;

type Entries = ReadonlyMap<string, K8sObject>;

interface World {
  readonly routers: Entries;
  readonly splitters: Entries;
  readonly resolvers: Entries;
  readonly defaults: Entries;
  readonly intentions: readonly K8sObject[];
  readonly ingress: Entries;
}

const byName = (objects: readonly K8sObject[], kind: string): Entries =>
  new Map(objects.filter((o) => o.kind === kind).map((o) => [o.name, o] as const));

/** Header, query parameter and permission string matches: exact, prefix, suffix, regex, present, invert. */
function valueMatch(m: Obj, value: string | undefined, what: string): boolean {
  onlyKnown(m, ['name', 'exact', 'prefix', 'suffix', 'regex', 'present', 'invert'], what);
  let ok: boolean;
  if (typeof m['exact'] === 'string') ok = value === m['exact'];
  else if (typeof m['prefix'] === 'string') ok = value !== undefined && value.startsWith(m['prefix']);
  else if (typeof m['suffix'] === 'string') ok = value !== undefined && value.endsWith(m['suffix']);
  else if (typeof m['regex'] === 'string') ok = value !== undefined && fullMatch(m['regex'], value);
  else if (m['present'] === true) ok = value !== undefined;
  else return unsupported(`${what}: a match with no condition`);
  return m['invert'] === true ? !ok : ok;
}

/** `Match.HTTP` of a route, or `HTTP` of a permission. */
function httpMatches(h: Obj, c: SimCase, what: string): boolean {
  onlyKnown(h, ['pathExact', 'pathPrefix', 'pathRegex', 'methods', 'header', 'queryParam'], what);
  if (typeof h['pathExact'] === 'string' && c.path !== h['pathExact']) return false;
  if (typeof h['pathPrefix'] === 'string' && !c.path.startsWith(h['pathPrefix'])) return false;
  if (typeof h['pathRegex'] === 'string' && !fullMatch(h['pathRegex'], c.path)) return false;
  if (Array.isArray(h['methods']) && !h['methods'].includes(c.method)) return false;
  for (const m of list(h['header']))
    if (!valueMatch(m, c.headers[String(m['name']).toLowerCase()], `${what} header`)) return false;
  for (const m of list(h['queryParam']))
    if (!valueMatch(m, c.query[String(m['name'])], `${what} queryParam`)) return false;
  return true;
}

function headerOps(v: unknown): HeaderOps {
  if (!isObj(v)) return { set: [], add: [], remove: [] };
  onlyKnown(v, ['set', 'add', 'remove'], 'header operations');
  const pairs = (x: unknown) => (isObj(x) ? Object.entries(x).map(([n, s]) => [n, String(s)] as const) : []);
  return {
    set: pairs(v['set']),
    add: pairs(v['add']),
    remove: Array.isArray(v['remove']) ? v['remove'].map(String) : [],
  };
}

/**
 * A route destination's retries as Consul writes Envoy's retry policy: none unless a condition is
 * set; `NumRetries` 0 leaves Envoy's own default of one retry
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto, RetryPolicy.num_retries).
 */
function retryPolicy(d: Obj): RetryPolicy | undefined {
  const on = new Set(Array.isArray(d['retryOn']) ? d['retryOn'].map(String) : []);
  const codes = new Set(Array.isArray(d['retryOnStatusCodes']) ? d['retryOnStatusCodes'].map(Number) : []);
  if (d['retryOnConnectFailure'] === true) on.add('connect-failure');
  if (!on.size && !codes.size) return undefined;
  const n = typeof d['numRetries'] === 'number' && d['numRetries'] > 0 ? d['numRetries'] : 1;
  const any5xx = on.has('5xx');
  const gateway = on.has('gateway-error');
  return {
    attempts: n,
    onStatus: (s) =>
      (any5xx && s >= 500) ||
      (gateway && [502, 503, 504].includes(s)) ||
      (on.has('retriable-4xx') && s === 409) ||
      codes.has(s),
    onReset: any5xx || gateway || on.has('reset'),
    onPerTryTimeout: false,
  };
}

/** A resolver's subset: the version it names, checked against the resolver. */
function target(
  w: World,
  service: string,
  subset: string | undefined,
  weight: number,
  ops?: { req: HeaderOps; res: HeaderOps },
): Destination {
  const resolver = w.resolvers.get(service);
  if (resolver) {
    onlyKnown(
      resolver.spec,
      ['subsets', 'defaultSubset', 'loadBalancer', 'connectTimeout'],
      `service-resolver ${service}`,
    );
  }
  const subsets = isObj(resolver?.spec['subsets']) ? Object.keys(resolver!.spec['subsets'] as Obj) : [];
  const chosen = subset ?? str(resolver?.spec['defaultSubset']);
  if (chosen !== undefined && !subsets.includes(chosen))
    unsupported(
      `service "${service}" has no subset "${chosen}" in its service-resolver: Consul refuses the chain`,
    );
  const extra = { requestOps: ops?.req, responseOps: ops?.res };
  return chosen !== undefined
    ? { backend: service, version: chosen, weight, ...extra }
    : { backend: service, pool: subsets, weight, ...extra };
}

/** service-splitter (nested splitters are followed), then service-resolver. */
function split(
  w: World,
  service: string,
  subset: string | undefined,
  weight: number,
  depth = 0,
): Destination[] {
  const splitter = subset === undefined ? w.splitters.get(service) : undefined;
  if (!splitter) return [target(w, service, subset, weight)];
  if (depth > 8) unsupported(`the splitters of "${service}" nest too deep`);
  onlyKnown(splitter.spec, ['splits'], `service-splitter ${service}`);
  return list(splitter.spec['splits']).flatMap((s) => {
    onlyKnown(
      s,
      ['weight', 'service', 'serviceSubset', 'requestHeaders', 'responseHeaders'],
      `service-splitter ${service}`,
    );
    const to = str(s['service']) ?? service;
    const w8 = (weight * Number(s['weight'] ?? 0)) / 100;
    const sub = str(s['serviceSubset']);
    // a split to the splitter's own service goes to its resolver, not back into the splitter
    if (to === service || sub !== undefined)
      return [
        target(w, to, sub, w8, { req: headerOps(s['requestHeaders']), res: headerOps(s['responseHeaders']) }),
      ];
    return split(w, to, undefined, w8, depth + 1);
  });
}

/**
 * Intentions of the destination service: the source that names the caller wins over "*"; with L7
 * permissions the first that matches decides; a request none matches falls to the cluster's default
 * intention policy, which the objects do not say.
 */
function access(w: World, c: SimCase, from: string, to: string): SimResult | undefined {
  const entry = w.intentions.find(
    (o) => str(isObj(o.spec['destination']) ? (o.spec['destination'] as Obj)['name'] : undefined) === to,
  );
  const sources = list(entry?.spec['sources']);
  const source = sources.find((s) => s['name'] === from) ?? sources.find((s) => s['name'] === '*');
  if (!source)
    unsupported(`no intention names callers of "${to}": the cluster's default intention policy decides`);
  onlyKnown(source, ['name', 'namespace', 'action', 'permissions', 'description'], `intention to ${to}`);
  if (source['action'] !== undefined) return source['action'] === 'deny' ? denied(403) : undefined;
  for (const p of list(source['permissions'])) {
    onlyKnown(p, ['action', 'http'], `intention permission to ${to}`);
    if (httpMatches(isObj(p['http']) ? p['http'] : {}, c, `intention permission to ${to}`))
      return p['action'] === 'deny' ? denied(403) : undefined;
  }
  return unsupported(
    `no permission of the intention from "${String(source['name'])}" to "${to}" matches: the cluster's default intention policy decides`,
  );
}

function simulate(files: Parameters<Simulator>[0], c: SimCase): SimResult {
  if (!files.some((f) => /\.ya?ml$/.test(f.path)))
    unsupported('only the CRD flavour of the consul target (--consul-format crd) is simulated');
  const objects = readObjects(files);
  const w: World = {
    routers: byName(objects, 'ServiceRouter'),
    splitters: byName(objects, 'ServiceSplitter'),
    resolvers: byName(objects, 'ServiceResolver'),
    defaults: byName(objects, 'ServiceDefaults'),
    intentions: objects.filter((o) => o.kind === 'ServiceIntentions'),
    ingress: byName(objects, 'IngressGateway'),
  };
  const host = hostOnly(c.host);
  let caller: string;
  let service: string;
  if ('frontend' in c.entry) {
    caller = c.entry.frontend;
    const gw = w.ingress.get(caller) ?? unsupported(`no IngressGateway "${caller}" is rendered`);
    const tls = isObj(gw.spec['tls']) && gw.spec['tls']['enabled'] === true;
    if (tls !== (c.scheme === 'https'))
      unsupported(
        `the ingress gateway speaks ${tls ? 'https' : 'http'} and the case sends ${c.scheme}: the connection fails before any route`,
      );
    const services = list(gw.spec['listeners']).flatMap((l) => {
      if (l['protocol'] !== 'http')
        unsupported(`ingress listener protocol ${String(l['protocol'])}: only HTTP routing is simulated`);
      return list(l['services']);
    });
    const s = services.find((x) =>
      (Array.isArray(x['hosts']) ? x['hosts'].map(String) : [`${String(x['name'])}.ingress.*`]).some((h) =>
        hostMatches(h, host),
      ),
    );
    // no service of the gateway serves the host: Envoy finds no virtual host, 404
    if (!s) return notFound;
    service = String(s['name']);
  } else {
    caller = c.entry.caller;
    // transparent proxy: <service>.<namespace>.svc.cluster.local or <service>.virtual.consul
    service = host.split('.')[0]!;
    if (!w.defaults.has(service) && !w.resolvers.has(service))
      unsupported(`host ${host} names no service of the rendered mesh`);
  }
  const protocol = str(w.defaults.get(service)?.spec['protocol']);
  if (protocol !== undefined && protocol !== 'http')
    unsupported(`service "${service}" speaks ${protocol}: only HTTP routing is simulated`);
  // the router: the first route whose Match accepts the request; none: the default route to the service
  const router = w.routers.get(service);
  let dest: Obj = {};
  let matched: Obj | undefined;
  if (router) {
    onlyKnown(router.spec, ['routes'], `service-router ${service}`);
    for (const r of list(router.spec['routes'])) {
      onlyKnown(r, ['match', 'destination'], `a route of service-router ${service}`);
      const m = isObj(r['match']) && isObj(r['match']['http']) ? r['match']['http'] : {};
      if (httpMatches(m, c, `service-router ${service}`)) {
        dest = isObj(r['destination']) ? r['destination'] : {};
        matched = m;
        break;
      }
    }
  }
  onlyKnown(
    dest,
    [
      'service',
      'serviceSubset',
      'namespace',
      'prefixRewrite',
      'requestTimeout',
      'idleTimeout',
      'numRetries',
      'retryOnConnectFailure',
      'retryOn',
      'retryOnStatusCodes',
      'requestHeaders',
      'responseHeaders',
    ],
    `a destination of service-router ${service}`,
  );
  let path = c.path;
  if (typeof dest['prefixRewrite'] === 'string') {
    if (typeof matched?.['pathPrefix'] === 'string')
      path = dest['prefixRewrite'] + path.slice(matched['pathPrefix'].length);
    else if (typeof matched?.['pathExact'] === 'string') path = dest['prefixRewrite'];
    else unsupported('a PrefixRewrite on a route without a path prefix or exact match');
  }
  const headers: Record<string, string> = { ...c.headers, host: c.host };
  applyOps(headers, headerOps(dest['requestHeaders']));
  const destService = str(dest['service']) ?? service;
  const destinations = split(w, destService, str(dest['serviceSubset']), 100);
  // intentions are enforced by the sidecar of the service that receives the request
  const verdicts = new Set(destinations.map((d) => JSON.stringify(access(w, c, caller, d.backend) ?? null)));
  if (verdicts.size > 1)
    unsupported(
      'the destinations of the split have different intentions: which one decides the first request is chance',
    );
  const verdict = access(w, c, caller, destinations[0]!.backend);
  if (verdict) return verdict;
  return observe(
    c,
    {
      destinations,
      policy: {
        retries: retryPolicy(dest),
        timeoutMs: durationMs(dest['requestTimeout'], 'requestTimeout') ?? ENVOY_DEFAULT_TIMEOUT_MS,
      },
      path: pathWithQuery(path, c.query),
      requestHeaders: headers,
      responseOps: headerOps(dest['responseHeaders']),
    },
    SIDECAR,
  );
}

/** The Consul simulator. */
export const simulateConsul: Simulator = (files, c) => guarded(() => simulate(files, c));
