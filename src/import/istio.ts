import {
  MeshBuilder,
  isRecord,
  meshDuration,
  stringRecord,
  type AllowDoc,
  type RouteDoc,
} from './builder.js';
import { locate, located, originOf } from './documents.js';
import {
  chooseName,
  chooseNamespace,
  kubeObjects,
  readServicesAndWorkloads,
  serviceOfHost,
  type KubeObject,
} from './kubernetes.js';
import type { Importer } from './types.js';

type Match = NonNullable<RouteDoc['match']>[number];
type Path = (string | number)[];

const KINDS = [
  'VirtualService',
  'DestinationRule',
  'Gateway',
  'PeerAuthentication',
  'AuthorizationPolicy',
  'ServiceEntry',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Pod',
];

/** What Istio retries when a route says nothing (Istio's default: 2 retries on these). */
const ISTIO_DEFAULT_RETRIES = { attempts: 2, on: ['connect-failure', 'reset', '503'] };

const RETRY_ON = new Set(['5xx', 'gateway-error', 'connect-failure', 'reset', 'retriable-4xx']);

/** Istio: networking.istio.io and security.istio.io objects, with Services and workloads. */
export const istio: Importer = {
  from: 'istio',
  summary:
    'Istio VirtualService, DestinationRule, Gateway, PeerAuthentication, AuthorizationPolicy, ServiceEntry, Service, Deployment',
  kinds: KINDS,
  import(documents, options) {
    const namespace = chooseNamespace(documents, options.namespace);
    const mesh = new MeshBuilder(namespace);
    const objects = kubeObjects(documents, KINDS, namespace, mesh.diagnostics);
    const of = (kind: string) => objects.filter((o) => o.kind === kind);
    readServicesAndWorkloads(objects, mesh);
    for (const o of of('ServiceEntry')) serviceEntry(o, mesh);
    for (const o of of('DestinationRule')) destinationRule(o, mesh);
    const gateways = new Map<string, string[]>();
    for (const o of of('Gateway')) gateways.set(`${o.namespace}/${o.name}`, gateway(o, mesh));
    const vsByHost = new Map<string, KubeObject>();
    for (const o of of('VirtualService')) virtualService(o, mesh, gateways, vsByHost);
    for (const o of of('PeerAuthentication')) peerAuthentication(o, mesh);
    for (const o of of('AuthorizationPolicy')) authorizationPolicy(o, mesh);
    return mesh.finish(chooseName(documents, options.name, namespace));
  },
};

function notCarried(mesh: MeshBuilder, o: KubeObject, at: Path, why: string): void {
  mesh.diagnostics.push(
    located('MG7004', o.doc, at, `${o.kind} ${o.name}: ${at.slice(1).join('.')} is not carried: ${why}`),
  );
}

/** Fields of an object that the importer does not read: each is a diagnostic. */
function unread(
  mesh: MeshBuilder,
  o: KubeObject,
  value: Record<string, unknown>,
  at: Path,
  known: readonly string[],
  why = 'the mesh format has no equivalent',
): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) notCarried(mesh, o, [...at, key], why);
}

function backendOfHost(mesh: MeshBuilder, host: unknown, namespace: string) {
  if (typeof host !== 'string') return undefined;
  const svc = serviceOfHost(host, namespace);
  if (svc && mesh.backends.has(svc.name)) return mesh.backends.get(svc.name);
  for (const b of mesh.backends.values()) if (b.rest && (b as { host?: string }).host === host) return b;
  return svc ? mesh.backend(svc.name, svc.namespace) : undefined;
}

