import type { FrontendProtocol, ResolvedFrontend, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import { httpRoute, tcpRoute, tlsRoute } from './routes.js';
import type { Notes } from './common.js';

type Obj = Record<string, unknown>;

const SERVER_PROTOCOL: Record<FrontendProtocol, string> = {
  http: 'HTTP',
  https: 'HTTPS',
  tcp: 'TCP',
  'tls-passthrough': 'TLS',
};

function serverTls(f: ResolvedFrontend, notes: Notes): Obj | undefined {
  if (f.protocol === 'tls-passthrough') return { mode: 'PASSTHROUGH' };
  if (f.protocol !== 'https' || !f.tls) return undefined;
  const tls = f.tls;
  const mode = tls.clientCa ? 'MUTUAL' : 'SIMPLE';
  if (tls.secretName) {
    if (tls.clientCa)
      notes.info(
        `frontend "${f.name}": Istio reads the client CA for secret "${tls.secretName}" from its key ca.crt or from the secret "${tls.secretName}-cacert", not from ${tls.clientCa}`,
        `${f.pointer}/tls/clientCa`,
        `kubectl create secret generic ${tls.secretName}-cacert --from-file=ca.crt=${tls.clientCa} in the ingress gateway's namespace`,
      );
    return { mode, credentialName: tls.secretName };
  }
  // no secret: the gateway reads files, which must be mounted into its pods at these paths
  notes.info(
    `frontend "${f.name}" has no tls.secretName: the Istio gateway reads ${tls.certificate} and ${tls.key} from its own file system`,
    `${f.pointer}/tls`,
    'set tls.secretName to a Kubernetes TLS secret in the ingress gateway namespace',
  );
  return { mode, serverCertificate: tls.certificate, privateKey: tls.key, caCertificates: tls.clientCa };
}

/** The Gateway of a frontend: one server on its port, with its hosts and TLS. */
export function gatewaySpec(f: ResolvedFrontend, selector: Record<string, string>, notes: Notes): Obj {
  if (f.address !== '0.0.0.0')
    notes.approx(
      `frontend "${f.name}"`,
      'address',
      `the Istio gateway listens on every address of its pods, not only on ${f.address}`,
      f.pointer,
    );
  const protocol = SERVER_PROTOCOL[f.protocol];
  return {
    selector,
    servers: [
      {
        port: { number: f.port, name: `${protocol.toLowerCase()}-${f.port}`, protocol },
        hosts: [...f.hosts],
        tls: serverTls(f, notes),
      },
    ],
  };
}

/** Does the route host pattern `pattern` serve requests for `host` (itself possibly a wildcard)? */
function covers(pattern: string, host: string): boolean {
  return pattern === host || pattern === '*' || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)));
}

/** The wildcard patterns that could cover a host: `*` and `*.<suffix>` for each of its suffixes. */
function coveringPatterns(host: string): string[] {
  const out = ['*'];
  const labels = host.split('.');
  for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
  return out;
}

export interface FrontendVirtualService {
  /** Empty for the frontend's single VirtualService; the host when routes differ in hosts. */
  readonly host?: string;
  readonly spec: Obj;
}

/**
 * The VirtualServices bound to a frontend's Gateway. When all its routes serve the same hosts, one.
 * Otherwise one per host, holding in file order every route that serves that host (wildcards
 * included), because Envoy picks one virtual host per request and first-match order must hold
 * within it; Istio's merging of several VirtualServices for one host has no defined order.
 */
export function frontendVirtualServices(
  mesh: ResolvedMesh,
  f: ResolvedFrontend,
  gatewayRef: string,
  notes: Notes,
): FrontendVirtualService[] {
  if (!f.routes.length) return [];
  const hostsOf = (r: ResolvedRoute) => (r.parent.kind === 'frontend' ? r.parent.hosts : f.hosts);
  const key = (r: ResolvedRoute) => hostsOf(r).join('\n');
  const first = key(f.routes[0]!);
  if (f.routes.every((r) => key(r) === first))
    return [{ spec: body(mesh, f, f.routes, hostsOf(f.routes[0]!), gatewayRef, notes) }];

  // index routes by each host pattern they name, keeping file order
  const byPattern = new Map<string, number[]>();
  f.routes.forEach((r, i) => {
    for (const h of hostsOf(r)) {
      let list = byPattern.get(h);
      if (!list) byPattern.set(h, (list = []));
      if (list[list.length - 1] !== i) list.push(i);
    }
  });
  const out: FrontendVirtualService[] = [];
  for (const host of byPattern.keys()) {
    const picked = new Set<number>(byPattern.get(host));
    for (const p of coveringPatterns(host))
      if (p !== host && covers(p, host)) for (const i of byPattern.get(p) ?? []) picked.add(i);
    const routes = [...picked].sort((a, b) => a - b).map((i) => f.routes[i]!);
    out.push({ host, spec: body(mesh, f, routes, [host], gatewayRef, notes) });
  }
  return out;
}

function body(
  mesh: ResolvedMesh,
  f: ResolvedFrontend,
  routes: readonly ResolvedRoute[],
  hosts: readonly string[],
  gatewayRef: string,
  notes: Notes,
): Obj {
  const spec: Obj = { hosts: [...hosts], gateways: [gatewayRef] };
  if (f.protocol === 'tcp') spec.tcp = routes.map((r) => tcpRoute(mesh, r, notes, f.port));
  else if (f.protocol === 'tls-passthrough')
    spec.tls = routes.map((r) => tlsRoute(mesh, r, notes, hosts, f.port));
  else spec.http = routes.map((r) => httpRoute(mesh, r, notes)).filter((x) => x !== undefined);
  return spec;
}
