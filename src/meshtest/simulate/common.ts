/**
 * What the three simulators share: reading rendered Kubernetes objects, string and path matching,
 * header operations, and the try loop of an Envoy-like sidecar (retries, per-try and total
 * timeouts) applied to the case's backend behaviours.
 */
import { loadAll } from 'js-yaml';
import { RE2JS } from 're2js';
import { parseDuration } from '../../model/duration.js';
import type { OutputFile } from '../../emitters/types.js';
import type { BackendBehaviour, SimCase, SimResult } from './types.js';

export type Obj = Record<string, unknown>;

/** A rendered Kubernetes object: kind, name, namespace, and the rest as read. */
export interface K8sObject {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: Obj;
  readonly raw: Obj;
}

/** Thrown inside a simulator for what it does not interpret; turned into kind 'unsupported'. */
class Unsupported extends Error {}

export function unsupported(reason: string): never {
  throw new Unsupported(reason);
}

/** Runs a simulator body, turning `Unsupported` into its result; anything else is a bug. */
export function guarded(body: () => SimResult): SimResult {
  try {
    return body();
  } catch (e) {
    if (e instanceof Unsupported) return { kind: 'unsupported', reason: e.message };
    throw e;
  }
}

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): Record<string, string> =>
  isObj(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};

/** Every object of the YAML files (other files, e.g. HCL or JSON flavours, are left to the caller). */
export function readObjects(files: readonly OutputFile[]): K8sObject[] {
  const out: K8sObject[] = [];
  for (const f of files) {
    if (!/\.ya?ml$/.test(f.path)) continue;
    for (const doc of loadAll(f.contents)) {
      if (!isObj(doc) || typeof doc['kind'] !== 'string') continue;
      const meta = isObj(doc['metadata']) ? doc['metadata'] : {};
      out.push({
        kind: doc['kind'],
        apiVersion: str(doc['apiVersion']) ?? '',
        name: str(meta['name']) ?? '',
        namespace: str(meta['namespace']) ?? 'default',
        labels: strings(meta['labels']),
        annotations: strings(meta['annotations']),
        spec: isObj(doc['spec']) ? doc['spec'] : {},
        raw: doc,
      });
    }
  }
  return out;
}

/** Fails with a reason naming the fields of `o` that are not in `known`: never a silent guess. */
export function onlyKnown(o: Obj, known: readonly string[], what: string): void {
  const extra = Object.keys(o).filter((k) => !known.includes(k) && o[k] !== undefined);
  if (extra.length) unsupported(`${what} uses ${extra.join(', ')}, which this simulation does not interpret`);
}

/** A duration as the rendered objects write it (`3s`, `0.5s`, `1m30s`). */
export function durationMs(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined) unsupported(`${what}: duration ${JSON.stringify(v)} is not read here`);
  return ms;
}

/** RE2 full match, as Envoy's safe_regex (and so Istio, Consul, Linkerd) applies it. */
export function fullMatch(pattern: string, value: string): boolean {
  try {
    return RE2JS.matches(pattern, value);
  } catch {
    return unsupported(`the regular expression ${JSON.stringify(pattern)} is not valid RE2`);
  }
}

/** The request's path with its query string, as a backend receives it. */
export function pathWithQuery(path: string, query: Readonly<Record<string, string>>): string {
  const q = new URLSearchParams(query).toString();
  return q ? `${path}?${q}` : path;
}

/** Header operations of one place (route, filter, split): set replaces, add appends, remove deletes. */
export interface HeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

const NO_OPS: HeaderOps = { set: [], add: [], remove: [] };

/** Applies header operations to lower-case headers; an added value joins the present one with ", ". */
export function applyOps(headers: Record<string, string>, ops: HeaderOps): void {
  for (const [n, v] of ops.set) headers[n.toLowerCase()] = v;
  for (const [n, v] of ops.add) {
    const name = n.toLowerCase();
    headers[name] = headers[name] === undefined ? v : `${headers[name]}, ${v}`;
  }
  for (const n of ops.remove) delete headers[n.toLowerCase()];
}

/** One destination of a split, as a backend (and version, or all versions as one pool). */
export interface Destination {
  readonly backend: string;
  readonly version?: string;
  /** The backend's versions, when the destination is the pool of all of them. */
  readonly pool?: readonly string[];
  readonly weight: number;
  /** Header operations that apply to this destination only (Consul splits, Gateway API backendRef filters). */
  readonly requestOps?: HeaderOps;
  readonly responseOps?: HeaderOps;
}

