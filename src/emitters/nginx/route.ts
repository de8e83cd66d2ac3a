import { routeSubject } from '../../model/describe.js';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { ResolvedBackend, ResolvedMesh, ResolvedRoute, Retries } from '../../model/types.js';
import {
  accessDecision,
  callerIdentity,
  sameDecision,
  destinationEndpoints,
  ident,
  proxyDuration,
  upstreamMtls,
  type CertPaths,
} from '../../smartstack/index.js';
import { escapeRegex } from '../../model/regex.js';
import { cookieVar, failTimeout, headerVar, literal, literalText, q, word } from './syntax.js';
import { FORWARD_NORMALIZED } from './path.js';
import { upstreamText, type BlockView, type LocationView } from './view.js';

export const TARGET = 'nginx';

/** Statuses `proxy_next_upstream` can retry on. */
const NEXT_STATUSES = new Set([500, 502, 503, 504, 403, 404, 429]);

/** The mesh's retry conditions as `proxy_next_upstream` flags, and what cannot be kept. */
function nextUpstream(retries: Retries): { flags: string[]; lost: string[] } {
  const flags = new Set<string>();
  const lost: string[] = [];
  for (const c of retries.on) {
    switch (c) {
      case '5xx':
        ['error', 'timeout', 'http_500', 'http_502', 'http_503', 'http_504'].forEach((f) => flags.add(f));
        lost.push('501 and 505-599');
        break;
      case 'gateway-error':
        ['error', 'timeout', 'http_502', 'http_503', 'http_504'].forEach((f) => flags.add(f));
        break;
      case 'connect-failure':
      case 'reset':
        flags.add('error');
        break;
      case 'retriable-4xx':
        lost.push('retriable-4xx (409)');
        break;
      default:
        if (NEXT_STATUSES.has(Number(c))) flags.add(`http_${c}`);
        else lost.push(`status ${c}`);
    }
  }
  const order = ['error', 'timeout'];
  const sorted = [...flags].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 9 : ia) - (ib < 0 ? 9 : ib);
    return a.localeCompare(b);
  });
  // The mesh retries whatever the method: nginx needs non_idempotent for POST and PATCH.
  return { flags: sorted.length ? [...sorted, 'non_idempotent'] : ['off'], lost };
}

export interface RouteContext {
  readonly mesh: ResolvedMesh;
  readonly certs: CertPaths;
  readonly diagnostics: Diagnostic[];
  readonly http: BlockView;
  readonly defaults: { readonly connectMs: number; readonly readMs: number };
  /** The backend whose workload east-west callers are (`--set identity`). */
  readonly identity?: string;
}

/** The upstream of one destination; servers repeat so that every try can go to a peer of its own. */
function upstream(
  name: string,
  comment: string,
  backend: ResolvedBackend,
  to: { readonly versions: readonly string[] },
  tries: number,
  ctx: RouteContext,
  block: BlockView,
) {
  const endpoints = destinationEndpoints(backend, to);
  const directives: string[] = [];
  switch (backend.loadBalancer) {
    case 'least-request':
      directives.push('least_conn');
      break;
    case 'random':
      directives.push('random');
      break;
    case 'ring-hash': {
      const h = backend.hashOn;
      const [variable, unread] =
        h && 'header' in h
          ? [headerVar(h.header), `header "${h.header}"`]
          : h && 'cookie' in h
            ? [cookieVar(h.cookie), `cookie "${h.cookie}"`]
            : ['$remote_addr', ''];
      // nginx drops headers whose names hold characters other than letters, digits and '-', and a
      // cookie variable's name takes letters, digits and '_'
      if (!variable && block === ctx.http)
        ctx.diagnostics.push(
          diagnostic(
            'MG3002',
            `backend "${backend.name}": ring-hash on nginx cannot read ${unread}: it hashes on the caller's address instead`,
            { pointer: `${backend.pointer}/hashOn`, target: TARGET },
          ),
        );
      directives.push(
        `hash ${block === ctx.http ? (variable ?? '$remote_addr') : '$remote_addr'} consistent`,
      );
      break;
    }
  }
  // Passive checks only (active ones are NGINX Plus): max_fails/fail_timeout; 0 turns them off.
  const od = backend.outlierDetection;
  const hc = backend.healthCheck;
  const fails = od
    ? `max_fails=${od.consecutiveErrors} fail_timeout=${failTimeout(od.baseEjectionTimeMs)}`
    : hc
      ? `max_fails=${hc.unhealthyThreshold} fail_timeout=${failTimeout(hc.intervalMs)}`
      : 'max_fails=0';
  const conns =
    backend.circuitBreaker?.maxConnections !== undefined
      ? ` max_conns=${backend.circuitBreaker.maxConnections}`
      : '';
  // nginx tries each peer at most once per request: list the endpoints often enough for every try.
  const copies = Math.max(1, Math.ceil(tries / Math.max(1, endpoints.length)));
  const servers: string[] = [];
  for (let c = 0; c < copies; c++)
    for (const { endpoint } of endpoints)
      servers.push(
        `${endpoint.family === 'ipv6' ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port} ${fails}${conns}`,
      );
  block.upstreams.push(
    upstreamText({
      comment: `${comment}${copies > 1 ? ` (endpoints listed ${copies} times: one peer per try)` : ''}`,
      name,
      directives,
      servers,
    }),
  );
}

