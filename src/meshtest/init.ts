/**
 * `meshgen test --init`: a starter test file with one case per route (its first match, its split
 * with a tolerance sized for the request count), and route coverage: the routes and split
 * destinations no case reaches.
 */
import type { ResolvedMesh, ResolvedRoute, StringMatch } from '../model/types.js';
import { toYaml } from '../yaml/writer.js';
import { routeFor } from './route.js';
import type { TestCase, TestCaseDocument, TestRequest } from './types.js';

/** Requests a split case sends. */
const SPLIT_COUNT = 1000;

/**
 * A tolerance for a share p measured over n requests: four binomial standard deviations
 * (sqrt(p(1-p)/n)), rounded up to half a point, so a correct split fails about once in 15,000 runs.
 */
function splitTolerance(weights: readonly number[], n = SPLIT_COUNT): number {
  const sd = Math.max(...weights.map((w) => Math.sqrt(((w / 100) * (1 - w / 100)) / n)));
  return Math.ceil(sd * 4 * 200) / 200;
}

function sample(m: StringMatch): string | undefined {
  if (m.kind === 'present') return '1';
  if (m.kind === 'regex') return undefined;
  return m.value;
}

/** A caller that the backend's access rules let in, for east-west cases. */
function callerFor(
  mesh: ResolvedMesh,
  backend: string,
): { caller: string; method?: string; path?: string; denied?: boolean } {
  const b = mesh.backendsByName.get(backend)!;
  if (b.access.mode === 'rules')
    for (const rule of b.access.rules)
      for (const from of rule.from)
        if (from.kind === 'backend' || from.kind === 'any') {
          const caller =
            from.kind === 'backend' ? from.name : (mesh.backends.find((x) => x.name !== backend) ?? b).name;
          const p = rule.paths?.[0];
          return {
            caller,
            method: rule.methods?.[0],
            path: p ? (p.kind === 'prefix' ? `${p.value}starter` : p.value) : undefined,
          };
        }
  const caller = (mesh.backends.find((x) => x.name !== backend) ?? b).name;
  // no backend may call it: the starter checks that one is refused
  return b.access.mode === 'allow-all' ? { caller } : { caller, denied: true };
}

function starterCase(mesh: ResolvedMesh, route: ResolvedRoute): TestCaseDocument {
  const request: { -readonly [K in keyof TestRequest]: TestRequest[K] } = {};
  let denied = false;
  if (route.parent.kind === 'frontend') {
    const f = mesh.frontendsByName.get(route.parent.name)!;
    request.frontend = f.name;
    const host = [...route.parent.hosts, ...f.hosts].find((h) => h !== '*' && !h.startsWith('*.'));
    if (host) request.host = host;
  } else {
    const c = callerFor(mesh, route.parent.name);
    request.caller = c.caller;
    request.backend = route.parent.name;
    if (c.method) request.method = c.method;
    if (c.path) request.path = c.path;
    denied = c.denied === true;
  }
  const m = route.matches[0];
  if (m) {
    if (m.path && m.path.kind !== 'regex')
      request.path =
        m.path.kind === 'prefix'
          ? `${m.path.value}${m.path.value.endsWith('/') ? '' : '/'}starter`
          : m.path.value;
    if (m.method) request.method = m.method;
    const headers = Object.fromEntries(
      m.headers.flatMap((h) => (sample(h.match) !== undefined ? [[h.name, sample(h.match)!]] : [])),
    );
    if (Object.keys(headers).length) request.headers = headers;
    const query = Object.fromEntries(
      m.queryParams.flatMap((q) => (sample(q.match) !== undefined ? [[q.name, sample(q.match)!]] : [])),
    );
    if (Object.keys(query).length) request.query = query;
  }
  request.path ??= '/';
  const to = route.to;
  if (denied) return { name: caseName(route), request, expect: { denied: true } };
  if (to.length > 1) {
    request.count = SPLIT_COUNT;
    const shares: Record<string, number> = {};
    for (const t of to) {
      const key = t.version ? `${t.backend}/${t.version}` : t.backend;
      shares[key] = (shares[key] ?? 0) + t.weight / 100;
    }
    return {
      name: caseName(route),
      request,
      expect: { shares, tolerance: splitTolerance(to.map((t) => t.weight)) },
    };
  }
  const only = to[0]!;
  return {
    name: caseName(route),
    request,
    expect: { backend: only.backend, ...(only.version ? { version: only.version } : {}) },
  };
}

function caseName(route: ResolvedRoute): string {
  const base = route.implicit ? `${route.name}-default` : route.name;
  return base.length > 63 ? base.slice(0, 63).replace(/-+$/, '') : base;
}

/** The text of a starter MeshTest file for a mesh. */
export function starterTests(mesh: ResolvedMesh, meshFile: string): string {
  const seen = new Set<string>();
  const cases = mesh.routes
    .map((r) => starterCase(mesh, r))
    .filter((c) => !seen.has(c.name) && seen.add(c.name));
  const doc = {
    apiVersion: 'meshgen.io/v1alpha1',
    kind: 'MeshTest',
    metadata: { name: mesh.name },
    spec: { cases },
  };
  return (
    `# Starter behaviour tests for ${meshFile}, one case per route: meshgen test ${meshFile} <this file>\n` +
    `# Split cases send ${SPLIT_COUNT} requests; each tolerance is four binomial standard deviations.\n` +
    toYaml(doc)
  );
}

export interface Coverage {
  readonly routes: number;
  /** Routes no case takes, as `route "name"` (implicit ones: `backend "name" (no route of its own)`). */
  readonly unreached: readonly string[];
  /** Split destinations (`route "name" -> backend/version`) no case reaches or measures. */
  readonly unmeasured: readonly string[];
}

function routeLabel(r: ResolvedRoute): string {
  return r.implicit ? `backend "${r.name}" (its default route)` : `route "${r.name}"`;
}

/** Which routes and split destinations the cases reach, by the mesh format's first-match rules. */
export function coverage(mesh: ResolvedMesh, cases: readonly TestCase[]): Coverage {
  const byRoute = new Map<ResolvedRoute, TestCase[]>();
  for (const c of cases) {
    const r = routeFor(mesh, c);
    if (r) byRoute.set(r, [...(byRoute.get(r) ?? []), c]);
  }
  const unreached: string[] = [];
  const unmeasured: string[] = [];
  for (const r of mesh.routes) {
    const hits = byRoute.get(r);
    if (!hits) {
      unreached.push(routeLabel(r));
      continue;
    }
    if (r.to.length < 2) continue;
    for (const t of r.to) {
      const key = t.version ? `${t.backend}/${t.version}` : t.backend;
      const measured = hits.some(
        (c) =>
          Object.keys(c.expect?.shares ?? {}).some(
            (k) => k === key || key.startsWith(k + '/') || k.startsWith(key + '/'),
          ) ||
          (c.expect?.backend === t.backend && (t.version === undefined || c.expect.version === t.version)),
      );
      if (!measured) unmeasured.push(`${routeLabel(r)} -> ${key}`);
    }
  }
  return { routes: mesh.routes.length, unreached, unmeasured };
}
