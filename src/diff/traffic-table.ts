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
import { byString, canonical, sortedSet } from './canonical.js';
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

interface BackendRow {
  readonly name: string;
  /** Canonical values of the backend's own settings (namespace, port, loadBalancer...). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly mtlsMode: MtlsMode;
  readonly versions: ReadonlyMap<string, VersionRow>;
  /** Equal signatures: nothing about the backend differs (a shortcut for the common case). */
  readonly signature: string;
}

interface VersionRow {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly endpoints: ReadonlySet<string>;
}

interface FrontendRow {
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
  /** Equal signatures: the route behaves the same (position aside). */
  readonly signature: string;
}

export const IMPLICIT_ROUTE = '(implicit)';
const ANY_REQUEST = 'any request';

/**
 * Rows keep a signature and compute their details again when asked: the diff compares signatures
 * and reads details only where they differ, so a table of 10,000 backends retains little besides
 * one string per row (which keeps the garbage collector out of the way).
 */
class LazyBackendRow implements BackendRow {
  readonly name: string;
  readonly mtlsMode: MtlsMode;
  readonly signature: string;
  #details?: BackendDetails;
  constructor(private readonly backend: ResolvedBackend) {
    this.name = backend.name;
    this.mtlsMode = backend.mtlsMode;
    this.signature = backendSignature(backend);
  }
  get settings() {
    return (this.#details ??= backendDetails(this.backend)).settings;
  }
  get versions() {
    return (this.#details ??= backendDetails(this.backend)).versions;
  }
}

class LazyRouteRow implements RouteRow {
  readonly key: string;
  readonly signature: string;
  #details?: RouteDetails;
  constructor(
    private readonly route: ResolvedRoute,
    readonly position: number,
  ) {
    this.key = route.implicit ? IMPLICIT_ROUTE : route.name;
    this.signature = routeSignature(route);
  }
  get matches() {
    return (this.#details ??= routeDetails(this.route)).matches;
  }
  get distribution() {
    return (this.#details ??= routeDetails(this.route)).distribution;
  }
  get policies() {
    return (this.#details ??= routeDetails(this.route)).policies;
  }
}

class LazyParentRow implements ParentRow {
  #byKey?: Map<string, RouteRow>;
  constructor(
    readonly parent: ParentKey,
    readonly routes: readonly RouteRow[],
  ) {}
  get byKey(): ReadonlyMap<string, RouteRow> {
    return (this.#byKey ??= new Map(this.routes.map((r) => [r.key, r])));
  }
}

/** Builds the traffic table of a resolved mesh. Linear in the size of the mesh. */
export function buildTrafficTable(mesh: ResolvedMesh): TrafficTable {
  const backends = new Map<string, BackendRow>();
  const access = new Map<string, AccessRow>();
  for (const b of mesh.backends) {
    backends.set(b.name, new LazyBackendRow(b));
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

/** The same object without its undefined values; callers list keys in sorted order. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function sortedRecord(r: Readonly<Record<string, string>>): Record<string, string> {
  const keys = Object.keys(r);
  if (keys.length < 2) return { ...r };
  const out: Record<string, string> = {};
  for (const k of keys.sort(byString)) out[k] = r[k]!;
  return out;
}

const sorted = (list: string[]): string[] => (list.length > 1 ? list.sort(byString) : list);

/**
 * A string that differs when anything the diff reports about the backend differs. Built from
 * primitives in one JSON.stringify: no intermediate objects, which matters at 10,000 backends.
 */
export function backendSignature(b: ResolvedBackend): string {
  const parts: unknown[] = [b.mtlsMode, b.namespace, b.serviceAccount, b.port, b.protocol, b.loadBalancer];
  const h = b.hashOn;
  parts.push(h ? ('header' in h ? `h:${h.header}` : 'cookie' in h ? `c:${h.cookie}` : 'ip') : null);
  const hc = b.healthCheck;
  if (hc) parts.push(hc.path, hc.intervalMs, hc.timeoutMs, hc.healthyThreshold, hc.unhealthyThreshold);
  else parts.push(null);
  const cb = b.circuitBreaker;
  if (cb)
    parts.push(
      cb.maxConnections ?? -1,
      cb.maxPendingRequests ?? -1,
      cb.maxRequests ?? -1,
      cb.maxRetries ?? -1,
    );
  else parts.push(null);
  const od = b.outlierDetection;
  if (od) parts.push(od.consecutiveErrors, od.intervalMs, od.baseEjectionTimeMs, od.maxEjectionPercent);
  else parts.push(null);
  const versions =
    b.versions.length > 1 ? [...b.versions].sort((x, y) => byString(x.name, y.name)) : b.versions;
  for (const v of versions) {
    const keys = sorted(Object.keys(v.labels));
    parts.push(v.name, keys.length);
    for (const k of keys) parts.push(k, v.labels[k]);
    parts.push(sorted(v.endpoints.map((e) => e.address)).join(' '));
  }
  return JSON.stringify(parts);
}

/** A string that differs when the route's matches, distribution or policies differ. */
export function routeSignature(r: ResolvedRoute): string {
  const parts: unknown[] = [r.matches.length ? sorted(r.matches.map(describeMatch)).join('\n') : ANY_REQUEST];
  const to =
    r.to.length > 1
      ? [...r.to].sort((x, y) => byString(x.backend, y.backend) || byString(x.version ?? '', y.version ?? ''))
      : r.to;
  // two entries for one destination add up, as in the table's distribution
  let prev = '';
  for (const t of to) {
    const key = t.version === undefined ? t.backend : `${t.backend}/${t.version}`;
    if (key === prev) parts[parts.length - 1] = (parts[parts.length - 1] as number) + t.weight;
    else parts.push(key, t.weight);
    prev = key;
  }
  parts.push(
    r.parent.kind === 'frontend' ? sorted([...r.parent.hosts]).join(' ') : null,
    r.timeoutMs ?? null,
  );
  const rt = r.retries;
  parts.push(rt ? `${rt.attempts} ${rt.perTryTimeoutMs ?? ''} ${sorted([...rt.on]).join(',')}` : null);
  const f = r.fault;
  parts.push(
    f?.delay ? `${f.delay.ms} ${f.delay.percent}` : null,
    f?.abort ? `${f.abort.status} ${f.abort.percent}` : null,
  );
  const m = r.mirror;
  parts.push(m ? `${m.backend}/${m.version ?? ''} ${m.percent}` : null);
  parts.push(r.rewrite?.pathPrefix ?? null, r.rewrite?.host ?? null);
  for (const h of [r.requestHeaders, r.responseHeaders]) {
    if (!h.set.length && !h.add.length && !h.remove.length) parts.push(null);
    else parts.push(JSON.stringify(headerOps(h)));
  }
  return JSON.stringify(parts);
}

type BackendDetails = Pick<BackendRow, 'settings' | 'versions'>;

function backendDetails(b: ResolvedBackend): BackendDetails {
  const versions = new Map<string, VersionRow>();
  for (const v of b.versions) {
    const labels = sortedRecord(v.labels);
    const endpoints = v.endpoints.map((e) => e.address);
    versions.set(v.name, { name: v.name, labels, endpoints: new Set(endpoints) });
  }
  const hc = b.healthCheck;
  const od = b.outlierDetection;
  const cb = b.circuitBreaker;
  // keys in sorted order: the canonical form the diff compares and prints
  const settings = compact({
    circuitBreaker: cb
      ? compact({
          maxConnections: cb.maxConnections,
          maxPendingRequests: cb.maxPendingRequests,
          maxRequests: cb.maxRequests,
          maxRetries: cb.maxRetries,
        })
      : undefined,
    hashOn: b.hashOn ? { ...b.hashOn } : undefined,
    healthCheck: hc
      ? {
          healthyThreshold: hc.healthyThreshold,
          interval: duration(hc.intervalMs),
          path: hc.path,
          timeout: duration(hc.timeoutMs),
          unhealthyThreshold: hc.unhealthyThreshold,
        }
      : undefined,
    loadBalancer: b.loadBalancer,
    namespace: b.namespace,
    outlierDetection: od
      ? {
          baseEjectionTime: duration(od.baseEjectionTimeMs),
          consecutiveErrors: od.consecutiveErrors,
          interval: duration(od.intervalMs),
          maxEjectionPercent: od.maxEjectionPercent,
        }
      : undefined,
    port: b.port,
    protocol: b.protocol,
    serviceAccount: b.serviceAccount,
  }) as Record<string, unknown>;
  return { settings, versions };
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
  return new LazyParentRow(
    parent,
    routes.map((r, i) => new LazyRouteRow(r, i)),
  );
}

type RouteDetails = Pick<RouteRow, 'matches' | 'distribution' | 'policies'>;

function routeDetails(r: ResolvedRoute): RouteDetails {
  const distribution = new Map<string, number>();
  for (const t of r.to) {
    const key = t.version === undefined ? t.backend : `${t.backend}/${t.version}`;
    distribution.set(key, (distribution.get(key) ?? 0) + t.weight);
  }
  const rt = r.retries;
  const retries = rt
    ? compact({ attempts: rt.attempts, on: sortedSet(rt.on), perTryTimeout: duration(rt.perTryTimeoutMs) })
    : null;
  const fault = r.fault
    ? compact({
        abort: r.fault.abort ? { percent: r.fault.abort.percent, status: r.fault.abort.status } : undefined,
        delay: r.fault.delay
          ? { duration: formatDuration(r.fault.delay.ms), percent: r.fault.delay.percent }
          : undefined,
      })
    : null;
  const m = r.mirror;
  const mirror = m ? compact({ backend: m.backend, percent: m.percent, version: m.version }) : null;
  const rewrite = r.rewrite ? compact({ host: r.rewrite.host, pathPrefix: r.rewrite.pathPrefix }) : null;
  const policies: Record<RoutePolicy, unknown> = {
    hosts: r.parent.kind === 'frontend' ? sortedSet(r.parent.hosts) : null,
    timeout: duration(r.timeoutMs) ?? null,
    retries,
    fault,
    mirror,
    rewrite,
    'request-headers': headerOps(r.requestHeaders),
    'response-headers': headerOps(r.responseHeaders),
  };
  const matches = r.matches.length ? sortedSet(r.matches.map(describeMatch)) : [ANY_REQUEST];
  return { matches, distribution, policies };
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
function describeMatch(m: ResolvedMatch): string {
  const parts: string[] = [];
  if (m.method) parts.push(m.method);
  if (m.path) parts.push(`path ${m.path.kind} ${m.path.value}`);
  for (const h of [...m.headers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
    parts.push(`header ${h.name} ${stringMatch(h.match)}`);
  for (const q of [...m.queryParams].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
    parts.push(`query ${q.name} ${stringMatch(q.match)}`);
  return parts.length ? parts.join(', ') : ANY_REQUEST;
}