/** `@mg_r_<route>` or `@mg_b_<backend>` for an implicit route. */
export function locationName(route: ResolvedRoute): string {
  return `@mg_${route.implicit ? 'b' : 'r'}_${ident(route.name)}`;
}

/** Builds the named location of an HTTP route (with its upstreams, splits and maps). */
export function httpRoute(route: ResolvedRoute, ctx: RouteContext): LocationView[] {
  const subject = routeSubject(route);
  const id = `${route.implicit ? 'b' : 'r'}_${ident(route.name)}`;
  const block = ctx.http;
  const d: string[] = [];
  const warn = (feature: string, message: string, pointer: string, hint?: string) =>
    ctx.diagnostics.push(
      diagnostic('MG3002', `${subject}: ${feature} on nginx ${message}`, { pointer, target: TARGET, hint }),
    );
  const retries = route.retries && route.retries.attempts > 0 ? route.retries : undefined;
  const tries = (retries?.attempts ?? 0) + 1;

  // Destinations: one upstream each; a split picks one per request with split_clients on $request_id.
  const live = route.to.map((to, i) => ({ to, i })).filter(({ to }) => to.weight > 0);
  const pools = live.map(({ to, i }) => {
    const backend = ctx.mesh.backendsByName.get(to.backend)!;
    const name = `mg_${id}_${i}`;
    const what = to.version ? `version ${to.version}` : 'all versions';
    upstream(
      name,
      `${subject} -> backend "${backend.name}", ${what}, ${to.weight}%`,
      backend,
      to,
      tries,
      ctx,
      block,
    );
    return { name, backend, weight: to.weight };
  });
  const scheme = (b: ResolvedBackend) => (upstreamMtls(b) ? 'https' : 'http');
  let target: string;
  if (pools.length === 1) target = `${scheme(pools[0]!.backend)}://${pools[0]!.name}`;
  else {
    target = `$mg_pool_${id}`;
    block.splits.push({
      comment: `${subject}: split`,
      key: q('${request_id}'),
      variable: target,
      entries: pools.map((p, n) => ({
        share: n === pools.length - 1 ? '*' : `${p.weight}%`,
        value: `${scheme(p.backend)}://${p.name}`,
      })),
    });
  }

  route.matches.forEach((m, n) => {
    const regexes = [
      m.path?.kind === 'regex',
      ...m.headers.map((h) => h.match.kind === 'regex'),
      ...m.queryParams.map((p) => p.match.kind === 'regex'),
    ];
    if (regexes.some(Boolean))
      warn(
        'regex-path',
        'matches with PCRE, not RE2 (and paths on the decoded, normalized $uri): the same for the common subset, not for every pattern',
        `${route.pointer}/match/${n}`,
      );
    for (const h of m.headers)
      if (!headerVar(h.name))
        warn(
          'header-match',
          `never matches header "${h.name}": nginx drops request headers whose names hold characters other than letters, digits and '-' (ignore_invalid_headers)`,
          `${route.pointer}/match/${n}/headers`,
        );
  });

  d.push(
    ...accessDirectives(
      route,
      id,
      pools.map((p) => p.backend),
      ctx,
    ),
  );

  const abort = route.fault?.abort;
  if (abort) {
    const v = `$mg_abort_${id}`;
    block.splits.push({
      comment: `${subject}: fault abort`,
      key: q('${request_id}abort'),
      variable: v,
      entries: [
        { share: `${abort.percent}%`, value: '1' },
        { share: '*', value: q('') },
      ],
    });
    d.push(`if (${v}) { return ${abort.status}; }`);
  }

  // the path the rules read ($uri), not the request line as sent (path.ts)
  if (route.rewrite?.pathPrefix !== undefined) {
    const prefixes = route.matches.map((m) => escapeRegex(m.path?.value ?? ''));
    d.push(
      `rewrite ${q(`^(?:${prefixes.join('|')})(.*)$`)} "${literalText(route.rewrite.pathPrefix)}$1" break`,
    );
  } else d.push(FORWARD_NORMALIZED);

  // Retries: nginx counts tries (attempts + 1); without retries, none, not even to another peer.
  if (retries) {
    const { flags, lost } = nextUpstream(retries);
    d.push(`proxy_next_upstream ${flags.join(' ')}`, `proxy_next_upstream_tries ${tries}`);
    if (lost.length) warn('retries', `cannot retry on ${lost.join(', ')}`, `${route.pointer}/retries/on`);
    if (
      retries.on.includes('connect-failure') &&
      !retries.on.some((c) => c === '5xx' || c === 'gateway-error' || c === 'reset')
    )
      warn(
        'retries',
        `retries connect-failure with "error", which also covers errors after connecting (resets)`,
        `${route.pointer}/retries/on`,
      );
  } else d.push('proxy_next_upstream off');

  // Timeouts: proxy_read_timeout bounds the wait between two reads of each try (504 when it
  // fires); proxy_next_upstream_timeout stops new tries after the total.
  const perTry = retries?.perTryTimeoutMs ?? route.timeoutMs;
  if (perTry !== undefined) {
    d.push(
      `proxy_connect_timeout ${proxyDuration(Math.min(perTry, ctx.defaults.connectMs))}`,
      `proxy_send_timeout ${proxyDuration(perTry)}`,
      `proxy_read_timeout ${proxyDuration(perTry)}`,
    );
    warn(
      'timeout',
      `bounds the wait between two reads from the backend (proxy_read_timeout ${proxyDuration(perTry)}), not the whole response`,
      `${route.pointer}/${route.retries?.perTryTimeoutMs !== undefined ? 'retries/perTryTimeout' : 'timeout'}`,
    );
  }
  if (retries && route.timeoutMs !== undefined) {
    d.push(`proxy_next_upstream_timeout ${proxyDuration(route.timeoutMs)}`);
    if ((perTry ?? ctx.defaults.readMs) * tries > route.timeoutMs)
      warn(
        'timeout',
        `stops starting tries after ${proxyDuration(route.timeoutMs)} (proxy_next_upstream_timeout) but lets a running try finish`,
        `${route.pointer}/timeout`,
        'make perTryTimeout × (attempts + 1) fit in timeout',
      );
  }

  // Request headers: the Host the caller sent unless rewritten, then the route's operations.
  // HTTP/1.1 to the backends (nginx's default is 1.0), with the Host the caller sent unless rewritten.
  d.push('proxy_http_version 1.1');
  d.push(
    `proxy_set_header Host ${route.rewrite?.host !== undefined ? literal(route.rewrite.host) : '$http_host'}`,
  );
  const req = route.requestHeaders;
  for (const [k, v] of req.set) d.push(`proxy_set_header ${word(k)} ${literal(v)}`);
  // "If the value of a header field is an empty string then this field will not be passed"
  // (ngx_http_proxy_module, proxy_set_header): a header set to "" is not sent at all
  for (const [k, v] of [...req.set, ...req.add.filter(([name]) => !headerVar(name))])
    if (v === '')
      warn(
        'request-headers',
        `sends no header "${k}" instead of one with an empty value: proxy_set_header leaves out a header whose value is empty`,
        `${route.pointer}/headers/request`,
      );
  req.add.forEach(([k, v], n) => {
    const source = headerVar(k);
    // a header nginx drops never reaches the backend: adding to it is setting it
    if (!source) return d.push(`proxy_set_header ${word(k)} ${literal(v)}`);
    // add keeps what the caller sent: one header, values joined with a comma.
    const variable = `$mg_add_${id}_${n}`;
    block.maps.push({
      comment: `${subject}: add request header ${k}`,
      source,
      variable,
      entries: [
        { key: q(''), value: literal(v) },
        { key: 'default', value: `"${source}, ${literalText(v)}"` },
      ],
    });
    d.push(`proxy_set_header ${word(k)} ${variable}`);
  });
  for (const k of req.remove) d.push(`proxy_set_header ${word(k)} ${q('')}`);
  for (const [k] of req.add)
    if (!headerVar(k))
      warn(
        'request-headers',
        `sets header "${k}" instead of adding to it: nginx drops the caller's headers whose names hold characters other than letters, digits and '-'`,
        `${route.pointer}/headers/request/add`,
      );
  if (req.add.length)
    warn(
      'request-headers',
      `adds a value to the caller's header as one comma-joined header`,
      `${route.pointer}/headers/request/add`,
    );

  // Response headers, on backend responses only: the value is empty (so nginx adds nothing) unless
  // the last try got a response header from the backend.
  const res = route.responseHeaders;
  const fromBackend = (k: string, v: string, n: string) => {
    const variable = `$mg_res_${id}_${n}`;
    block.maps.push({
      comment: `${subject}: response header ${k}, on backend responses`,
      source: '$upstream_header_time',
      variable,
      entries: [
        { key: q('~[0-9]$'), value: literal(v) },
        { key: 'default', value: q('') },
      ],
    });
    return variable;
  };
  res.set.forEach(([k, v], n) =>
    d.push(`proxy_hide_header ${word(k)}`, `add_header ${word(k)} ${fromBackend(k, v, `s${n}`)} always`),
  );
  res.add.forEach(([k, v], n) => d.push(`add_header ${word(k)} ${fromBackend(k, v, `a${n}`)} always`));
  for (const k of res.remove) d.push(`proxy_hide_header ${word(k)}`);

  // mTLS towards the endpoints: the caller's certificate, the mesh CA, the backend's name.
  const tls = pools.filter((p) => upstreamMtls(p.backend));
  if (tls.length) {
    const names = [...new Set(tls.map((p) => p.backend.fqdn))];
    d.push(...clientTls(route, ctx));
    if (names.length === 1) d.push(`proxy_ssl_name ${names[0]}`);
    else {
      const variable = `$mg_sslname_${id}`;
      block.maps.push({
        comment: `${subject}: name of the backend picked`,
        source: target,
        variable,
        entries: tls.map((p) => ({ key: q(`~${escapeRegex(p.name)}$`), value: p.backend.fqdn })),
      });
      d.push(`proxy_ssl_name ${variable}`);
    }
  }
  for (const p of pools)
    if (p.backend.protocol !== 'http')
      warn(
        'protocol',
        `speaks HTTP/1.1 to backend "${p.backend.name}" (${p.backend.protocol}): nginx proxies HTTP/2 only through grpc_pass`,
        p.backend.pointer,
      );
  // nginx answers 502 when it cannot reach the endpoints; the mesh (as Envoy) says 503.
  d.push('error_page 502 = @mg_503', `proxy_pass ${target}`);
  const mirror = mirrorLocation(route, id, ctx);
  if (mirror) d.unshift(`mirror ${mirror.match.slice(2)}`, 'mirror_request_body on');
  return [{ match: locationName(route), directives: d }, ...(mirror ? [mirror] : [])];
}

