import { formatDuration } from '../model/duration.js';
import type {
  HeaderOps,
  MtlsMode,
  ResolvedBackend,
  ResolvedFrontend,
  ResolvedMatch,
  ResolvedMesh,
  ResolvedRoute,
  StringMatch,
} from '../model/types.js';
import { accessRow, type AccessRow } from './access.js';
import { canonical, sortedSet } from './canonical.js';
import type { ParentKey, RoutePolicy } from './types.js';

/**
 * The traffic table: a resolved mesh seen as behaviour. For each parent (frontend or backend) the
 * routes in first-match order, each with its match entries, its distribution over backend
 * versions and the policies that apply; per backend its versions, endpoints and settings, its mTLS
 * mode and who may call it. Every list whose order means nothing is a sorted set or a Map, so two
 * meshes that differ only in order, formatting or comments give equal tables.
 */
export interface TrafficTable {
  readonly mesh: Readonly<Record<'name' | 'namespace' | 'trustDomain' | 'defaultAccess', string>>;
  readonly mtlsMode: MtlsMode;
  readonly backends: ReadonlyMap<string, BackendRow>;
  readonly frontends: ReadonlyMap<string, FrontendRow>;
  readonly parents: ReadonlyMap<ParentKey, ParentRow>;
  /** Per backend: who may call it. */
  readonly access: ReadonlyMap<string, AccessRow>;
}

export interface BackendRow {
  readonly name: string;
  /** Canonical values of the backend's own settings (namespace, port, loadBalancer...). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly mtlsMode: MtlsMode;
  readonly versions: ReadonlyMap<string, VersionRow>;
}

export interface VersionRow {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly endpoints: ReadonlySet<string>;
}

export interface FrontendRow {
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
}

export interface ParentRow {
  readonly parent: ParentKey;
  /** First-match order. */
  readonly routes: readonly RouteRow[];
  readonly byKey: ReadonlyMap<string, RouteRow>;
}

export interface RouteRow {
  /** The route's name; `(implicit)` for the route normalize adds to a backend without routes. */
  readonly key: string;
  readonly position: number;
  /** Canonical match entries (any may match), sorted; `any request` when the route has none. */
  readonly matches: readonly string[];
  /** Percent per destination: `backend/version`, or `backend` for all its versions as one pool. */
  readonly distribution: ReadonlyMap<string, number>;
  readonly policies: Readonly<Record<RoutePolicy, unknown>>;
}

export const IMPLICIT_ROUTE = '(implicit)';
export const ANY_REQUEST = 'any request';

/** Builds the traffic table of a resolved mesh. Linear in the size of the mesh. */
export function buildTrafficTable(mesh: ResolvedMesh): TrafficTable {
  const backends = new Map<string, BackendRow>();
  const access = new Map<string, AccessRow>();
  for (const b of mesh.backends) {
    backends.set(b.name, backendRow(b));
    access.set(b.name, accessRow(b.access));
  }
  const frontends = new Map<string, FrontendRow>();
  for (const f of mesh.frontends) frontends.set(f.name, frontendRow(f));
  const parents = new Map<ParentKey, ParentRow>();
  for (const b of mesh.backends) parents.set(`backend/${b.name}`, parentRow(`backend/${b.name}`, b.routes));
  for (const f of mesh.frontends)
    parents.set(`frontend/${f.name}`, parentRow(`frontend/${f.name}`, f.routes));
  return {
    mesh: {
      name: mesh.name,
      namespace: mesh.namespace,
      trustDomain: mesh.trustDomain,
      defaultAccess: mesh.defaultAccess,
    },
    mtlsMode: mesh.mtlsMode,
    backends,
    frontends,
    parents,
    access,
  };
}

const duration = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : formatDuration(ms);