/** Retries as the sidecar applies them. */
export interface RetryPolicy {
  /** Retries after the first try. */
  readonly attempts: number;
  readonly perTryTimeoutMs?: number;
  /** When a response status is retried. */
  readonly onStatus: (status: number) => boolean;
  /** Whether a reset of the connection by the backend is retried. */
  readonly onReset: boolean;
  /** Whether a try that runs past perTryTimeout is retried. */
  readonly onPerTryTimeout: boolean;
}

/** How the sidecar of one system answers what it sees from the backend. */
export interface Sidecar {
  /** The system's name, for reasons. */
  readonly system: string;
  /** The status the caller gets when the backend resets the connection. */
  readonly resetStatus: number;
  /** The status when a try or the whole request runs out of time. */
  readonly timeoutStatus: number;
  /** True when a retry may go to another destination of the split (the split is chosen again). */
  readonly retryRechoosesSplit: boolean;
}

interface Policy {
  readonly timeoutMs?: number;
  readonly retries?: RetryPolicy;
}

/** What one request to one destination comes to. */
interface Delivery {
  readonly status: number;
  readonly tries: number;
  /** The status came from the backend (response header operations apply). */
  readonly answered: boolean;
}

/** The behaviour of a backend version in the case: "backend/version", then "backend", then 200. */
function behaviourOf(c: SimCase, d: Destination, sidecar: Sidecar): BackendBehaviour {
  if (d.version !== undefined) return c.backends[`${d.backend}/${d.version}`] ?? c.backends[d.backend] ?? {};
  const pool = d.pool ?? [];
  const unknown = Object.keys(c.backends).filter(
    (k) => k.startsWith(`${d.backend}/`) && !pool.includes(k.slice(d.backend.length + 1)),
  );
  if (unknown.length)
    unsupported(
      `the case gives ${unknown.join(', ')} a behaviour, and ${sidecar.system} sends to "${d.backend}" as one pool whose versions the objects do not name as such`,
    );
  const own = pool.map((v) => c.backends[`${d.backend}/${v}`]).filter((b) => b !== undefined);
  if (own.length) {
    const all = (d.pool ?? []).map((v) =>
      JSON.stringify(c.backends[`${d.backend}/${v}`] ?? c.backends[d.backend] ?? {}),
    );
    if (new Set(all).size > 1)
      unsupported(
        `${sidecar.system} sends to all versions of "${d.backend}" as one pool, and the case gives its versions different behaviours: which one answers is chance`,
      );
  }
  return c.backends[`${d.backend}/${d.pool?.[0] ?? ''}`] ?? c.backends[d.backend] ?? {};
}

/**
 * The tries of one request to one destination, as Envoy's router (and Linkerd's, within the limits its
 * Sidecar says) runs them: the whole-request timeout covers every try and, when it fires, the caller
 * gets 504 and no try starts again; a try past perTryTimeout fails with 504 and is retried when the
 * policy says so. Retry back-off (Envoy's 25 ms base interval) is not counted against the timeout:
 * a case whose outcome depends on those milliseconds is not one to decide by simulation.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
 */
function deliver(c: SimCase, d: Destination, policy: Policy, sidecar: Sidecar): Delivery {
  const b = behaviourOf(c, d, sidecar);
  const retries = policy.retries;
  const total = policy.timeoutMs;
  let elapsed = 0;
  for (let tries = 1; ; tries++) {
    // the timeout fired as the last try ended: no further try starts
    if (total !== undefined && elapsed >= total)
      return { status: sidecar.timeoutStatus, tries: tries - 1, answered: false };
    const failing = tries <= (b.failFirst ?? 0);
    let kind: 'status' | 'reset' | 'hang';
    let status = 0;
    if (failing) {
      kind = 'status';
      status = b.failStatus ?? 503;
    } else if (b.reset) kind = 'reset';
    else if (b.hang) kind = 'hang';
    else {
      kind = 'status';
      status = b.status ?? 200;
    }
    const answerAfter = kind === 'hang' ? Infinity : kind === 'reset' ? 0 : (b.delayMs ?? 0);
    const perTry = retries?.perTryTimeoutMs;
    const tryEnds = perTry !== undefined ? Math.min(answerAfter, perTry) : answerAfter;
    if (total !== undefined && elapsed + tryEnds > total)
      return { status: sidecar.timeoutStatus, tries, answered: false };
    if (tryEnds === Infinity)
      unsupported(
        `the backend never answers and nothing in the ${sidecar.system} objects bounds the request: the caller waits until its own timeout`,
      );
    elapsed += tryEnds;
    const perTryExpired = perTry !== undefined && answerAfter > perTry;
    const retry =
      retries !== undefined &&
      tries <= retries.attempts &&
      (perTryExpired
        ? retries.onPerTryTimeout
        : kind === 'reset'
          ? retries.onReset
          : retries.onStatus(status));
    if (!retry) {
      if (perTryExpired) return { status: sidecar.timeoutStatus, tries, answered: false };
      if (kind === 'reset') return { status: sidecar.resetStatus, tries, answered: false };
      return { status, tries, answered: true };
    }
  }
}

