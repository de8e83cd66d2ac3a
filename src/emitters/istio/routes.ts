import type {
  HeaderOps,
  ResolvedBackend,
  ResolvedDestination,
  ResolvedMatch,
  ResolvedMesh,
  ResolvedRoute,
  Retries,
  StringMatch,
} from '../../model/types.js';
import { escapeRegex } from '../../model/regex.js';
import { istioDuration, type Notes } from './common.js';

type Obj = Record<string, unknown>;

/** `host`, `subset` (a `to` entry without version has none: all versions as one pool) and `port`. */
function destination(mesh: ResolvedMesh, backend: string, version: string | undefined): Obj {
  const b = mesh.backendsByName.get(backend)!;
  return { host: b.fqdn, subset: version, port: { number: b.port } };
}

function weighted(mesh: ResolvedMesh, to: readonly ResolvedDestination[]): Obj[] {
  // a lone destination needs no weight (Istio reads a missing weight as 100)
  return to.map((t) => ({
    destination: destination(mesh, t.backend, t.version),
    weight: to.length > 1 ? t.weight : undefined,
  }));
}

function stringMatch(m: StringMatch, query: boolean): Obj {
  // Istio turns a catch-all regex into Envoy's present_match; ".*" also matches an empty value
  if (m.kind === 'present') return { regex: '.*' };
  // Istio documents no prefix matching for query parameters: an anchored regex says the same
  if (query && m.kind === 'prefix') return { regex: `${escapeRegex(m.value)}.*` };
  return { [m.kind]: m.value };
}

function match(m: ResolvedMatch): Obj {
  const headers = m.headers.length
    ? Object.fromEntries(m.headers.map((h) => [h.name, stringMatch(h.match, false)]))
    : undefined;
  const queryParams = m.queryParams.length
    ? Object.fromEntries(m.queryParams.map((q) => [q.name, stringMatch(q.match, true)]))
    : undefined;
  return {
    uri: m.path ? { [m.path.kind]: m.path.value } : undefined,
    headers,
    queryParams,
    method: m.method ? { exact: m.method } : undefined,
  };
}

/** Our `on` words are Envoy's retry_on words, which Istio passes through; status codes too. */
function retries(r: Retries | undefined): Obj {
  // Istio retries twice by default: a route without retries must say attempts: 0
  if (!r) return { attempts: 0 };
  return {
    attempts: r.attempts,
    perTryTimeout: r.perTryTimeoutMs !== undefined ? istioDuration(r.perTryTimeoutMs) : undefined,
    retryOn: r.on.length ? r.on.join(',') : undefined,
  };
}

function headerOps(h: HeaderOps): Obj | undefined {
  if (!h.set.length && !h.add.length && !h.remove.length) return undefined;
  return {
    set: h.set.length ? Object.fromEntries(h.set) : undefined,
    add: h.add.length ? Object.fromEntries(h.add) : undefined,
    remove: h.remove.length ? [...h.remove] : undefined,
  };
}

/** One entry of a VirtualService's `http` list. */
export function httpRoute(mesh: ResolvedMesh, r: ResolvedRoute, notes: Notes): Obj {
  const subject = `route "${r.name}"`;
  const request = headerOps(r.requestHeaders);
  const response = headerOps(r.responseHeaders);
  if (response)
    notes.approx(
      subject,
      'response-headers',
      "Envoy also applies a route's response header operations to the replies it makes itself on that route (503, 504)",
      `${r.pointer}/headers/response`,
    );
  if (r.fault && (r.retries || r.timeoutMs !== undefined))
    notes.approx(
      subject,
      r.fault.delay ? 'fault-delay' : 'fault-abort',
      'Istio documents that timeouts and retries are not applied alongside client-side fault injection; an injected delay does not count towards the timeout',
      `${r.pointer}/fault`,
      'put the fault on a route of its own to test it apart from timeouts and retries',
    );
  const fault = r.fault && {
    delay: r.fault.delay && {
      fixedDelay: istioDuration(r.fault.delay.ms),
      percentage: { value: r.fault.delay.percent },
    },
    abort: r.fault.abort && {
      httpStatus: r.fault.abort.status,
      percentage: { value: r.fault.abort.percent },
    },
  };
  return {
    name: r.name,
    match: r.matches.length ? r.matches.map(match) : undefined,
    rewrite: r.rewrite && { uri: r.rewrite.pathPrefix, authority: r.rewrite.host },
    route: weighted(mesh, r.to),
    timeout: r.timeoutMs !== undefined ? istioDuration(r.timeoutMs) : undefined,
    retries: retries(r.retries),
    fault,
    mirror: r.mirror && destination(mesh, r.mirror.backend, r.mirror.version),
    mirrorPercentage: r.mirror && { value: r.mirror.percent },
    headers: request || response ? { request, response } : undefined,
  };
}

function tcpTimeout(r: ResolvedRoute, notes: Notes): void {
  if (r.timeoutMs === undefined) return;
  notes.unsupported(
    `route "${r.name}"`,
    'timeout',
    "a TCP route has no timeout in a VirtualService; Istio's TCP idle timeout (1h unless set in a DestinationRule) applies instead",
    `${r.pointer}/timeout`,
  );
}

/** One entry of a VirtualService's `tcp` list; `port` restricts it to a gateway server's port. */
export function tcpRoute(mesh: ResolvedMesh, r: ResolvedRoute, notes: Notes, port?: number): Obj {
  tcpTimeout(r, notes);
  return { match: port !== undefined ? [{ port }] : undefined, route: weighted(mesh, r.to) };
}

/** One entry of a VirtualService's `tls` list (TLS passthrough routes by SNI). */
export function tlsRoute(
  mesh: ResolvedMesh,
  r: ResolvedRoute,
  notes: Notes,
  hosts: readonly string[],
  port: number,
): Obj {
  tcpTimeout(r, notes);
  return { match: [{ port, sniHosts: [...hosts] }], route: weighted(mesh, r.to) };
}

/** The east-west VirtualService body of a backend: its routes in first-match order, for the mesh. */
export function backendVirtualService(mesh: ResolvedMesh, b: ResolvedBackend, notes: Notes): Obj {
  const http = b.routes.filter((r) => r.protocol === 'http').map((r) => httpRoute(mesh, r, notes));
  const tcp = b.routes.filter((r) => r.protocol === 'tcp').map((r) => tcpRoute(mesh, r, notes));
  return {
    hosts: [b.fqdn],
    gateways: ['mesh'],
    http: http.length ? http : undefined,
    tcp: tcp.length ? tcp : undefined,
  };
}
