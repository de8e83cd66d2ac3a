import type { ResolvedMatch, ResolvedMesh, ResolvedRoute, StringMatch } from '../../../src/model/types.js';
import type { Emitted } from './helpers.js';

/**
 * A simulated HTTP request routed two ways: through the emitted VirtualServices as Istio reads them
 * (the idea of Istio's pilot/pkg/simulation), and through the mesh's own first-match routes. Tests
 * assert both land on the same destinations.
 */
export interface Request {
  host: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  query: Record<string, string>;
}

export type Landing = { host: string; subset?: string; weight: number }[] | 'no-route';

type IstioString = { exact?: string; prefix?: string; regex?: string };

function istioString(m: IstioString, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (m.exact !== undefined) return value === m.exact;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  if (m.regex !== undefined) return new RegExp(`^(?:${m.regex})$`).test(value);
  return true;
}

interface IstioMatch {
  uri?: IstioString;
  headers?: Record<string, IstioString>;
  queryParams?: Record<string, IstioString>;
  method?: IstioString;
}

function istioMatch(m: IstioMatch, req: Request): boolean {
  if (m.uri && !istioString(m.uri, req.path)) return false;
  if (m.method && !istioString(m.method, req.method)) return false;
  for (const [k, v] of Object.entries(m.headers ?? {})) if (!istioString(v, req.headers[k])) return false;
  for (const [k, v] of Object.entries(m.queryParams ?? {})) if (!istioString(v, req.query[k])) return false;
  return true;
}

/** Envoy's virtual host choice: the exact host, else the longest matching wildcard suffix, else `*`. */
function pickVirtualService(services: Emitted[], host: string): Emitted | undefined {
  let best: { vs: Emitted; score: number } | undefined;
  for (const vs of services)
    for (const h of vs.spec.hosts as string[]) {
      const score =
        h === host
          ? Infinity
          : h === '*'
            ? 0
            : h.startsWith('*.') && host.endsWith(h.slice(1))
              ? h.length
              : -1;
      if (score >= 0 && (!best || score > best.score)) best = { vs, score };
    }
  return best?.vs;
}

export function routeThroughIstio(objects: Emitted[], gateway: string, req: Request): Landing {
  const services = objects.filter(
    (o) => o.kind === 'VirtualService' && (o.spec.gateways as string[]).includes(gateway),
  );
  const vs = pickVirtualService(services, req.host);
  if (!vs) return 'no-route';
  for (const r of vs.spec.http as {
    match?: IstioMatch[];
    route: { destination: { host: string; subset?: string }; weight?: number }[];
  }[])
    if (!r.match || r.match.some((m) => istioMatch(m, req)))
      return r.route.map((d) => ({
        host: d.destination.host,
        subset: d.destination.subset,
        weight: d.weight ?? 100,
      }));
  return 'no-route';
}

function meshString(m: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (m.kind === 'present') return true;
  if (m.kind === 'exact') return value === m.value;
  if (m.kind === 'prefix') return value.startsWith(m.value);
  return new RegExp(`^(?:${m.value})$`).test(value);
}

function meshMatch(m: ResolvedMatch, req: Request): boolean {
  if (m.path && !meshString(m.path, req.path)) return false;
  if (m.method && m.method !== req.method) return false;
  if (!m.headers.every((h) => meshString(h.match, req.headers[h.name]))) return false;
  return m.queryParams.every((q) => meshString(q.match, req.query[q.name]));
}

const covers = (pattern: string, host: string) =>
  pattern === host || pattern === '*' || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)));

/** The mesh format's own rule: the parent's routes serving the host, first match wins. */
export function routeThroughMesh(
  mesh: ResolvedMesh,
  parent: { frontend: string } | { backend: string },
  req: Request,
): Landing {
  const routes: readonly ResolvedRoute[] =
    'frontend' in parent
      ? mesh.frontendsByName.get(parent.frontend)!.routes
      : mesh.backendsByName.get(parent.backend)!.routes;
  for (const r of routes) {
    if (r.parent.kind === 'frontend' && !r.parent.hosts.some((h) => covers(h, req.host))) continue;
    if (r.matches.length && !r.matches.some((m) => meshMatch(m, req))) continue;
    return r.to.map((t) => ({
      host: mesh.backendsByName.get(t.backend)!.fqdn,
      subset: t.version,
      weight: t.weight,
    }));
  }
  return 'no-route';
}