/** The caller's certificate, the mesh CA, verification of the endpoint's certificate. */
function clientTls(route: ResolvedRoute, ctx: RouteContext): string[] {
  const client = ctx.certs.client(
    route.parent.kind === 'frontend' ? route.parent : { kind: 'backend', name: route.parent.name },
  );
  return [
    `proxy_ssl_certificate ${word(client.cert)}`,
    `proxy_ssl_certificate_key ${word(client.key)}`,
    `proxy_ssl_trusted_certificate ${word(ctx.certs.ca)}`,
    'proxy_ssl_verify on',
    'proxy_ssl_server_name on',
  ];
}

/**
 * Mirror: nginx's `mirror` subrequest goes to an internal exact location (named locations cannot be
 * mirrored to), which drops the requests outside the percentage and sends the rest to the mirror's
 * upstream; responses are discarded.
 */
function mirrorLocation(route: ResolvedRoute, id: string, ctx: RouteContext): LocationView | undefined {
  const m = route.mirror;
  if (!m) return undefined;
  const backend = ctx.mesh.backendsByName.get(m.backend)!;
  const name = `mg_${id}_mirror`;
  const subject = routeSubject(route);
  const what = m.version ? `version ${m.version}` : 'all versions';
  upstream(
    name,
    `${subject}: mirror to backend "${backend.name}", ${what}, ${m.percent}%`,
    backend,
    m,
    1,
    ctx,
    ctx.http,
  );
  const d = ['internal'];
  if (m.percent < 100) {
    const pick = `$mg_mirror_${id}`;
    ctx.http.splits.push({
      comment: `${subject}: mirror share`,
      key: q('${request_id}mirror'),
      variable: pick,
      entries: [
        { share: `${m.percent}%`, value: '1' },
        { share: '*', value: q('') },
      ],
    });
    d.push(`if (${pick} = "") { return 204; }`);
  }
  const tls = upstreamMtls(backend);
  d.push('proxy_next_upstream off', 'proxy_set_header Host $http_host');
  if (tls) d.push(...clientTls(route, ctx), `proxy_ssl_name ${backend.fqdn}`);
  d.push(`proxy_pass ${tls ? 'https' : 'http'}://${name}$request_uri`);
  ctx.diagnostics.push(
    diagnostic(
      'MG3002',
      `${subject}: mirror on nginx holds the caller's connection until the mirrored request ends, and takes the internal path /.meshgen-mirror/${id}`,
      {
        pointer: `${route.pointer}/mirror`,
        target: TARGET,
      },
    ),
  );
  return { match: `= /.meshgen-mirror/${id}`, directives: d };
}

