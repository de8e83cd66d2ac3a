import type { Diagnostic } from '../../model/diagnostics.js';
import type { ResolvedFrontend, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import { socketAddress, type Json } from './common.js';
import { buildCluster, clusterName, orderClusterKeys } from './clusters.js';
import { TLS_INSPECTOR, httpConnectionManager, tcpProxyFilter } from './listeners.js';
import { networkRbacFilter } from './rbac.js';
import { buildHttpRoute, buildTcpProxy, type ClusterKey } from './routes.js';
import type { EnvoySettings } from './settings.js';
import { frontendTls } from './tls.js';

/** Does host pattern `p` (`*`, `*.example.com`, `a.example.com`) accept every host `h` accepts? */
function covers(p: string, h: string): boolean {
  if (p === '*' || p === h) return true;
  return p.startsWith('*.') && h !== '*' && h.endsWith(p.slice(1));
}

/**
 * Virtual hosts of an HTTP frontend, one per host. Envoy picks the most specific virtual host for a
 * request's host; each holds, in the mesh's order, every route whose hosts cover it, so that the
 * first route of the mesh that accepts a request is also the first Envoy route that does.
 */
function virtualHosts(f: ResolvedFrontend, built: Map<ResolvedRoute, Json[]>): Json[] {
  const hosts = new Set<string>(f.hosts);
  for (const r of f.routes) if (r.parent.kind === 'frontend') for (const h of r.parent.hosts) hosts.add(h);
  return [...hosts].map((h) => ({
    name: h,
    domains: [h],
    // no route accepts the request: Envoy answers 404 itself
    routes: f.routes
      .filter((r) => r.parent.kind === 'frontend' && r.parent.hosts.some((p) => covers(p, h)))
      .flatMap((r) => built.get(r)!),
  }));
}

/** A TCP frontend without a route: a filter chain that closes every connection. */
function closeAll(statPrefix: string): Json[] {
  return [networkRbacFilter({ action: 'ALLOW', policies: {} }, statPrefix)];
}

/**
 * The gateway bootstrap: one listener per frontend. Each frontend is a workload of its own (access
 * rules name it), so its clusters are its own, `<frontend>|<backend>|<version>`, presenting its
 * certificate `<certDir>/frontends/<frontend>.crt` to backends with mTLS (the layout `meshgen certs`
 * writes).
 */
export function buildGateway(mesh: ResolvedMesh, settings: EnvoySettings, diagnostics: Diagnostic[]): Json {
  const listeners: Json[] = [];
  const clusters: Json[] = [];
  for (const f of mesh.frontends) {
    const prefix = `${f.name}|`;
    const needed = new Map<string, ClusterKey>();
    const need = (keys: ClusterKey[]) => {
      for (const k of keys) needed.set(clusterName(k.backend, k.version, prefix), k);
    };
    const listener: Json = { name: f.name, address: socketAddress(f.address, f.port) };
    if (f.protocol === 'http' || f.protocol === 'https') {
      const built = new Map<ResolvedRoute, Json[]>();
      let fault = false;
      for (const r of f.routes) {
        const b = buildHttpRoute(mesh, r, prefix, diagnostics);
        built.set(r, b.routes);
        need(b.clusters);
        fault ||= b.usesFault;
      }
      const hcm = httpConnectionManager({
        statPrefix: f.name,
        virtualHosts: virtualHosts(f, built),
        fault,
        edge: true,
      });
      listener.filter_chains = [
        {
          filters: [hcm],
          transport_socket: f.protocol === 'https' && f.tls ? frontendTls(f.tls) : undefined,
        },
      ];
    } else if (f.protocol === 'tcp') {
      // no match on TCP routes: the first route takes every connection
      const r = f.routes[0];
      if (r) {
        const t = buildTcpProxy(mesh, r, prefix, f.name);
        need(t.clusters);
        listener.filter_chains = [{ filters: [tcpProxyFilter(t.config)] }];
      } else listener.filter_chains = [{ filters: closeAll(f.name) }];
    } else {
      // tls-passthrough: Envoy picks the filter chain with the most specific server name; a host an
      // earlier route already covers is left to that route, which keeps first-match order
      listener.listener_filters = [TLS_INSPECTOR];
      const claimed: string[] = [];
      const chains: Json[] = [];
      for (const r of f.routes) {
        const hosts = (r.parent.kind === 'frontend' ? r.parent.hosts : ['*']).filter(
          (h) => !claimed.some((c) => covers(c, h)),
        );
        if (hosts.length === 0) continue;
        claimed.push(...hosts);
        const t = buildTcpProxy(mesh, r, prefix, `${f.name}.${r.name}`);
        need(t.clusters);
        const names = hosts.filter((h) => h !== '*');
        chains.push({
          name: r.name,
          filter_chain_match: hosts.includes('*') ? undefined : { server_names: names },
          filters: [tcpProxyFilter(t.config)],
        });
      }
      listener.filter_chains = chains.length ? chains : [{ filters: closeAll(f.name) }];
    }
    listeners.push(listener);
    for (const { name, key: k } of orderClusterKeys(
      mesh,
      [...needed].map(([name, key]) => ({ name, key })),
    )) {
      const backend = mesh.backendsByName.get(k.backend)!;
      const versions = k.version === undefined ? backend.versions.map((v) => v.name) : [k.version];
      clusters.push(
        buildCluster({
          name,
          backend,
          versions,
          certDir: settings.certDir,
          caller: { workload: `frontends/${f.name}` },
        }),
      );
    }
  }
  return {
    node: { id: `${mesh.name}-gateway`, cluster: `${mesh.name}-gateway` },
    admin: { address: socketAddress('127.0.0.1', settings.adminPort) },
    static_resources: { listeners, clusters },
  };
}