/** Everything a route decided for a request, before the backends are asked. */
export interface Routed {
  readonly destinations: readonly Destination[];
  readonly policy: Policy;
  /** The path (with ?query) the backend receives. */
  readonly path: string;
  /** The request headers the backend receives (lower-case), route operations applied. */
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly responseOps: HeaderOps;
  /** An abort injected for every request: the status, and no backend is reached. */
  readonly abort?: number;
}

/**
 * The observation of a routed request: each destination of the split is asked; the shares are the
 * weights. Where the destinations would answer differently, which one answers the first request is
 * chance, and that is said instead of picking one.
 */
export function observe(c: SimCase, routed: Routed, sidecar: Sidecar): SimResult {
  if (routed.abort !== undefined) return { kind: 'observed', status: routed.abort };
  const live = routed.destinations.filter((d) => d.weight > 0);
  if (!live.length) unsupported(`every destination of the route has weight 0 in ${sidecar.system}`);
  const sum = live.reduce((s, d) => s + d.weight, 0);
  const shares: Record<string, number> = {};
  for (const d of live) {
    const key = d.version !== undefined ? `${d.backend}/${d.version}` : d.backend;
    shares[key] = (shares[key] ?? 0) + d.weight / sum;
  }
  const outcomes = live.map((d) => {
    const delivery = deliver(c, d, routed.policy, sidecar);
    const requestHeaders = { ...routed.requestHeaders };
    applyOps(requestHeaders, d.requestOps ?? NO_OPS);
    let responseHeaders: Record<string, string> | undefined;
    if (delivery.answered) {
      responseHeaders = {};
      applyOps(responseHeaders, d.responseOps ?? NO_OPS);
      applyOps(responseHeaders, routed.responseOps);
    }
    return { d, delivery, requestHeaders, responseHeaders };
  });
  const key = (o: (typeof outcomes)[number]) =>
    JSON.stringify([o.delivery, o.requestHeaders, o.responseHeaders ?? null]);
  if (new Set(outcomes.map(key)).size > 1)
    unsupported(
      `the destinations of the split would answer differently (${outcomes
        .map((o) => `${o.d.backend}${o.d.version ? '/' + o.d.version : ''}: ${o.delivery.status}`)
        .join(', ')}): which one answers the first request is chance`,
    );
  if (live.length > 1 && sidecar.retryRechoosesSplit && outcomes[0]!.delivery.tries > 1)
    unsupported(
      `${sidecar.system} may send a retry to another destination of the split, so the tries each backend sees are chance`,
    );
  const first = outcomes[0]!;
  const backends = new Set(live.map((d) => d.backend));
  const versions = new Set(live.map((d) => d.version));
  if (backends.size > 1)
    unsupported(
      `the split spreads requests over backends ${[...backends].join(', ')}: which one answers the first request is chance`,
    );
  // as a real run sees it: who answered, and what it received, only when a backend's answer came back
  if (!first.delivery.answered)
    return { kind: 'observed', status: first.delivery.status, tries: first.delivery.tries };
  return {
    kind: 'observed',
    status: first.delivery.status,
    backend: first.d.backend,
    version: versions.size === 1 ? first.d.version : undefined,
    tries: first.delivery.tries,
    path: routed.path,
    requestHeaders: first.requestHeaders,
    responseHeaders: first.responseHeaders,
    shares,
  };
}

/** A denial by an access rule or by mTLS: no backend is reached. */
export function denied(status: number): SimResult {
  return { kind: 'observed', status, denied: true };
}

/** No route accepts the request: 404, no backend. */
export const notFound: SimResult = { kind: 'observed', status: 404 };

/** The host without its port, lower-case. */
export function hostOnly(host: string): string {
  return host
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
}

/** A host pattern of Istio or the Gateway API: "*" any, "*.example.com" any name below it. */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p === '*') return true;
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}

/**
 * The fully qualified name a caller in `namespace` means by `host` (Kubernetes DNS search path:
 * `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`).
 */
export function serviceFqdn(host: string, namespace: string): string {
  const h = hostOnly(host);
  const parts = h.split('.');
  if (parts.length === 1) return `${h}.${namespace}.svc.cluster.local`;
  if (parts.length === 2) return `${h}.svc.cluster.local`;
  if (parts.length === 3 && parts[2] === 'svc') return `${h}.cluster.local`;
  return h;
}