/**
 * Access, enforced on the calling side for the identity the proxy presents: 403 outright, or unless
 * one allow entry accepts the method and path (as the caller sent it, before any rewrite).
 */
function accessDirectives(
  route: ResolvedRoute,
  id: string,
  backends: readonly ResolvedBackend[],
  ctx: RouteContext,
): string[] {
  const caller = callerIdentity(ctx.mesh, route, ctx.identity);
  const decisions = backends.map((b) => ({ b, d: accessDecision(b, caller) }));
  const subject = routeSubject(route);
  const first = decisions[0];
  if (!first) return [];
  const pointer = (b: ResolvedBackend) => (b.access.mode === 'rules' ? b.access.pointer : b.pointer);
  if (decisions.some((x) => !sameDecision(x.d, first.d))) {
    ctx.diagnostics.push(
      diagnostic(
        'MG3002',
        `${subject}: access on nginx cannot differ between the backends a split picks: the rules of backend "${first.b.name}" apply to all`,
        {
          pointer: pointer(first.b),
          target: TARGET,
        },
      ),
    );
  }
  const d = first.d;
  switch (d.kind) {
    case 'allow':
      return [];
    case 'deny':
      return ['return 403 "denied\\n"'];
    case 'unknown-caller':
      ctx.diagnostics.push(
        diagnostic(
          'MG3002',
          `${subject}: access on nginx cannot enforce the access rules of backend "${first.b.name}": its east-west callers are not known`,
          {
            pointer: pointer(first.b),
            target: TARGET,
            hint: 'render with --set identity=<backend> for the workload this node runs',
          },
        ),
      );
      return [];
    case 'some': {
      // One map over "METHOD path" (the path as the caller sent it), a regex per entry.
      const variable = `$mg_access_${id}`;
      const entries = d.entries.map((e) => {
        const methods = e.methods ? `(?:${e.methods.join('|')})` : '[A-Z]+';
        const paths = e.paths
          ? `(?:${e.paths.map((p) => escapeRegex(p.value) + (p.kind === 'exact' ? '$' : '')).join('|')})`
          : '/';
        return { key: q(`~^${methods} ${paths}`), value: '1' };
      });
      ctx.http.maps.push({
        comment: `${subject}: access to backend "${first.b.name}"`,
        source: q('$request_method $uri'),
        variable,
        entries: [...entries, { key: 'default', value: q('') }],
      });
      return [`if (${variable} = "") { return 403 "denied\\n"; }`];
    }
  }
}
