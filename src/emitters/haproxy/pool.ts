import { routeSubject } from '../../model/describe.js';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type {
  Endpoint,
  ResolvedBackend,
  ResolvedDestination,
  ResolvedRoute,
  Retries,
} from '../../model/types.js';
import {
  destinationEndpoints,
  type AccessDecision,
  proxyDuration,
  upstreamMtls,
  type CertPaths,
} from '../../smartstack/index.js';
import { escapeRegex } from '../../model/regex.js';
import { comment, fetch, logFormat, logFormatText, word } from './syntax.js';

export const TARGET = 'haproxy';

interface ServerView {
  name: string;
  address: string;
  options: string[];
}

/** One `backend` section: the servers of one destination of one route, with the route's policies. */
export interface PoolView {
  name: string;
  comment: string;
  mode: 'http' | 'tcp';
  settings: string[];
  rules: string[];
  servers: ServerView[];
  /** The backend and versions its servers are endpoints of (not rendered; the runtime layout). */
  destination: { readonly backend: string; readonly versions: readonly string[] };
}

/**
 * The mesh's retry conditions as `retry-on` keywords. HAProxy retries only the status codes above,
 * so `5xx` keeps 500-504 and `retriable-4xx` (409) cannot be kept: both are reported.
 */
function retryOn(retries: Retries, statuses: ReadonlySet<number>): { keywords: string[]; lost: string[] } {
  const kw = new Set<string>();
  const lost: string[] = [];
  for (const c of retries.on) {
    switch (c) {
      case '5xx':
        [
          'conn-failure',
          'empty-response',
          'junk-response',
          'response-timeout',
          '500',
          '501',
          '502',
          '503',
          '504',
        ].forEach((k) => kw.add(k));
        lost.push('5xx statuses above 504');
        break;
      case 'gateway-error':
        ['conn-failure', 'empty-response', 'response-timeout', '502', '503', '504'].forEach((k) => kw.add(k));
        break;
      case 'connect-failure':
        kw.add('conn-failure');
        break;
      case 'reset':
        kw.add('empty-response');
        kw.add('junk-response');
        break;
      case 'retriable-4xx':
        lost.push('retriable-4xx (409)');
        break;
      default:
        if (statuses.has(Number(c))) kw.add(c);
        else lost.push(`status ${c}`);
    }
  }
  const order = ['conn-failure', 'empty-response', 'junk-response', 'response-timeout'];
  const keywords = [...kw].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    return Number(a) - Number(b);
  });
  return { keywords, lost };
}

function balance(b: ResolvedBackend): string[] {
  switch (b.loadBalancer) {
    case 'round-robin':
      return ['balance roundrobin'];
    case 'least-request':
      return ['balance leastconn'];
    case 'random':
      return ['balance random'];
    case 'ring-hash': {
      const h = b.hashOn;
      const on = !h
        ? 'balance source'
        : 'header' in h
          ? `balance ${fetch('hdr', h.header)}`
          : 'cookie' in h
            ? `balance hash ${fetch('req.cook', h.cookie)}`
            : 'balance source';
      return [on, 'hash-type consistent'];
    }
  }
}

export interface PoolContext {
  readonly certs: CertPaths;
  readonly diagnostics: Diagnostic[];
  readonly passthrough?: boolean;
  /** The destination's access rules for the caller this proxy speaks for. */
  readonly access: AccessDecision;
  /** The status codes `retry-on` takes in the HAProxy version rendered for. */
  readonly retryStatuses: ReadonlySet<number>;
  /** `--set serverSlots`: server lines per backend version, the spare ones in maintenance. */
  readonly slots?: number;
  /**
   * Whether to report what concerns the route as a whole (retries, timeouts, regexes): for its
   * first pool only, as the others would report the same.
   */
  readonly routeNotes: boolean;
}

