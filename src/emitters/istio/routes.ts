import type {
  HeaderOps,
  ResolvedBackend,
  ResolvedDestination,
  ResolvedMatch,
  ResolvedMesh,
  ResolvedRoute,
  StringMatch,
} from '../../model/types.js';
import { escapeRegex } from '../../model/regex.js';
import { envoyHeaderValue, istioDuration, type Notes } from './common.js';
import { matchHeaderNameAccepted } from './versions.js';

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

/**
 * The status codes Go's `http.StatusText` knows (net/http/status.go): istiod refuses a retryOn entry
 * that is neither one of them nor an Envoy retry policy, and with it the whole VirtualService
 * (pkg/config/validation/agent/validation.go, ValidateHTTPRetry).
 */
const GO_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
  308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
  422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** A retryOn entry istiod accepts: our words are Envoy's retry_on words; codes Go knows. */
function retryOnAccepted(entry: string): boolean {
  return !/^\d+$/.test(entry) || GO_STATUS_CODES.has(Number(entry));
}

/** Our `on` words are Envoy's retry_on words, which Istio passes through; status codes too. */
function retries(r: ResolvedRoute, notes: Notes): Obj {
  const retry = r.retries;
  // Istio retries twice by default: a route without retries must say attempts: 0
  if (!retry) return { attempts: 0 };
  const refused = retry.on.filter((c) => !retryOnAccepted(c));
  const on = retry.on.filter(retryOnAccepted);
  if (refused.length) {
    const message = `istiod refuses a VirtualService whose retryOn names a status code Go's http.StatusText does not know (${refused.join(', ')})`;
    if (!on.length) {
      notes.unsupported(
        `route "${r.name}"`,
        'retries',
        `${message}: nothing is retried`,
        `${r.pointer}/retries/on`,
      );
      return { attempts: 0 };
    }
    notes.approx(
      `route "${r.name}"`,
      'retries',
      `${message}: ${refused.length === 1 ? 'it is' : 'they are'} left out`,
      `${r.pointer}/retries/on`,
    );
  }
  return {
    attempts: retry.attempts,
    perTryTimeout: retry.perTryTimeoutMs !== undefined ? istioDuration(retry.perTryTimeoutMs) : undefined,
    retryOn: on.join(','),
  };
}

/**
 * istiod refuses `host` in a response header operation and in a request `remove`
 * (pkg/config/validation/validation.go, ValidateHTTPHeaderOperationName), and a request `set` or
 * `add` of the authority beside `rewrite.authority` or another one (virtualservice.go,
 * validateAuthorityRewrite): such operations are left out, and said so.
 */
function headerOps(
  r: ResolvedRoute,
  h: HeaderOps,
  side: 'request' | 'response',
  notes: Notes,
): Obj | undefined {
  const feature = `${side}-headers`;
  const pointer = `${r.pointer}/headers/${side}`;
  const refuse = (name: string, why: string) =>
    notes.unsupported(
      `route "${r.name}"`,
      feature,
      `${why}: the operation on "${name}" is left out`,
      pointer,
    );
  const isHost = (name: string) => name.toLowerCase() === 'host';
  let authority = side === 'request' && r.rewrite?.host !== undefined;
  const values = (list: readonly (readonly [string, string])[]) => {
    const kept: [string, string][] = [];
    for (const [name, value] of list) {
      if (isHost(name)) {
        if (side === 'response') {
          refuse(name, 'istiod refuses a Host header in a response header operation');
          continue;
        }
        if (authority) {
          refuse(
            name,
            'istiod refuses a route that sets the authority twice (rewrite.host or another set or add of Host)',
          );
          continue;
        }
        authority = true;
      }
      kept.push([name, envoyHeaderValue(value)]);
    }
    return kept;
  };
  const set = values(h.set);
  const add = values(h.add);
  const remove = h.remove.filter((name) => {
    if (!isHost(name)) return true;
    refuse(name, 'istiod refuses removing the Host header');
    return false;
  });
  if (!set.length && !add.length && !remove.length) return undefined;
  return {
    set: set.length ? Object.fromEntries(set) : undefined,
    add: add.length ? Object.fromEntries(add) : undefined,
    remove: remove.length ? remove : undefined,
  };
}

/**
 * The match entries istiod accepts at the version rendered for: an entry on a header name the
 * version refuses is left out (it could never be written), so its requests go to later routes.
 * Undefined when the route had entries and none is left: the route then never matches.
 */
function matches(r: ResolvedRoute, notes: Notes): Obj[] | undefined {
  const kept: Obj[] = [];
  r.matches.forEach((m, i) => {
    const refused = m.headers.filter((h) => !matchHeaderNameAccepted(notes.version, h.name));
    if (!refused.length) kept.push(match(m));
    else
      notes.unsupported(
        `route "${r.name}"`,
        'header-match',
        `istiod ${notes.version.text} refuses a VirtualService matching header ${refused.map((h) => `"${h.name}"`).join(', ')} (it accepts only letters, digits, '-' and '_' in 1.23.0 to 1.24.3): this match entry is left out${r.matches.length === 1 ? ', and so the route, which then never matches' : ''}`,
        `${r.pointer}/match/${i}/headers`,
        'Istio 1.24.4 and 1.25 accept every RFC 9110 token: --set istio.version=1.25 once the cluster runs it',
      );
  });
  return kept.length || !r.matches.length ? kept : undefined;
}

/** One entry of a VirtualService's `http` list, or undefined for a route that never matches. */
export function httpRoute(mesh: ResolvedMesh, r: ResolvedRoute, notes: Notes): Obj | undefined {
  const subject = `route "${r.name}"`;
  const accepted = matches(r, notes);
  if (!accepted) return undefined;
  const request = headerOps(r, r.requestHeaders, 'request', notes);
  const response = headerOps(r, r.responseHeaders, 'response', notes);
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
    match: accepted.length ? accepted : undefined,
    rewrite: r.rewrite && { uri: r.rewrite.pathPrefix, authority: r.rewrite.host },
    route: weighted(mesh, r.to),
    timeout: r.timeoutMs !== undefined ? istioDuration(r.timeoutMs) : undefined,
    retries: retries(r, notes),
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
  const http = b.routes
    .filter((r) => r.protocol === 'http')
    .map((r) => httpRoute(mesh, r, notes))
    .filter((x) => x !== undefined);
  const tcp = b.routes.filter((r) => r.protocol === 'tcp').map((r) => tcpRoute(mesh, r, notes));
  return {
    hosts: [b.fqdn],
    gateways: ['mesh'],
    http: http.length ? http : undefined,
    tcp: tcp.length ? tcp : undefined,
  };
}
