import { parseDuration } from './duration.js';
import { fitted } from './lists.js';
import type {
  AccessPolicy,
  Caller,
  Endpoint,
  HeaderOps,
  HttpMethod,
  MeshDocument,
  PathPattern,
  ResolvedAllow,
  ResolvedBackend,
  ResolvedDestination,
  ResolvedFrontend,
  ResolvedMatch,
  ResolvedMesh,
  ResolvedRoute,
  Retries,
  StringMatch,
} from './types.js';

type Doc = MeshDocument;
type BackendDoc = Doc['spec']['backends'][number];
type RouteDoc = NonNullable<Doc['spec']['routes']>[number];
type StringMatchDoc = { exact?: string; prefix?: string; regex?: string; present?: true };
type HeaderOpsDoc = { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] };

/** The default retry conditions when `retries.on` is not given. */
const DEFAULT_RETRY_ON = ['gateway-error', 'connect-failure', 'reset'] as const;

/**
 * Values many routes share when the mesh gives nothing: the model is only read, so one frozen copy
 * serves them all (a large mesh made tens of thousands of empty objects that all survived).
 */
const NONE: readonly never[] = Object.freeze([]);
const NO_HEADER_OPS: HeaderOps = Object.freeze({ set: NONE, add: NONE, remove: NONE });

/**
 * `xs.map(f)`, always as a packed array. V8's `map` gives a holey array while it runs in the
 * interpreter and a packed one once it is optimised, so on a large mesh the model's lists had two
 * hidden classes depending on when each was made, and emitter code optimised for one was thrown
 * away (and compiled again) on meeting the other.
 */
function list<T, U>(xs: readonly T[], f: (x: T, i: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i]!, i));
  return fitted(out);
}

const ms = (d: string | undefined, fallback: number): number =>
  d === undefined ? fallback : parseDuration(d)!;

/**
 * Turns a valid mesh document into the resolved model: every default filled, durations in
 * milliseconds, references resolved, implicit routes added, identities and local addresses computed.
 * Call it only on a document that validation accepted without errors.
 */