/** Builds the backend section for one destination of one route. */
export function buildPool(
  name: string,
  route: ResolvedRoute,
  to: ResolvedDestination,
  backend: ResolvedBackend,
  ctx: PoolContext,
): PoolView {
  const subject = routeSubject(route);
  const http = route.protocol === 'http';
  const settings: string[] = [...balance(backend)];
  const rules: string[] = [];
  const warn = (feature: string, message: string, pointer: string, hint?: string): void => {
    ctx.diagnostics.push(
      diagnostic('MG3002', `${subject}: ${feature} on haproxy ${message}`, { pointer, target: TARGET, hint }),
    );
  };
  const routeWarn: typeof warn = ctx.routeNotes ? warn : () => {};

  // Retries: HAProxy's `retries` counts retries, as the mesh does; without them, none at all.
  const retries = route.retries;
  if (http && retries && retries.attempts > 0) {
    const { keywords, lost } = retryOn(retries, ctx.retryStatuses);
    settings.push(`retries ${retries.attempts}`);
    settings.push(`retry-on ${keywords.length ? keywords.join(' ') : 'none'}`);
    settings.push('option redispatch 1');
    if (lost.length)
      routeWarn('retries', `cannot retry on ${lost.join(', ')}`, `${route.pointer}/retries/on`);
  } else {
    settings.push('retries 0');
  }

  // Timeouts: `timeout server` bounds each try; nothing in HAProxy bounds all tries together.
  const tries = (retries?.attempts ?? 0) + 1;
  const perTry = retries?.perTryTimeoutMs ?? route.timeoutMs;
  if (perTry !== undefined) {
    settings.push(`timeout server ${proxyDuration(perTry)}`);
    if (http && (route.timeoutMs === undefined || tries === 1 || perTry * tries <= route.timeoutMs))
      routeWarn(
        'timeout',
        `bounds each wait for data from the backend (timeout server ${proxyDuration(perTry)}), not the whole response: a backend that keeps sending can take longer`,
        `${route.pointer}/${route.retries?.perTryTimeoutMs !== undefined ? 'retries/perTryTimeout' : 'timeout'}`,
      );
    if (http && route.timeoutMs !== undefined && tries > 1 && perTry * tries > route.timeoutMs)
      routeWarn(
        'timeout',
        `bounds each try (timeout server ${proxyDuration(perTry)}), not the whole request: ${tries} tries may take up to ${proxyDuration(perTry * tries)}, longer than ${proxyDuration(route.timeoutMs)}`,
        `${route.pointer}/timeout`,
        'make perTryTimeout × (attempts + 1) fit in timeout',
      );
    if (!http)
      routeWarn(
        'timeout',
        `is an idle timeout on the TCP connection (timeout server/client), not a limit on its life`,
        `${route.pointer}/timeout`,
      );
  }

  // Health checks (active), outlier detection (passive, layer 7), circuit breaking (per server).
  const server: string[] = [];
  const hc = backend.healthCheck;
  const od = backend.outlierDetection;
  if (hc) {
    if (http) {
      settings.push('option httpchk');
      settings.push(`http-check send meth GET uri ${word(hc.path)}`);
    }
    settings.push(`timeout check ${proxyDuration(hc.timeoutMs)}`);
    server.push(
      `inter ${proxyDuration(hc.intervalMs)}`,
      `fall ${hc.unhealthyThreshold}`,
      `rise ${hc.healthyThreshold}`,
    );
  }
  if (od) {
    if (!hc) server.push(`inter ${proxyDuration(od.baseEjectionTimeMs)}`);
    server.push(
      http ? 'observe layer7' : 'observe layer4',
      `error-limit ${od.consecutiveErrors}`,
      'on-error mark-down',
    );
  }
  const cb = backend.circuitBreaker;
  if (cb?.maxConnections !== undefined) server.push(`maxconn ${cb.maxConnections}`);
  if (cb?.maxPendingRequests !== undefined) server.push(`maxqueue ${cb.maxPendingRequests}`);

  // mTLS towards the endpoints: the caller's certificate, the mesh CA, the backend's name.
  if (upstreamMtls(backend) && !ctx.passthrough) {
    const client = ctx.certs.client(
      route.parent.kind === 'frontend' ? route.parent : { kind: 'backend', name: route.parent.name },
    );
    server.push(
      'ssl',
      `crt ${word(client.pem)}`,
      `ca-file ${word(ctx.certs.ca)}`,
      'verify required',
      `verifyhost ${backend.fqdn}`,
    );
    if (http && backend.protocol !== 'http') server.push('alpn h2');
  } else if (http && backend.protocol !== 'http') server.push('proto h2');

  if (ctx.routeNotes)
    route.matches.forEach((m, i) => {
      const regexes = [
        m.path?.kind === 'regex',
        ...m.headers.map((h) => h.match.kind === 'regex'),
        ...m.queryParams.map((q) => q.match.kind === 'regex'),
      ];
      if (regexes.some(Boolean))
        warn(
          'regex-path',
          'matches with PCRE, not RE2: the same for the common subset, not for every pattern',
          `${route.pointer}/match/${i}`,
        );
    });

  // Access first: on the path the caller sent, before any rewrite.
  rules.push(...accessRules(ctx.access, http, backend, warn));

  if (http) {
    const abort = route.fault?.abort;
    if (abort)
      rules.push(
        `http-request return status ${abort.status} if { rand(10000) lt ${Math.round(abort.percent * 100)} }`,
      );
    if (route.rewrite?.pathPrefix !== undefined) {
      const prefixes = route.matches.map((m) => m.path?.value ?? '');
      rules.push(
        `http-request replace-path ${word(`^(?:${prefixes.map(escapeRegex).join('|')})(.*)$`)} ${word(`${logFormatText(route.rewrite.pathPrefix)}\\1`)}`,
      );
    }
    if (route.rewrite?.host !== undefined)
      rules.push(`http-request set-header Host ${logFormat(route.rewrite.host)}`);
    const req = route.requestHeaders;
    for (const [k, v] of req.set) rules.push(`http-request set-header ${word(k)} ${logFormat(v)}`);
    for (const [k, v] of req.add) rules.push(`http-request add-header ${word(k)} ${logFormat(v)}`);
    for (const k of req.remove) rules.push(`http-request del-header ${word(k)}`);
    // http-response rules see the backend's responses only, not HAProxy's own 404/503/504.
    const res = route.responseHeaders;
    for (const [k, v] of res.set) rules.push(`http-response set-header ${word(k)} ${logFormat(v)}`);
    for (const [k, v] of res.add) rules.push(`http-response add-header ${word(k)} ${logFormat(v)}`);
    for (const k of res.remove) rules.push(`http-response del-header ${word(k)}`);
  }

  const options = [...(hc || od ? ['check'] : []), ...server];
  const servers =
    ctx.slots === undefined
      ? destinationEndpoints(backend, to).map(({ version, endpoint }, i) => ({
          name: `${version}-${i}`,
          address: serverAddress(endpoint),
          options,
        }))
      : slotServers(backend, to, ctx.slots, options);
  const what = to.version ? `version ${to.version}` : 'all versions';
  return {
    name,
    comment: comment(`${subject} -> backend "${backend.name}", ${what}, ${to.weight}%`),
    mode: http ? 'http' : 'tcp',
    settings,
    rules,
    servers,
    destination: { backend: backend.name, versions: to.versions },
  };
}