function backendRow(b: ResolvedBackend): BackendRow {
  const versions = new Map<string, VersionRow>();
  for (const v of b.versions) {
    versions.set(v.name, {
      name: v.name,
      labels: canonical(v.labels) as Record<string, string>,
      endpoints: new Set(v.endpoints.map((e) => e.address)),
    });
  }
  const hc = b.healthCheck;
  const od = b.outlierDetection;
  const settings = canonical({
    namespace: b.namespace,
    serviceAccount: b.serviceAccount,
    port: b.port,
    protocol: b.protocol,
    loadBalancer: b.loadBalancer,
    hashOn: b.hashOn,
    healthCheck: hc && {
      ...hc,
      intervalMs: undefined,
      timeoutMs: undefined,
      interval: duration(hc.intervalMs),
      timeout: duration(hc.timeoutMs),
    },
    circuitBreaker: b.circuitBreaker,
    outlierDetection: od && {
      ...od,
      intervalMs: undefined,
      baseEjectionTimeMs: undefined,
      interval: duration(od.intervalMs),
      baseEjectionTime: duration(od.baseEjectionTimeMs),
    },
  }) as Record<string, unknown>;
  return { name: b.name, settings, mtlsMode: b.mtlsMode, versions };
}

function frontendRow(f: ResolvedFrontend): FrontendRow {
  const settings = canonical({
    address: f.address,
    port: f.port,
    protocol: f.protocol,
    hosts: sortedSet(f.hosts),
    tls: f.tls,
  }) as Record<string, unknown>;
  return { name: f.name, settings };
}

function parentRow(parent: ParentKey, routes: readonly ResolvedRoute[]): ParentRow {
  const rows = routes.map((r, i) => routeRow(r, i));
  return { parent, routes: rows, byKey: new Map(rows.map((r) => [r.key, r])) };
}

function routeRow(r: ResolvedRoute, position: number): RouteRow {
  const distribution = new Map<string, number>();
  for (const t of r.to) {
    const key = t.version === undefined ? t.backend : `${t.backend}/${t.version}`;
    distribution.set(key, (distribution.get(key) ?? 0) + t.weight);
  }
  const retries = r.retries && {
    attempts: r.retries.attempts,
    perTryTimeout: duration(r.retries.perTryTimeoutMs),
    on: sortedSet(r.retries.on),
  };
  const fault = r.fault && {
    delay: r.fault.delay && { duration: formatDuration(r.fault.delay.ms), percent: r.fault.delay.percent },
    abort: r.fault.abort,
  };
  const mirror = r.mirror && {
    backend: r.mirror.backend,
    version: r.mirror.version,
    percent: r.mirror.percent,
  };
  const policies: Record<RoutePolicy, unknown> = {
    hosts: r.parent.kind === 'frontend' ? sortedSet(r.parent.hosts) : null,
    timeout: duration(r.timeoutMs) ?? null,
    retries: canonical(retries) ?? null,
    fault: canonical(fault) ?? null,
    mirror: canonical(mirror) ?? null,
    rewrite: canonical(r.rewrite) ?? null,
    'request-headers': headerOps(r.requestHeaders),
    'response-headers': headerOps(r.responseHeaders),
  };
  return {
    key: r.implicit ? IMPLICIT_ROUTE : r.name,
    position,
    matches: r.matches.length ? sortedSet(r.matches.map(describeMatch)) : [ANY_REQUEST],
    distribution,
    policies,
  };
}

function headerOps(h: HeaderOps): unknown {
  if (!h.set.length && !h.add.length && !h.remove.length) return null;
  const pairs = (list: HeaderOps['set']) => (list.length ? canonical(Object.fromEntries(list)) : undefined);
  return canonical({
    set: pairs(h.set),
    add: pairs(h.add),
    remove: h.remove.length ? sortedSet(h.remove) : undefined,
  });
}

function stringMatch(m: StringMatch): string {
  return m.kind === 'present' ? 'present' : `${m.kind} ${JSON.stringify(m.value)}`;
}

/** One match entry as canonical text: `GET, path prefix /api/, header x-canary exact "true"`. */
export function describeMatch(m: ResolvedMatch): string {
  const parts: string[] = [];
  if (m.method) parts.push(m.method);
  if (m.path) parts.push(`path ${m.path.kind} ${m.path.value}`);
  for (const h of [...m.headers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
    parts.push(`header ${h.name} ${stringMatch(h.match)}`);
  for (const q of [...m.queryParams].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
    parts.push(`query ${q.name} ${stringMatch(q.match)}`);
  return parts.length ? parts.join(', ') : ANY_REQUEST;
}