export function normalizeMesh(doc: Doc): ResolvedMesh {
  const spec = doc.spec;
  const namespace = spec.namespace ?? 'default';
  const trustDomain = spec.trustDomain ?? 'cluster.local';
  const meshMtls = spec.mtls?.mode ?? 'permissive';
  const defaultAccess = spec.defaultAccess ?? 'allow';
  const identity = (ns: string, sa: string) => `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;

  const backendDocs = new Map(spec.backends.map((b, i) => [b.name, { b, i }]));
  // the version names a destination covers: one list per backend, and one per version name
  const allVersions = new Map<string, readonly string[]>();
  const oneVersion = new Map<string, readonly string[]>();
  const versionsOf = (backend: string, version: string | undefined): readonly string[] => {
    const cache = version === undefined ? allVersions : oneVersion;
    const key = version ?? backend;
    let names = cache.get(key);
    if (names === undefined) {
      names = Object.freeze(
        version !== undefined ? [version] : list(backendDocs.get(backend)!.b.versions, (v) => v.name),
      );
      cache.set(key, names);
    }
    return names;
  };

  // routes, in file order
  const frontendDocs = new Map((spec.frontends ?? []).map((f) => [f.name, f]));
  const routes: ResolvedRoute[] = list(spec.routes ?? [], (r, i) =>
    resolveRoute(r, `/spec/routes/${i}`, {
      frontend: r.parent.frontend !== undefined ? frontendDocs.get(r.parent.frontend) : undefined,
      parentBackend: r.parent.backend !== undefined ? backendDocs.get(r.parent.backend)?.b : undefined,
      versionsOf,
    }),
  );
  const routesOf = new Map<string, ResolvedRoute[]>();
  for (const r of routes) {
    const key = `${r.parent.kind}:${r.parent.name}`;
    let list = routesOf.get(key);
    if (!list) routesOf.set(key, (list = []));
    list.push(r);
  }

  // callers named by access rules
  const callerOf = (name: string): Caller => {
    if (name === '*') return { kind: 'any' };
    const b = backendDocs.get(name)?.b;
    if (b) {
      const ns = b.namespace ?? namespace;
      const sa = b.serviceAccount ?? b.name;
      return { kind: 'backend', name, namespace: ns, serviceAccount: sa, identity: identity(ns, sa) };
    }
    return { kind: 'frontend', name, namespace, serviceAccount: name, identity: identity(namespace, name) };
  };
  const accessOf = new Map<string, AccessPolicy>();
  (spec.access ?? []).forEach((rule, i) => {
    const rules: ResolvedAllow[] = list(rule.allow, (a, j) => ({
      from: list(a.from, callerOf),
      paths: a.paths && list(a.paths, pathPattern),
      methods: a.methods as HttpMethod[] | undefined,
      pointer: `/spec/access/${i}/allow/${j}`,
    }));
    accessOf.set(rule.backend, { mode: 'rules', rules, pointer: `/spec/access/${i}` });
  });

  const localAddresses = assignLocalAddresses(spec.backends, namespace);
  const implicit: ResolvedRoute[] = [];
  const backends: ResolvedBackend[] = list(spec.backends, (b, i) => {
    const ns = b.namespace ?? namespace;
    const sa = b.serviceAccount ?? b.name;
    let own = routesOf.get(`backend:${b.name}`);
    if (!own) {
      const route = implicitRoute(b, i, versionsOf);
      implicit.push(route);
      own = [route];
    }
    const hc = b.healthCheck;
    const od = b.outlierDetection;
    return {
      name: b.name,
      namespace: ns,
      serviceAccount: sa,
      identity: identity(ns, sa),
      fqdn: `${b.name}.${ns}.svc.cluster.local`,
      port: b.port,
      protocol: b.protocol ?? 'http',
      versions: list(b.versions, (v, j) => ({
        name: v.name,
        labels: v.labels ?? { version: v.name },
        endpoints: list(v.endpoints ?? [], parseEndpoint),
        pointer: `/spec/backends/${i}/versions/${j}`,
      })),
      loadBalancer: b.loadBalancer ?? 'round-robin',
      hashOn: b.hashOn
        ? b.hashOn.header !== undefined
          ? { header: b.hashOn.header.toLowerCase() }
          : b.hashOn.cookie !== undefined
            ? { cookie: b.hashOn.cookie }
            : { sourceIp: true }
        : undefined,
      healthCheck: hc && {
        path: hc.path,
        intervalMs: ms(hc.interval, 10_000),
        timeoutMs: ms(hc.timeout, 1000),
        healthyThreshold: hc.healthyThreshold ?? 2,
        unhealthyThreshold: hc.unhealthyThreshold ?? 3,
      },
      circuitBreaker: b.circuitBreaker && { ...b.circuitBreaker },
      outlierDetection: od && {
        consecutiveErrors: od.consecutiveErrors ?? 5,
        intervalMs: ms(od.interval, 10_000),
        baseEjectionTimeMs: ms(od.baseEjectionTime, 30_000),
        maxEjectionPercent: od.maxEjectionPercent ?? 10,
      },
      mtlsMode: b.mtls?.mode ?? meshMtls,
      access: accessOf.get(b.name) ?? { mode: defaultAccess === 'allow' ? 'allow-all' : 'deny-all' },
      routes: fitted(own),
      localAddress: localAddresses.get(b.name)!,
      sharesPort: localAddresses.get(b.name) !== '127.0.0.1',
      pointer: `/spec/backends/${i}`,
    };
  });

  const frontends: ResolvedFrontend[] = list(spec.frontends ?? [], (f, i) => ({
    name: f.name,
    address: f.address ?? '0.0.0.0',
    port: f.port,
    protocol: f.protocol,
    hosts: f.hosts ?? ['*'],
    tls: f.tls && { ...f.tls },
    serviceAccount: f.name,
    identity: identity(namespace, f.name),
    routes: routesOf.get(`frontend:${f.name}`) ?? [],
    pointer: `/spec/frontends/${i}`,
  }));

  return {
    name: doc.metadata.name,
    labels: {
      ...(doc.metadata.labels ?? {}),
      'app.kubernetes.io/managed-by': 'meshgen',
      'meshgen.io/mesh': doc.metadata.name,
    },
    namespace,
    trustDomain,
    mtlsMode: meshMtls,
    defaultAccess,
    backends,
    frontends,
    routes: [...routes, ...implicit],
    backendsByName: new Map(backends.map((b) => [b.name, b])),
    frontendsByName: new Map(frontends.map((f) => [f.name, f])),
  };
}

function resolveRoute(
  r: RouteDoc,
  pointer: string,
  {
    frontend,
    parentBackend,
    versionsOf,
  }: {
    frontend: NonNullable<Doc['spec']['frontends']>[number] | undefined;
    parentBackend: BackendDoc | undefined;
    versionsOf: (backend: string, version: string | undefined) => readonly string[];
  },
): ResolvedRoute {
  const tcp = frontend
    ? frontend.protocol === 'tcp' || frontend.protocol === 'tls-passthrough'
    : parentBackend?.protocol === 'tcp';
  const retries: Retries | undefined = r.retries && {
    attempts: r.retries.attempts,
    perTryTimeoutMs:
      r.retries.perTryTimeout === undefined ? undefined : parseDuration(r.retries.perTryTimeout),
    on: (r.retries.on ?? [...DEFAULT_RETRY_ON]) as Retries['on'],
  };
  return {
    name: r.name,
    implicit: false,
    parent: frontend
      ? { kind: 'frontend', name: frontend.name, hosts: r.parent.hosts ?? frontend.hosts ?? ['*'] }
      : { kind: 'backend', name: r.parent.backend! },
    protocol: tcp ? 'tcp' : 'http',
    matches: r.match ? list(r.match, (m, k) => resolveMatch(m, `${pointer}/match/${k}`)) : NONE,
    to: list(r.to, (t, k): ResolvedDestination => ({
      backend: t.backend,
      version: t.version,
      versions: versionsOf(t.backend, t.version),
      weight: t.weight ?? 100,
      pointer: `${pointer}/to/${k}`,
    })),
    timeoutMs: r.timeout === undefined ? undefined : parseDuration(r.timeout),
    retries,
    fault: r.fault && {
      delay: r.fault.delay && { ms: parseDuration(r.fault.delay.duration)!, percent: r.fault.delay.percent },
      abort: r.fault.abort && { ...r.fault.abort },
    },
    mirror: r.mirror && {
      backend: r.mirror.backend,
      version: r.mirror.version,
      versions: versionsOf(r.mirror.backend, r.mirror.version),
      percent: r.mirror.percent ?? 100,
    },
    rewrite: r.rewrite && { ...r.rewrite },
    requestHeaders: headerOps(r.headers?.request),
    responseHeaders: headerOps(r.headers?.response),
    pointer,
  };
}

function resolveMatch(m: NonNullable<RouteDoc['match']>[number], pointer: string): ResolvedMatch {
  const path = m.path;
  return {
    path: path
      ? path.exact !== undefined
        ? { kind: 'exact', value: path.exact }
        : path.prefix !== undefined
          ? { kind: 'prefix', value: path.prefix }
          : { kind: 'regex', value: path.regex! }
      : undefined,
    headers: m.headers
      ? list(Object.entries(m.headers), ([name, sm]) => ({
          name: name.toLowerCase(),
          match: stringMatch(sm),
        }))
      : NONE,
    queryParams: m.queryParams
      ? list(Object.entries(m.queryParams), ([name, sm]) => ({ name, match: stringMatch(sm) }))
      : NONE,
    method: m.method as HttpMethod | undefined,
    pointer,
  };
}

function stringMatch(sm: StringMatchDoc): StringMatch {
  if (sm.exact !== undefined) return { kind: 'exact', value: sm.exact };
  if (sm.prefix !== undefined) return { kind: 'prefix', value: sm.prefix };
  if (sm.regex !== undefined) return { kind: 'regex', value: sm.regex };
  return { kind: 'present' };
}

function headerOps(h: HeaderOpsDoc | undefined): HeaderOps {
  if (h === undefined) return NO_HEADER_OPS;
  return {
    set: Object.entries(h.set ?? {}),
    add: Object.entries(h.add ?? {}),
    remove: h.remove ?? [],
  };
}

function implicitRoute(
  b: BackendDoc,
  i: number,
  versionsOf: (backend: string, version: string | undefined) => readonly string[],
): ResolvedRoute {
  return {
    name: b.name,
    implicit: true,
    parent: { kind: 'backend', name: b.name },
    protocol: b.protocol === 'tcp' ? 'tcp' : 'http',
    matches: NONE,
    to: [
      {
        backend: b.name,
        version: undefined,
        versions: versionsOf(b.name, undefined),
        weight: 100,
        pointer: `/spec/backends/${i}`,
      },
    ],
    requestHeaders: NO_HEADER_OPS,
    responseHeaders: NO_HEADER_OPS,
    pointer: `/spec/backends/${i}`,
  };
}

function pathPattern(pattern: string): PathPattern {
  return pattern.endsWith('*')
    ? { kind: 'prefix', value: pattern.slice(0, -1), pattern }
    : { kind: 'exact', value: pattern, pattern };
}

/** Parses `10.0.0.1:80`, `[::1]:80` or `db.internal:5432`. */
function parseEndpoint(address: string): Endpoint {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith('[')) return { address, host: host.slice(1, -1), port, family: 'ipv6' };
  host = host.toLowerCase();
  return { address, host, port, family: /^\d+\.\d+\.\d+\.\d+$/.test(host) ? 'ipv4' : 'dns' };
}

/**
 * Local listener addresses for proxy targets (the SmartStack pattern): 127.0.0.1 for a backend alone
 * on its port; where several backends share a port, each gets its own address in 127.0.0.0/8 derived
 * from a hash of its namespace and name, so it stays the same when other backends come and go.
 */
function assignLocalAddresses(backends: readonly BackendDoc[], namespace: string): Map<string, string> {
  const perPort = new Map<number, number>();
  for (const b of backends) perPort.set(b.port, (perPort.get(b.port) ?? 0) + 1);
  const out = new Map<string, string>();
  const taken = new Set<string>(['127.0.0.1']);
  const sharing = backends
    .filter((b) => perPort.get(b.port)! > 1)
    .map((b) => ({ name: b.name, key: `${b.namespace ?? namespace}/${b.name}` }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const b of backends) if (perPort.get(b.port) === 1) out.set(b.name, '127.0.0.1');
  for (const { name, key } of sharing) {
    for (let salt = 0; ; salt++) {
      const h = fnv1a(salt ? `${key}#${salt}` : key);
      const address = `127.${1 + (h % 254)}.${(h >>> 8) & 0xff}.${1 + ((h >>> 16) % 254)}`;
      if (!taken.has(address)) {
        taken.add(address);
        out.set(name, address);
        break;
      }
    }
  }
  return out;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