/** `host:port`, an IPv6 host in brackets. */
function serverAddress(e: Endpoint): string {
  return e.family === 'ipv6' ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * Server slots for the runtime API: each version of the destination gets `slots` servers (more
 * when it has more endpoints), named `<version>-<slot>`; the endpoints fill the first ones, the
 * rest wait in maintenance (`disabled`) on 0.0.0.0:0 until `set server <pool>/<name> addr` and
 * `state ready` give them an endpoint.
 */
function slotServers(
  backend: ResolvedBackend,
  to: ResolvedDestination,
  slots: number,
  options: readonly string[],
): ServerView[] {
  return backend.versions
    .filter((v) => to.versions.includes(v.name))
    .flatMap((v) =>
      Array.from({ length: Math.max(slots, v.endpoints.length) }, (_, i) => {
        const e = v.endpoints[i];
        return e
          ? { name: `${v.name}-${i}`, address: serverAddress(e), options: [...options] }
          : { name: `${v.name}-${i}`, address: '0.0.0.0:0', options: [...options, 'disabled'] };
      }),
    );
}

/**
 * Access, enforced on the calling side for the identity the proxy presents: deny outright, or deny
 * unless one allow entry accepts the path (as the caller sent it, before any rewrite) and method.
 */
function accessRules(
  access: AccessDecision,
  http: boolean,
  backend: ResolvedBackend,
  warn: (feature: string, message: string, pointer: string, hint?: string) => void,
): string[] {
  const pointer = backend.access.mode === 'rules' ? backend.access.pointer : backend.pointer;
  switch (access.kind) {
    case 'allow':
      return [];
    case 'deny':
      return [http ? 'http-request deny deny_status 403' : 'tcp-request content reject'];
    case 'unknown-caller':
      warn(
        'access',
        `cannot enforce the access rules of backend "${backend.name}": its east-west callers are not known`,
        pointer,
        'render with --set identity=<backend> for the workload this node runs',
      );
      return [];
    case 'some': {
      if (!http) return [];
      const acls: string[] = [];
      const terms = access.entries.map((e, k) => {
        const names: string[] = [];
        const a = `mg_acc_${k}`;
        for (const p of e.paths ?? [])
          acls.push(`acl ${a}_p path -m ${p.kind === 'exact' ? 'str' : 'beg'} ${word(p.value)}`);
        if (e.paths) names.push(`${a}_p`);
        if (e.methods) {
          acls.push(`acl ${a}_m method ${e.methods.join(' ')}`);
          names.push(`${a}_m`);
        }
        return names.join(' ');
      });
      return [...acls, `http-request deny deny_status 403 unless ${terms.join(' || ')}`];
    }
  }
}
