/**
 * Which route of the mesh a case exercises, by the mesh format's own rules (first match of the
 * parent's routes, "Behaviour in detail" in the format's contract), and which of a target's fidelity
 * diagnostics make the case's outcome something the target does not promise.
 */
import type { Diagnostic } from '../model/diagnostics.js';
import { featureUses, type Feature } from '../model/features.js';
import type { ResolvedMatch, ResolvedMesh, ResolvedRoute, StringMatch } from '../model/types.js';
import type { TestCase } from './types.js';

/** The routes a case's request is offered to, in order: its frontend's or its called backend's. */
function parentRoutes(mesh: ResolvedMesh, c: TestCase): readonly ResolvedRoute[] {
  const r = c.request;
  if (r.frontend !== undefined) {
    const f = mesh.frontendsByName.get(r.frontend);
    if (!f) return [];
    const host = (r.host ?? defaultHost(mesh, c)).replace(/:\d+$/, '').toLowerCase();
    return f.routes.filter((route) => {
      const hosts =
        route.parent.kind === 'frontend' && route.parent.hosts.length ? route.parent.hosts : f.hosts;
      return hosts.some(
        (h) => h === '*' || h.toLowerCase() === host || (h.startsWith('*.') && host.endsWith(h.slice(1))),
      );
    });
  }
  return mesh.backendsByName.get(r.backend ?? '')?.routes ?? [];
}

/** The Host a case sends when it names none: its frontend's first host, or the called backend's name. */
export function defaultHost(mesh: ResolvedMesh, c: TestCase): string {
  const r = c.request;
  if (r.frontend !== undefined) {
    const hosts = mesh.frontendsByName.get(r.frontend)?.hosts.filter((h) => h !== '*' && !h.startsWith('*.'));
    return hosts?.[0] ?? 'localhost';
  }
  return r.backend ?? 'localhost';
}

function stringMatches(m: StringMatch, value: string | undefined): boolean {
  if (m.kind === 'present') return value !== undefined;
  if (value === undefined) return false;
  if (m.kind === 'exact') return value === m.value;
  if (m.kind === 'prefix') return value.startsWith(m.value);
  return new RegExp(`^(?:${m.value})$`).test(value);
}

function matchAccepts(m: ResolvedMatch, c: TestCase): boolean {
  const r = c.request;
  const path = r.path ?? '/';
  if (m.path) {
    const p = m.path;
    const ok =
      p.kind === 'exact'
        ? path === p.value
        : p.kind === 'prefix'
          ? path.startsWith(p.value)
          : new RegExp(`^(?:${p.value})$`).test(path);
    if (!ok) return false;
  }
  if (m.method && m.method !== (r.method ?? 'GET')) return false;
  const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if (!m.headers.every((h) => stringMatches(h.match, headers[h.name.toLowerCase()]))) return false;
  return m.queryParams.every((q) => stringMatches(q.match, r.query?.[q.name]));
}

/** The route whose match accepts the case's request first, or undefined (404). */
export function routeFor(mesh: ResolvedMesh, c: TestCase): ResolvedRoute | undefined {
  return parentRoutes(mesh, c).find(
    (route) =>
      route.protocol === 'tcp' || route.matches.length === 0 || route.matches.some((m) => matchAccepts(m, c)),
  );
}

const MATCH_FEATURES: ReadonlySet<Feature> = new Set([
  'header-match',
  'query-match',
  'method-match',
  'regex-path',
]);
/** Features that do not change one request's outcome (the mirror's copy, balancing, health checks). */
const NO_OUTCOME: ReadonlySet<Feature> = new Set([
  'mirror',
  'health-check',
  'circuit-breaker',
  'load-balancer',
  'ring-hash',
]);

function relevant(feature: Feature, c: TestCase): boolean {
  if (NO_OUTCOME.has(feature)) return false;
  const behaviours = Object.values(c.backends ?? {});
  const failing = behaviours.some(
    (b) => b.failFirst || (b.status ?? 200) >= 500 || b.reset || b.hang || b.delay,
  );
  if (feature === 'fault-delay') return c.expect?.timeout !== undefined || behaviours.some((b) => b.delay);
  if (feature === 'outlier-detection' || feature === 'retries' || feature === 'per-try-timeout')
    return failing || c.expect?.tries !== undefined;
  if (feature === 'timeout') return failing || c.expect?.timeout !== undefined;
  return true;
}

/** Diagnostics that declare a feature kept differently enough that a case on it cannot hold. */
const DECLARED_DIFFERENCES: Readonly<Record<string, Feature>> = { MG3020: 'retries', MG3021: 'timeout' };

/**
 * Why a target cannot be held to this case, from its render's diagnostics: a feature it leaves out
 * (MG3001) on the route the case takes, on a route before it whose match it loses, or on the backends
 * it reaches; or a route order it does not keep (MG3004). Undefined: the target promises the outcome.
 */
export function unsupportedReason(
  mesh: ResolvedMesh,
  c: TestCase,
  diagnostics: readonly Diagnostic[],
  uses: ReadonlyMap<string, Feature> = featureMap(mesh),
): string | undefined {
  const routes = parentRoutes(mesh, c);
  const hit = routeFor(mesh, c);
  const before = hit ? routes.slice(0, routes.indexOf(hit)) : routes;
  const reached = new Set((hit?.to ?? []).map((t) => t.backend));
  const under = (pointer: string, base: string) => pointer === base || pointer.startsWith(base + '/');
  const entry =
    c.request.frontend !== undefined
      ? mesh.frontendsByName.get(c.request.frontend)?.pointer
      : mesh.backendsByName.get(c.request.backend ?? '')?.pointer;
  for (const d of diagnostics) {
    const p = d.pointer ?? '';
    // the listener the case enters by is left out (a TCP one on a target without TCP)
    if (d.code === 'MG3001' && entry !== undefined && p === `${entry}/protocol`) return d.message;
    // retries and timeouts a target keeps differently, as it declares (apache: MG3020, MG3021)
    const declared = DECLARED_DIFFERENCES[d.code];
    if (declared && hit && under(p, hit.pointer) && relevant(declared, c)) return d.message;
    if (d.code === 'MG3004' && [...before, ...(hit ? [hit] : [])].some((r) => under(p, r.pointer)))
      return d.message;
    if (d.code !== 'MG3001') continue;
    const feature = uses.get(p);
    if (feature === undefined) continue;
    if (hit && under(p, hit.pointer) && relevant(feature, c)) return d.message;
    if (before.some((r) => under(p, r.pointer)) && MATCH_FEATURES.has(feature)) return d.message;
    for (const name of reached) {
      const b = mesh.backendsByName.get(name);
      const pointers = [b?.pointer, b?.access.mode === 'rules' ? b.access.pointer : undefined];
      if (pointers.some((bp) => bp !== undefined && under(p, bp)) && relevant(feature, c)) return d.message;
    }
  }
  return undefined;
}

/** Each feature use's pointer and feature: what an MG3001 at that pointer is about. */
export function featureMap(mesh: ResolvedMesh): Map<string, Feature> {
  return new Map(featureUses(mesh).map((u) => [u.pointer, u.feature]));
}