function serviceEntry(o: KubeObject, mesh: MeshBuilder): void {
  const hosts = Array.isArray(o.spec['hosts'])
    ? o.spec['hosts'].filter((h): h is string => typeof h === 'string')
    : [];
  const ports = Array.isArray(o.spec['ports']) ? o.spec['ports'].filter(isRecord) : [];
  const endpoints = Array.isArray(o.spec['endpoints']) ? o.spec['endpoints'].filter(isRecord) : [];
  const host = hosts[0];
  const port = typeof ports[0]?.['number'] === 'number' ? ports[0]['number'] : undefined;
  if (!host || port === undefined) {
    mesh.diagnostics.push(
      located('MG7008', o.doc, ['spec'], `ServiceEntry ${o.name} names no host and port: skipped`),
    );
    return;
  }
  const addresses = endpoints
    .map((e) =>
      typeof e['address'] === 'string'
        ? `${e['address']}:${String(isRecord(e['ports']) ? (Object.values(e['ports'])[0] ?? port) : port)}`
        : undefined,
    )
    .filter((a): a is string => !!a);
  if (!addresses.length && o.spec['resolution'] === 'DNS') addresses.push(`${host}:${port}`);
  if (!addresses.length) {
    mesh.diagnostics.push(
      located(
        'MG7008',
        o.doc,
        ['spec'],
        `ServiceEntry ${o.name} names no endpoints (and does not resolve by DNS): a mesh backend needs them; skipped`,
      ),
    );
    return;
  }
  const name = host.split('.')[0]!.toLowerCase();
  const b = mesh.backend(name, o.namespace);
  (b as { host?: string }).host = host;
  b.port = port;
  b.protocol =
    ports[0] && typeof ports[0]['protocol'] === 'string' && /^(HTTP|HTTP2|GRPC)$/i.test(ports[0]['protocol'])
      ? (ports[0]['protocol'].toLowerCase() as 'http')
      : 'tcp';
  b.versions.set('v1', { endpoints: addresses });
  if (hosts.length > 1)
    notCarried(mesh, o, ['spec', 'hosts', 1], 'a backend has one name; only the first host is carried');
}

const LB: Record<string, 'round-robin' | 'least-request' | 'random'> = {
  ROUND_ROBIN: 'round-robin',
  LEAST_REQUEST: 'least-request',
  LEAST_CONN: 'least-request',
  RANDOM: 'random',
};

