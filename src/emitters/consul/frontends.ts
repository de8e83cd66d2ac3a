import type { ResolvedFrontend, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import { tcpDestination, upstreamSettings } from './backends.js';
import type { Output } from './model.js';
import { hasCatchAll, routerRoutes } from './routes.js';

/**
 * One ingress-gateway config entry per frontend, named after it: the gateway's Consul service name
 * is the identity access rules name (`from: [<frontend>]`). Its routes live in a virtual service
 * `<frontend>--routes` (a service-router without instances) that the listener exposes.
 */
export function emitFrontends(mesh: ResolvedMesh, out: Output, sdsCluster?: string): void {
  for (const f of mesh.frontends) {
    if (!out.claim(f.name, 'frontend', f.name, f.pointer)) continue;
    if (f.address !== '0.0.0.0')
      out.warn(
        'MG3002',
        `frontend "${f.name}" binds ${f.address}; a Consul ingress gateway listens on every address of its pod`,
        f.pointer,
      );
    const listener =
      f.routes.length === 0
        ? undefined
        : f.protocol === 'tcp' || f.protocol === 'tls-passthrough'
          ? tcpListener(mesh, f, out)
          : httpListener(mesh, f, out);
    if (!listener)
      out.warn(
        'MG3002',
        `frontend "${f.name}" has no route; a Consul ingress listener needs a service, so none is declared and connections to port ${f.port} are refused rather than answered 404`,
        f.pointer,
      );
    let tls: Record<string, unknown> | undefined;
    if (f.protocol === 'https' && sdsCluster && f.tls?.secretName) {
      // The gateway fetches the frontend's own certificate from the SDS cluster, by secret name.
      tls = { Enabled: true, SDS: { ClusterName: sdsCluster, CertResource: f.tls.secretName } };
    } else if (f.protocol === 'https') {
      tls = { Enabled: true };
      out.warn(
        'MG3002',
        `frontend "${f.name}" serves HTTPS with a certificate from Consul's CA for its hosts, not its own certificate or secret${f.tls?.secretName ? ` "${f.tls.secretName}"` : ''}`,
        `${f.pointer}/tls`,
        'to serve the secret named in tls.secretName, run an SDS server for the gateway and pass --set consulSdsCluster=<its cluster name>',
      );
    }
    out.add(
      { Kind: 'ingress-gateway', Name: f.name, TLS: tls, Listeners: listener ? [listener] : [] },
      mesh.namespace,
    );
  }
}

function httpListener(mesh: ResolvedMesh, f: ResolvedFrontend, out: Output): Record<string, unknown> {
  const protocols = new Set(
    f.routes.flatMap((r) => r.to.map((t) => mesh.backendsByName.get(t.backend)?.protocol ?? 'http')),
  );
  let protocol = protocols.size === 1 ? [...protocols][0]! : 'http';
  if (protocols.size > 1) {
    out.warn(
      'MG3002',
      `frontend "${f.name}" routes to backends of different protocols (${[...protocols].join(', ')}); a Consul ingress listener and its discovery chain carry one protocol`,
      f.pointer,
    );
  }
  if (protocol === 'tcp') protocol = 'http';
  const groups = hostGroups(f);
  const services = groups.map((g, i) => {
    const name = groups.length === 1 ? `${f.name}--routes` : `${f.name}--routes-${i + 1}`;
    out.claim(name, 'frontend', f.name, f.pointer);
    out.add({ Kind: 'service-defaults', Name: name, Protocol: protocol }, mesh.namespace);
    out.add(
      {
        Kind: 'service-router',
        Name: name,
        Routes: routerRoutes(mesh, f.name, mesh.namespace, g.routes, out),
      },
      mesh.namespace,
    );
    if (!hasCatchAll(g.routes))
      out.warn(
        'MG3002',
        `frontend "${f.name}": requests that none of its routes match get 503 from the gateway (the router's default route has no instances), not 404`,
        g.routes[g.routes.length - 1]?.pointer ?? f.pointer,
      );
    let hosts: string[] | undefined = g.hosts;
    if (f.protocol === 'https' && hosts.includes('*')) {
      hosts = undefined;
      out.warn(
        'MG3002',
        `frontend "${f.name}" accepts any host over HTTPS; Consul allows host "*" only without TLS, so the gateway answers for "${name}.ingress.*" only`,
        `${f.pointer}/hosts`,
        "list the frontend's host names",
      );
    }
    return { Name: name, Hosts: hosts, ...ingressLimits(mesh, f, g.routes, out) };
  });
  return { Port: f.port, Protocol: protocol, Services: services };
}

interface HostGroup {
  hosts: string[];
  routes: ResolvedRoute[];
}

/**
 * Consul's router cannot match on the host: hosts that see different route lists (because routes
 * name `parent.hosts`) get separate virtual router services, one per distinct route list.
 */
function hostGroups(f: ResolvedFrontend): HostGroup[] {
  const hosts = new Set<string>(f.hosts);
  for (const r of f.routes) if (r.parent.kind === 'frontend') for (const h of r.parent.hosts) hosts.add(h);
  const bySignature = new Map<string, HostGroup>();
  for (const h of hosts) {
    const routes = f.routes.filter(
      (r) => r.parent.kind !== 'frontend' || r.parent.hosts.includes(h) || r.parent.hosts.includes('*'),
    );
    if (routes.length === 0) continue;
    const key = routes.map((r) => r.name).join('\0');
    const group = bySignature.get(key);
    if (group) group.hosts.push(h);
    else bySignature.set(key, { hosts: [h], routes });
  }
  return [...bySignature.values()];
}

/**
 * An ingress service's limits and passive health check apply to every cluster its chain reaches;
 * they are set only when all backends it reaches share the same settings.
 */
function ingressLimits(
  mesh: ResolvedMesh,
  f: ResolvedFrontend,
  routes: readonly ResolvedRoute[],
  out: Output,
) {
  const signatures = new Map<string, Record<string, unknown> | undefined>();
  for (const r of routes)
    for (const t of r.to) {
      const b = mesh.backendsByName.get(t.backend);
      if (!b) continue;
      const s = upstreamSettings(b);
      signatures.set(s ? JSON.stringify(s) : '', s);
    }
  const defined = [...signatures.values()].filter((s) => s !== undefined);
  if (defined.length === 0) return {};
  if (signatures.size > 1) {
    out.warn(
      'MG3002',
      `frontend "${f.name}" reaches backends with different circuit breakers or outlier detection; a Consul ingress service has one setting for all of them, so none is applied to traffic from the gateway`,
      f.pointer,
    );
    return {};
  }
  const s = defined[0]!;
  const limits = (s.Limits ?? {}) as Record<string, unknown>;
  return { ...limits, PassiveHealthCheck: s.PassiveHealthCheck };
}

/** A TCP listener takes one service: a virtual service whose resolver redirects to the destination. */
function tcpListener(
  mesh: ResolvedMesh,
  f: ResolvedFrontend,
  out: Output,
): Record<string, unknown> | undefined {
  const route = f.routes[0]!;
  const to = tcpDestination(route, out);
  if (f.protocol === 'tls-passthrough' && !(f.hosts.length === 1 && f.hosts[0] === '*'))
    out.warn(
      'MG3002',
      `frontend "${f.name}" passes TLS through as TCP; a Consul ingress TCP listener cannot choose by SNI host, so every connection is forwarded whatever its host`,
      `${f.pointer}/hosts`,
    );
  const target = mesh.backendsByName.get(to.backend);
  const own = target?.routes.find((r) => !r.implicit);
  if (!to.version && own && (own.to.length > 1 || own.to[0]!.version || own.to[0]!.backend !== to.backend))
    out.warn(
      'MG3002',
      `route "${route.name}" sends to all versions of "${to.backend}", but Consul's resolver for "${to.backend}" also carries that backend's own TCP route "${own.name}", so connections from frontend "${f.name}" follow it`,
      `${route.pointer}/to`,
      'name a version in the frontend route',
    );
  const name = `${f.name}--routes`;
  if (!out.claim(name, 'frontend', f.name, f.pointer)) return undefined;
  out.add({ Kind: 'service-defaults', Name: name, Protocol: 'tcp' }, mesh.namespace);
  out.add(
    { Kind: 'service-resolver', Name: name, Redirect: { Service: to.backend, ServiceSubset: to.version } },
    mesh.namespace,
  );
  return {
    Port: f.port,
    Protocol: 'tcp',
    Services: [{ Name: name, ...ingressLimits(mesh, f, [route], out) }],
  };
}
