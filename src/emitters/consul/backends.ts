import type { ResolvedBackend, ResolvedDestination, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import { consulProtocol, goDuration, type Output } from './model.js';
import { hasCatchAll, routerRoutes } from './routes.js';

const LB_POLICY = { 'least-request': 'least_request', random: 'random', 'ring-hash': 'ring_hash' } as const;

/** Per backend: service-defaults, service-resolver, and a service-router for its own routes. */
export function emitBackends(mesh: ResolvedMesh, out: Output): void {
  const upstream = upstreamConfig(mesh, out);
  for (const b of mesh.backends) {
    out.claim(b.name, 'backend', b.name, b.pointer);
    out.add(serviceDefaults(b, upstream, out), b.namespace);
    const resolver = serviceResolver(b);
    if (b.protocol === 'tcp') tcpRoute(b, resolver, out);
    out.add(resolver, b.namespace);
    if (b.protocol !== 'tcp') httpRouter(mesh, b, out);
    if (b.serviceAccount !== b.name)
      out.warn(
        'MG3002',
        `backend "${b.name}" has service account "${b.serviceAccount}"; Consul names workloads by service name, and consul-k8s requires the pod's service account to equal it`,
        b.pointer,
        'use a service account named like the backend',
      );
  }
}

function serviceDefaults(b: ResolvedBackend, upstream: Record<string, unknown> | undefined, out: Output) {
  let mode: string;
  if (b.mtlsMode === 'disabled') {
    mode = 'permissive';
    out.warn(
      'MG3002',
      `backend "${b.name}" has mtls disabled; Consul's sidecars always use mTLS between themselves, so it is rendered as MutualTLSMode permissive (plaintext callers accepted too)`,
      b.pointer,
    );
  } else mode = b.mtlsMode;
  return {
    Kind: 'service-defaults' as const,
    Name: b.name,
    Protocol: consulProtocol(b.protocol),
    MutualTLSMode: mode,
    UpstreamConfig: upstream,
  };
}

/** Subsets by `Service.Meta.version` (consul-k8s sets it from `consul.hashicorp.com/service-meta-version`). */
function serviceResolver(
  b: ResolvedBackend,
): Record<string, unknown> & { Kind: 'service-resolver'; Name: string } {
  const subsets: Record<string, unknown> = {};
  for (const v of b.versions)
    subsets[v.name] = { Filter: `Service.Meta.version == ${JSON.stringify(v.name)}` };
  let lb: Record<string, unknown> | undefined;
  if (b.loadBalancer !== 'round-robin') {
    const h = b.hashOn;
    lb = {
      Policy: LB_POLICY[b.loadBalancer],
      HashPolicies: !h
        ? undefined
        : 'header' in h
          ? [{ Field: 'header', FieldValue: h.header }]
          : 'cookie' in h
            ? [{ Field: 'cookie', FieldValue: h.cookie }]
            : [{ SourceIP: true }],
    };
  }
  return { Kind: 'service-resolver', Name: b.name, Subsets: subsets, LoadBalancer: lb };
}

function httpRouter(mesh: ResolvedMesh, b: ResolvedBackend, out: Output): void {
  const own = b.routes.filter((r) => !r.implicit);
  if (own.length === 0) return;
  const routes = routerRoutes(mesh, b.name, b.namespace, own, out);
  out.add({ Kind: 'service-router', Name: b.name, Routes: routes }, b.namespace);
  if (!hasCatchAll(own))
    out.warn(
      'MG3002',
      `backend "${b.name}": requests that none of its routes match go to all versions of "${b.name}" (the service-router's implicit default route), not 404`,
      own[own.length - 1]!.pointer,
      'end the route list with a route without match to choose where the rest goes',
      'consul: implicit default route',
    );
}

/**
 * TCP services cannot have routers or splitters in Consul (they need an HTTP protocol); the one
 * thing a resolver can do is pick a subset (DefaultSubset) or another service (Redirect).
 */
function tcpRoute(b: ResolvedBackend, resolver: Record<string, unknown>, out: Output): void {
  const route = b.routes.find((r) => !r.implicit);
  if (!route) return;
  const to = tcpDestination(route, out);
  if (to.backend === b.name) {
    if (to.version) resolver.DefaultSubset = to.version;
  } else {
    delete resolver.Subsets;
    delete resolver.LoadBalancer;
    resolver.Redirect = { Service: to.backend, ServiceSubset: to.version };
  }
}

/**
 * Where a TCP route's connections go in Consul, which can neither split TCP nor bound its time:
 * the heaviest destination, with a diagnostic for the split and for the timeout left out.
 */
export function tcpDestination(route: ResolvedRoute, out: Output): ResolvedDestination {
  let to = route.to[0]!;
  if (route.to.length > 1) {
    to = route.to.reduce((best, t) => (t.weight > best.weight ? t : best));
    out.warn(
      'MG3002',
      `route "${route.name}": Consul cannot split TCP traffic (service-splitter needs an HTTP protocol); every connection goes to ${describe(to.backend, to.version)}`,
      `${route.pointer}/to`,
    );
  }
  if (route.timeoutMs !== undefined)
    out.warn(
      'MG3001',
      `route "${route.name}" uses a timeout on TCP traffic, which the consul target cannot express: it is left out`,
      `${route.pointer}/timeout`,
    );
  return to;
}

function describe(backend: string, version: string | undefined): string {
  return version ? `version "${version}" of "${backend}"` : `all versions of "${backend}"`;
}

/**
 * Limits and passive health checks are settings of the calling proxy in Consul: each caller's
 * service-defaults `UpstreamConfig`. When every backend has the same settings they go into
 * `Defaults` (one small block per caller); otherwise each caller lists `Overrides` by upstream name.
 */
function upstreamConfig(mesh: ResolvedMesh, out: Output): Record<string, unknown> | undefined {
  const bySignature = new Map<string, { settings: Record<string, unknown>; names: string[] }>();
  let plain = 0;
  for (const b of mesh.backends) {
    const settings = upstreamSettings(b, out);
    if (!settings) {
      plain++;
      continue;
    }
    const key = JSON.stringify(settings);
    const group = bySignature.get(key);
    if (group) group.names.push(b.name);
    else bySignature.set(key, { settings, names: [b.name] });
  }
  if (bySignature.size === 0) return undefined;
  if (bySignature.size === 1 && plain === 0) return { Defaults: [...bySignature.values()][0]!.settings };
  const overrides: Record<string, unknown>[] = [];
  for (const b of mesh.backends) {
    const settings = upstreamSettings(b);
    if (settings) overrides.push({ Name: b.name, ...settings });
  }
  return { Overrides: overrides };
}

/** `UpstreamConfig` Limits and PassiveHealthCheck for calls to `b`; diagnostics only when `out` is given. */
export function upstreamSettings(b: ResolvedBackend, out?: Output): Record<string, unknown> | undefined {
  const cb = b.circuitBreaker;
  const od = b.outlierDetection;
  if (!cb && !od) return undefined;
  if (cb?.maxRetries !== undefined && out)
    out.warn(
      'MG3002',
      `backend "${b.name}" limits concurrent retries (circuitBreaker.maxRetries); Consul's upstream Limits have no such field, so it is left out`,
      `${b.pointer}/circuitBreaker/maxRetries`,
      undefined,
      'consul: no maxRetries',
    );
  const limits =
    cb && (cb.maxConnections ?? cb.maxPendingRequests ?? cb.maxRequests) !== undefined
      ? {
          MaxConnections: cb.maxConnections,
          MaxPendingRequests: cb.maxPendingRequests,
          MaxConcurrentRequests: cb.maxRequests,
        }
      : undefined;
  return {
    Limits: limits,
    PassiveHealthCheck: od && {
      Interval: goDuration(od.intervalMs),
      MaxFailures: od.consecutiveErrors,
      MaxEjectionPercent: od.maxEjectionPercent,
      BaseEjectionTime: goDuration(od.baseEjectionTimeMs),
    },
  };
}