function destinationRule(o: KubeObject, mesh: MeshBuilder): void {
  const b = backendOfHost(mesh, o.spec['host'], o.namespace);
  if (!b) {
    mesh.diagnostics.push(
      located(
        'MG7005',
        o.doc,
        ['spec', 'host'],
        `DestinationRule ${o.name}: host ${String(o.spec['host'])} is no Service: skipped`,
      ),
    );
    return;
  }
  unread(mesh, o, o.spec, ['spec'], ['host', 'subsets', 'trafficPolicy']);
  const subsets = Array.isArray(o.spec['subsets']) ? o.spec['subsets'] : [];
  subsets.forEach((s, i) => {
    if (!isRecord(s) || typeof s['name'] !== 'string') return;
    const existing = b.versions.get(s['name']);
    b.versions.set(s['name'], { ...existing, labels: stringRecord(s['labels']) ?? {} });
    if (s['trafficPolicy'] !== undefined)
      notCarried(
        mesh,
        o,
        ['spec', 'subsets', i, 'trafficPolicy'],
        'a policy of one version is not expressible; the backend policy applies to every version',
      );
  });
  const tp = o.spec['trafficPolicy'];
  if (!isRecord(tp)) return;
  const at = ['spec', 'trafficPolicy'];
  unread(mesh, o, tp, at, ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls']);
  const lb = tp['loadBalancer'];
  if (isRecord(lb)) {
    if (typeof lb['simple'] === 'string' && LB[lb['simple']]) b.rest.loadBalancer = LB[lb['simple']];
    else if (isRecord(lb['consistentHash'])) {
      const h = lb['consistentHash'];
      b.rest.loadBalancer = 'ring-hash';
      if (typeof h['httpHeaderName'] === 'string') b.rest.hashOn = { header: h['httpHeaderName'] };
      else if (isRecord(h['httpCookie']) && typeof h['httpCookie']['name'] === 'string')
        b.rest.hashOn = { cookie: h['httpCookie']['name'] };
      else if (h['useSourceIp'] === true) b.rest.hashOn = { sourceIp: true };
      else
        notCarried(
          mesh,
          o,
          [...at, 'loadBalancer', 'consistentHash'],
          'only a header, a cookie or the source IP can be hashed on',
        );
    } else
      notCarried(
        mesh,
        o,
        [...at, 'loadBalancer'],
        'only ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, RANDOM and consistentHash are known',
      );
  }
  const cp = tp['connectionPool'];
  if (isRecord(cp)) {
    const tcp = isRecord(cp['tcp']) ? cp['tcp'] : {};
    const http = isRecord(cp['http']) ? cp['http'] : {};
    const cb: Record<string, number> = {};
    if (typeof tcp['maxConnections'] === 'number') cb['maxConnections'] = tcp['maxConnections'];
    if (typeof http['http1MaxPendingRequests'] === 'number')
      cb['maxPendingRequests'] = http['http1MaxPendingRequests'];
    if (typeof http['http2MaxRequests'] === 'number') cb['maxRequests'] = http['http2MaxRequests'];
    if (typeof http['maxRetries'] === 'number') cb['maxRetries'] = http['maxRetries'];
    if (Object.keys(cb).length) b.rest.circuitBreaker = cb;
    unread(mesh, o, tcp, [...at, 'connectionPool', 'tcp'], ['maxConnections']);
    unread(
      mesh,
      o,
      http,
      [...at, 'connectionPool', 'http'],
      ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRetries'],
    );
  }
  const od = tp['outlierDetection'];
  if (isRecord(od)) {
    const errors = od['consecutive5xxErrors'] ?? od['consecutiveErrors'] ?? od['consecutiveGatewayErrors'];
    b.rest.outlierDetection = {
      ...(typeof errors === 'number' ? { consecutiveErrors: errors } : {}),
      ...(meshDuration(od['interval']) ? { interval: meshDuration(od['interval']) } : {}),
      ...(meshDuration(od['baseEjectionTime'])
        ? { baseEjectionTime: meshDuration(od['baseEjectionTime']) }
        : {}),
      ...(typeof od['maxEjectionPercent'] === 'number'
        ? { maxEjectionPercent: od['maxEjectionPercent'] }
        : {}),
    };
    unread(
      mesh,
      o,
      od,
      [...at, 'outlierDetection'],
      [
        'consecutive5xxErrors',
        'consecutiveErrors',
        'consecutiveGatewayErrors',
        'interval',
        'baseEjectionTime',
        'maxEjectionPercent',
      ],
    );
  }
  const tls = tp['tls'];
  if (isRecord(tls) && tls['mode'] !== 'ISTIO_MUTUAL')
    notCarried(
      mesh,
      o,
      [...at, 'tls', 'mode'],
      'the mesh sets mTLS on the receiving side (PeerAuthentication); only ISTIO_MUTUAL is what it renders',
    );
}

/** A Gateway's servers become frontends; returns their names. */
function gateway(o: KubeObject, mesh: MeshBuilder): string[] {
  const servers = Array.isArray(o.spec['servers']) ? o.spec['servers'] : [];
  const names: string[] = [];
  servers.forEach((s, i) => {
    if (!isRecord(s) || !isRecord(s['port'])) return;
    const port = s['port']['number'];
    const proto = String(s['port']['protocol'] ?? '').toUpperCase();
    const tls = isRecord(s['tls']) ? s['tls'] : undefined;
    const at = ['spec', 'servers', i];
    const protocol =
      proto === 'HTTP' || proto === 'HTTP2' || proto === 'GRPC'
        ? 'http'
        : proto === 'HTTPS'
          ? 'https'
          : proto === 'TLS'
            ? tls?.['mode'] === 'PASSTHROUGH' || tls?.['mode'] === 'AUTO_PASSTHROUGH'
              ? 'tls-passthrough'
              : 'https'
            : proto === 'TCP'
              ? 'tcp'
              : undefined;
    if (typeof port !== 'number' || !protocol) {
      mesh.diagnostics.push(
        located(
          'MG7008',
          o.doc,
          [...at, 'port'],
          `Gateway ${o.name}: server ${i} has no port number or a protocol the mesh has no frontend for (${proto}): skipped`,
        ),
      );
      return;
    }
    const name = servers.length === 1 ? o.name : `${o.name}-${i}`;
    const hosts = (Array.isArray(s['hosts']) ? s['hosts'] : [])
      .filter((h): h is string => typeof h === 'string')
      .map((h) => h.replace(/^[^/]*\//, ''));
    const frontend: (typeof mesh.frontends)[number] = {
      name,
      port,
      protocol,
      ...(hosts.length && !(hosts.length === 1 && hosts[0] === '*')
        ? { hosts: hosts as [string, ...string[]] }
        : {}),
    };
    if (protocol === 'https') {
      if (typeof tls?.['credentialName'] === 'string') frontend.tls = { secretName: tls['credentialName'] };
      if (tls?.['mode'] === 'MUTUAL')
        notCarried(
          mesh,
          o,
          [...at, 'tls', 'mode'],
          'client certificates need a CA file (frontends[].tls.clientCa); add it by hand',
        );
    }
    if (hosts.length === 1 && hosts[0] === '*') frontend.hosts = ['*'];
    mesh.frontends.push(frontend);
    mesh.frontendAt.set(name, locate(o.doc, [...at, 'port', 'number']));
    names.push(name);
  });
  if (
    o.spec['selector'] &&
    !(isRecord(o.spec['selector']) && o.spec['selector']['istio'] === 'ingressgateway')
  )
    notCarried(
      mesh,
      o,
      ['spec', 'selector'],
      'meshgen renders its gateways for the istio: ingressgateway deployment',
    );
  return names;
}

function stringMatch(v: unknown): { exact?: string; prefix?: string; regex?: string } | undefined {
  if (!isRecord(v)) return undefined;
  for (const k of ['exact', 'prefix', 'regex'] as const) if (typeof v[k] === 'string') return { [k]: v[k] };
  return undefined;
}

function httpMatch(o: KubeObject, mesh: MeshBuilder, m: unknown, at: Path): Match | undefined {
  if (!isRecord(m)) return undefined;
  const out: Match = {};
  const uri = stringMatch(m['uri']);
  if (uri) out.path = uri as Match['path'];
  for (const field of ['headers', 'queryParams'] as const) {
    const v = m[field];
    if (!isRecord(v)) continue;
    const entries: Record<string, unknown> = {};
    for (const [name, sm] of Object.entries(v)) {
      const s = stringMatch(sm);
      if (s) entries[field === 'headers' ? name.toLowerCase() : name] = s;
      else if (isRecord(sm) && Object.keys(sm).length === 0) entries[name] = { present: true };
      else notCarried(mesh, o, [...at, field, name], 'only exact, prefix and regex matches are known');
    }
    if (Object.keys(entries).length) (out as Record<string, unknown>)[field] = entries;
  }
  if (m['method'] !== undefined) {
    const method = stringMatch(m['method']);
    if (method?.exact) out.method = method.exact as Match['method'];
    else notCarried(mesh, o, [...at, 'method'], 'a method is matched exactly');
  }
  unread(
    mesh,
    o,
    m,
    at,
    ['uri', 'headers', 'queryParams', 'method', 'name', 'port', 'gateways'],
    'the mesh matches on path, headers, query parameters and method only',
  );
  return out;
}

function percentOf(v: unknown, fallback?: number): number | undefined {
  if (isRecord(v) && typeof v['value'] === 'number') return v['value'];
  return fallback;
}

function destination(
  mesh: MeshBuilder,
  o: KubeObject,
  d: unknown,
  at: Path,
): { backend: string; version?: string } | undefined {
  if (!isRecord(d)) return undefined;
  const b = backendOfHost(mesh, d['host'], o.namespace);
  if (!b) {
    mesh.diagnostics.push(
      located(
        'MG7005',
        o.doc,
        [...at, 'host'],
        `${o.kind} ${o.name}: destination host ${String(d['host'])} is not a Service of the mesh: dropped`,
      ),
    );
    return undefined;
  }
  if (typeof d['subset'] === 'string' && !b.versions.has(d['subset'])) b.versions.set(d['subset'], {});
  const port = isRecord(d['port']) ? d['port']['number'] : undefined;
  if (typeof port === 'number' && b.port !== undefined && port !== b.port)
    notCarried(
      mesh,
      o,
      [...at, 'port', 'number'],
      `traffic goes to the backend's port ${b.port}; sending it to port ${port} is not expressible`,
    );
  return { backend: b.name, ...(typeof d['subset'] === 'string' ? { version: d['subset'] } : {}) };
}

function destinations(
  mesh: MeshBuilder,
  o: KubeObject,
  route: unknown,
  at: Path,
): RouteDoc['to'] | undefined {
  if (!Array.isArray(route) || !route.length) return undefined;
  const to: RouteDoc['to'][number][] = [];
  route.forEach((r, i) => {
    if (!isRecord(r)) return;
    const d = destination(mesh, o, r['destination'], [...at, i, 'destination']);
    if (!d) return;
    to.push({
      ...d,
      ...(route.length > 1 ? { weight: typeof r['weight'] === 'number' ? r['weight'] : 0 } : {}),
    });
    if (r['headers'] !== undefined)
      notCarried(
        mesh,
        o,
        [...at, i, 'headers'],
        'header operations apply to a route, not to one destination',
      );
  });
  if (!to.length) return undefined;
  if (to.length === 1) delete to[0]!.weight;
  return to as RouteDoc['to'];
}

function retries(
  mesh: MeshBuilder,
  o: KubeObject,
  r: unknown,
  at: Path,
): RouteDoc['retries'] | undefined | 'default' {
  if (r === undefined) return 'default';
  if (!isRecord(r)) return undefined;
  const attempts = typeof r['attempts'] === 'number' ? r['attempts'] : 2;
  if (attempts <= 0) return undefined;
  const on: string[] = [];
  if (typeof r['retryOn'] === 'string')
    for (const token of r['retryOn']
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)) {
      if (RETRY_ON.has(token) || /^[1-5]\d\d$/.test(token)) on.push(token);
      else if (token === 'refused-stream') {
        if (!on.includes('reset')) on.push('reset');
      } else if (token === 'retriable-status-codes')
        continue; // the codes themselves are listed beside it
      else notCarried(mesh, o, [...at, 'retryOn'], `the retry condition ${token} has no mesh equivalent`);
    }
  const perTry = meshDuration(r['perTryTimeout']);
  return {
    attempts,
    ...(perTry ? { perTryTimeout: perTry } : {}),
    ...(on.length ? { on } : {}),
  } as RouteDoc['retries'];
}

function headerOps(v: unknown): Record<string, unknown> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, unknown> = {};
  for (const side of ['request', 'response'] as const) {
    const s = v[side];
    if (!isRecord(s)) continue;
    const ops: Record<string, unknown> = {};
    if (stringRecord(s['set'])) ops['set'] = stringRecord(s['set']);
    if (stringRecord(s['add'])) ops['add'] = stringRecord(s['add']);
    if (Array.isArray(s['remove'])) ops['remove'] = s['remove'].filter((x) => typeof x === 'string');
    if (Object.keys(ops).length) out[side] = ops;
  }
  return Object.keys(out).length ? out : undefined;
}

function httpRoute(
  o: KubeObject,
  mesh: MeshBuilder,
  h: Record<string, unknown>,
  at: Path,
  parent: RouteDoc['parent'],
  index: number,
): RouteDoc | undefined {
  const to = destinations(mesh, o, h['route'], [...at, 'route']);
  if (!to) {
    const what = h['redirect']
      ? 'redirect'
      : h['directResponse']
        ? 'directResponse'
        : h['delegate']
          ? 'delegate'
          : 'route';
    mesh.diagnostics.push(
      located(
        'MG7004',
        o.doc,
        [...at, what],
        `VirtualService ${o.name}: http[${index}] is not carried: a route without destinations the mesh knows (${what}) has no equivalent`,
      ),
    );
    return undefined;
  }
  const route = {
    name: mesh.routeName(typeof h['name'] === 'string' ? h['name'] : `${o.name}-${index}`),
    parent,
  } as RouteDoc;
  if (Array.isArray(h['match'])) {
    const matches = h['match']
      .map((m, i) => httpMatch(o, mesh, m, [...at, 'match', i]))
      .filter((m): m is Match => !!m);
    if (matches.length && !matches.every((m) => Object.keys(m).length === 0))
      route.match = matches as NonNullable<RouteDoc['match']>;
  }
  route.to = to;
  const timeout = meshDuration(h['timeout']);
  if (timeout) route.timeout = timeout;
  const r = retries(mesh, o, h['retries'], [...at, 'retries']);
  if (r === 'default') {
    route.retries = ISTIO_DEFAULT_RETRIES as RouteDoc['retries'];
    mesh.diagnostics.push(
      located(
        'MG7006',
        o.doc,
        at,
        `VirtualService ${o.name}: route ${route.name} says nothing of retries, so Istio retries twice (connect failures, resets, 503): the mesh says so explicitly`,
      ),
    );
  } else if (r) route.retries = r;
  const fault = h['fault'];
  if (isRecord(fault)) {
    const f: NonNullable<RouteDoc['fault']> = {};
    const delay = fault['delay'];
    if (isRecord(delay) && meshDuration(delay['fixedDelay']))
      f.delay = {
        duration: meshDuration(delay['fixedDelay'])!,
        percent: percentOf(
          delay['percentage'],
          typeof delay['percent'] === 'number' ? delay['percent'] : 100,
        )!,
      };
    const abort = fault['abort'];
    if (isRecord(abort) && typeof abort['httpStatus'] === 'number')
      f.abort = { status: abort['httpStatus'], percent: percentOf(abort['percentage'], 100)! };
    if (f.delay || f.abort) route.fault = f;
    else notCarried(mesh, o, [...at, 'fault'], 'only fixed delays and HTTP status aborts are known');
  }
  if (isRecord(h['mirror'])) {
    const d = destination(mesh, o, h['mirror'], [...at, 'mirror']);
    const percent = percentOf(
      h['mirrorPercentage'],
      typeof h['mirrorPercent'] === 'number' ? h['mirrorPercent'] : undefined,
    );
    if (d) route.mirror = { ...d, ...(percent !== undefined && percent !== 100 ? { percent } : {}) };
  }
  const rw = h['rewrite'];
  if (isRecord(rw)) {
    const rewrite: NonNullable<RouteDoc['rewrite']> = {};
    if (typeof rw['uri'] === 'string') {
      if (route.match?.length && route.match.every((m) => m.path && 'prefix' in m.path))
        rewrite.pathPrefix = rw['uri'];
      else
        notCarried(
          mesh,
          o,
          [...at, 'rewrite', 'uri'],
          'the mesh rewrites a matched prefix only, and some match of this route is not a prefix',
        );
    }
    if (typeof rw['authority'] === 'string') rewrite.host = rw['authority'];
    if (rw['uriRegexRewrite'] !== undefined)
      notCarried(mesh, o, [...at, 'rewrite', 'uriRegexRewrite'], 'the mesh rewrites a matched prefix only');
    if (Object.keys(rewrite).length) route.rewrite = rewrite;
  }
  const headers = headerOps(h['headers']);
  if (headers) route.headers = headers as RouteDoc['headers'];
  unread(mesh, o, h, at, [
    'name',
    'match',
    'route',
    'timeout',
    'retries',
    'fault',
    'mirror',
    'mirrorPercentage',
    'mirrorPercent',
    'rewrite',
    'headers',
    'redirect',
    'directResponse',
    'delegate',
  ]);
  return route;
}

function virtualService(
  o: KubeObject,
  mesh: MeshBuilder,
  gateways: Map<string, string[]>,
  seen: Map<string, KubeObject>,
): void {
  const hosts = (Array.isArray(o.spec['hosts']) ? o.spec['hosts'] : []).filter(
    (h): h is string => typeof h === 'string',
  );
  const gws = (Array.isArray(o.spec['gateways']) ? o.spec['gateways'] : ['mesh']).filter(
    (g): g is string => typeof g === 'string',
  );
  const parents: { parent: RouteDoc['parent']; tcp: boolean }[] = [];
  for (const g of gws) {
    if (g === 'mesh') {
      for (const h of hosts) {
        const svc = serviceOfHost(h, o.namespace);
        const b =
          [...mesh.backends.values()].find((x) => (x as { host?: string }).host === h) ??
          (svc && mesh.backends.get(svc.name));
        if (!b) {
          mesh.diagnostics.push(
            located(
              'MG7005',
              o.doc,
              ['spec', 'hosts', hosts.indexOf(h)],
              `VirtualService ${o.name}: host ${h} is not a Service of the mesh: its routes are not carried for mesh traffic`,
            ),
          );
          continue;
        }
        const key = `mesh/${b.name}`;
        const earlier = seen.get(key);
        if (earlier)
          mesh.diagnostics.push(
            located(
              'MG7006',
              o.doc,
              ['spec', 'hosts'],
              `VirtualService ${o.name}: host ${h} is also routed by VirtualService ${earlier.name}; Istio applies only one of them to mesh traffic, the mesh keeps both in input order (first match)`,
            ),
          );
        seen.set(key, o);
        parents.push({ parent: { backend: b.name }, tcp: b.protocol === 'tcp' });
      }
    } else {
      const key = g.includes('/') ? g : `${o.namespace}/${g}`;
      const names = gateways.get(key);
      if (!names) {
        mesh.diagnostics.push(
          located(
            'MG7005',
            o.doc,
            ['spec', 'gateways', gws.indexOf(g)],
            `VirtualService ${o.name}: gateway ${g} is not among the imported Gateways: its routes are not carried there`,
          ),
        );
        continue;
      }
      for (const name of names) {
        const f = mesh.frontends.find((x) => x.name === name)!;
        const own = f.hosts ?? ['*'];
        const routeHosts = hosts.filter((h) => h !== '*' && !(own.length === 1 && own[0] === h));
        const served = routeHosts.filter((h) => own.includes('*') || own.includes(h));
        const parent: RouteDoc['parent'] = {
          frontend: name,
          ...(served.length && !hosts.includes('*') && !sameSet(served, own)
            ? { hosts: served as [string, ...string[]] }
            : {}),
        };
        parents.push({ parent, tcp: f.protocol === 'tcp' || f.protocol === 'tls-passthrough' });
      }
    }
  }
  const portHit = new Set<string>();
  const portMissed = new Map<string, { at: Path; ports: number[] }>();
  for (const { parent, tcp } of parents) {
    const http = Array.isArray(o.spec['http']) ? o.spec['http'] : [];
    if (!tcp)
      http.forEach((h, i) => {
        if (!isRecord(h)) return;
        const route = httpRoute(o, mesh, h, ['spec', 'http', i], parent, i);
        if (route && isImplicit(route, h)) return;
        if (route && typeof h['name'] === 'string' && route.name !== h['name'])
          mesh.diagnostics.push(
            located(
              'MG7009',
              o.doc,
              ['spec', 'http', i, 'name'],
              `VirtualService ${o.name}: route ${h['name']} is named ${route.name} in the mesh, where route names are unique`,
            ),
          );
        if (route)
          mesh.routes.push({
            route,
            origin: `${originOf(o.doc, ['spec', 'http', i])} (VirtualService ${o.namespace}/${o.name}, http[${i}])`,
          });
      });
    for (const field of ['tcp', 'tls'] as const) {
      const list = Array.isArray(o.spec[field]) ? o.spec[field] : [];
      list.forEach((t, i) => {
        if (!isRecord(t)) return;
        const at = ['spec', field, i];
        const to = destinations(mesh, o, t['route'], [...at, 'route']);
        if (!to) return;
        if (!tcp) {
          notCarried(mesh, o, at, `a ${field} route on an HTTP ${parent.backend ? 'backend' : 'frontend'}`);
          return;
        }
        // a match on a port picks the Gateway server (or the Service port) the route applies to
        const own = parent.frontend
          ? mesh.frontends.find((f) => f.name === parent.frontend)?.port
          : mesh.backends.get(parent.backend!)?.port;
        const matches = Array.isArray(t['match']) ? t['match'] : [];
        const ports = matches.map((m) =>
          isRecord(m) && typeof m['port'] === 'number' ? m['port'] : undefined,
        );
        const key = `${field}/${i}`;
        if (own !== undefined && ports.length && ports.every((p) => p !== undefined && p !== own)) {
          if (!portHit.has(key)) portMissed.set(key, { at: [...at, 'match'], ports: ports as number[] });
          return;
        }
        portHit.add(key);
        portMissed.delete(key);
        if (
          Array.isArray(t['match']) &&
          t['match'].some(
            (m) =>
              isRecord(m) &&
              Object.keys(m).some((k) => k !== 'port' && !(field === 'tls' && k === 'sniHosts')),
          )
        )
          notCarried(mesh, o, [...at, 'match'], 'a TCP route has no match in the mesh (beyond its parent)');
        const name = mesh.routeName(list.length === 1 ? o.name : `${o.name}-${field}-${i}`);
        mesh.routes.push({
          route: { name, parent, to },
          origin: `${originOf(o.doc, at)} (VirtualService ${o.namespace}/${o.name}, ${field}[${i}])`,
        });
      });
    }
  }
  for (const { at, ports } of portMissed.values())
    notCarried(
      mesh,
      o,
      at,
      `it matches port ${ports.join(', ')}, which no parent of the route listens on (${parents.map((p) => p.parent.frontend ?? p.parent.backend).join(', ')})`,
    );
  unread(mesh, o, o.spec, ['spec'], ['hosts', 'gateways', 'http', 'tcp', 'tls', 'exportTo']);
}

/**
 * The route the mesh gives a backend without routes (everything to all its versions, nothing retried),
 * as the istio target writes it: left out, so the mesh keeps it implicit.
 */
function isImplicit(route: RouteDoc, h: Record<string, unknown>): boolean {
  const keys = Object.keys(h).filter((k) => k !== 'name' && k !== 'route' && k !== 'retries');
  const r = isRecord(h['retries']) ? h['retries'] : undefined;
  return (
    !keys.length &&
    !!route.parent.backend &&
    r?.['attempts'] === 0 &&
    route.to.length === 1 &&
    route.to[0]!.backend === route.parent.backend &&
    route.to[0]!.version === undefined
  );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

const MTLS: Record<string, 'strict' | 'permissive' | 'disabled'> = {
  STRICT: 'strict',
  PERMISSIVE: 'permissive',
  DISABLE: 'disabled',
};

function peerAuthentication(o: KubeObject, mesh: MeshBuilder): void {
  const mode = isRecord(o.spec['mtls']) ? MTLS[String(o.spec['mtls']['mode'])] : undefined;
  if (o.spec['portLevelMtls'] !== undefined)
    notCarried(mesh, o, ['spec', 'portLevelMtls'], 'mTLS is set per backend, not per port');
  if (!mode) return;
  const app = isRecord(o.spec['selector'])
    ? stringRecord(o.spec['selector']['matchLabels'])?.['app']
    : undefined;
  if (o.spec['selector'] === undefined) mesh.mtls = { mode };
  else if (app && mesh.backends.has(app)) mesh.backends.get(app)!.rest.mtls = { mode };
  else
    mesh.diagnostics.push(
      located(
        'MG7005',
        o.doc,
        ['spec', 'selector'],
        `PeerAuthentication ${o.name}: its selector names no imported backend (by the label app): not carried`,
      ),
    );
}

function authorizationPolicy(o: KubeObject, mesh: MeshBuilder): void {
  const action = typeof o.spec['action'] === 'string' ? o.spec['action'] : 'ALLOW';
  const app = isRecord(o.spec['selector'])
    ? stringRecord(o.spec['selector']['matchLabels'])?.['app']
    : undefined;
  const targets =
    o.spec['selector'] === undefined ? [...mesh.backends.keys()] : app && mesh.backends.has(app) ? [app] : [];
  if (!targets.length) {
    mesh.diagnostics.push(
      located(
        'MG7005',
        o.doc,
        ['spec', 'selector'],
        `AuthorizationPolicy ${o.name}: its selector names no imported backend (by the label app): not carried`,
      ),
    );
    return;
  }
  if (action !== 'ALLOW') {
    notCarried(
      mesh,
      o,
      ['spec', 'action'],
      `the mesh's access rules only allow; a ${action} policy is not expressible`,
    );
    return;
  }
  const rules = Array.isArray(o.spec['rules']) ? o.spec['rules'] : [];
  const entries: AllowDoc[] = [];
  rules.forEach((r, i) => {
    if (!isRecord(r)) return;
    const at = ['spec', 'rules', i];
    const callers = new Set<string>();
    let refused = false;
    const from = Array.isArray(r['from']) ? r['from'] : [];
    from.forEach((f, j) => {
      const src = isRecord(f) && isRecord(f['source']) ? f['source'] : {};
      for (const key of Object.keys(src))
        if (key !== 'principals') {
          notCarried(
            mesh,
            o,
            [...at, 'from', j, 'source', key],
            'callers are named by principal only; the rule is left out (so access is narrower, never wider)',
          );
          refused = true;
        }
      const principals = Array.isArray(src['principals']) ? src['principals'] : [];
      principals.forEach((p, k) => {
        const caller = callerOf(mesh, p);
        if (caller) callers.add(caller);
        else
          mesh.diagnostics.push(
            located(
              'MG7005',
              o.doc,
              [...at, 'from', j, 'source', 'principals', k],
              `AuthorizationPolicy ${o.name}: principal ${String(p)} is no imported backend or gateway: left out`,
            ),
          );
      });
    });
    if (!from.length) callers.add('*');
    if (r['when'] !== undefined) {
      notCarried(
        mesh,
        o,
        [...at, 'when'],
        'conditions are not expressible; the rule is left out (so access is narrower, never wider)',
      );
      refused = true;
    }
    if (refused || !callers.size) return;
    const to = Array.isArray(r['to']) ? r['to'] : [{}];
    to.forEach((t, j) => {
      const op = isRecord(t) && isRecord(t['operation']) ? t['operation'] : {};
      for (const key of Object.keys(op))
        if (key !== 'paths' && key !== 'methods') {
          notCarried(
            mesh,
            o,
            [...at, 'to', j, 'operation', key],
            'operations are matched by path and method only; this operation is left out',
          );
          return;
        }
      const paths = Array.isArray(op['paths'])
        ? op['paths'].filter((p): p is string => typeof p === 'string')
        : [];
      const methods = Array.isArray(op['methods'])
        ? op['methods'].filter((p): p is string => typeof p === 'string')
        : [];
      entries.push({
        from: [...callers] as AllowDoc['from'],
        ...(paths.length ? { paths } : {}),
        ...(methods.length ? { methods } : {}),
      } as AllowDoc);
    });
  });
  for (const t of targets) {
    if (!entries.length && rules.length === 0) mesh.allow(t);
    for (const e of entries) mesh.allow(t, e);
  }
  if (o.spec['selector'] === undefined && rules.length === 0) mesh.defaultAccess = 'deny';
}

/** `cluster.local/ns/shop/sa/checkout` (or `*`) -> the backend or frontend that speaks for it. */
function callerOf(mesh: MeshBuilder, principal: unknown): string | undefined {
  if (principal === '*') return '*';
  if (typeof principal !== 'string') return undefined;
  const m = /^(?:spiffe:\/\/)?([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  if (!m) return undefined;
  mesh.trustDomain ??= m[1] !== 'cluster.local' ? m[1] : undefined;
  for (const b of mesh.backends.values())
    if ((b.serviceAccount ?? b.name) === m[3] && b.namespace === m[2]) return b.name;
  const f = mesh.frontends.find((x) => x.name === m[3]);
  return f?.name;
}
