import { routeSubject } from '../../model/describe.js';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { escapeRegex } from '../../model/regex.js';
import type { ResolvedBackend, ResolvedDestination, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import {
  accessDecision,
  callerIdentity,
  destinationEndpoints,
  routeHosts,
  upstreamMtls,
  type CertPaths,
} from '../../smartstack/index.js';
import { allowedExpr, hostExpr, matchExpr } from './match.js';
import { comment, expr, exprRegex, headerValue, quoted, substitutionText } from './syntax.js';

export const TARGET = 'apache';

/** One `<Proxy balancer://name>` section: the endpoints of one destination of one route. */
export interface BalancerView {
  name: string;
  comment: string;
  directives: string[];
}

/** One `<VirtualHost>`: a frontend or a backend's local listener. */
export interface VHostView {
  /** The fragment's file name under `sites/`. */
  file: string;
  comment: string;
  address: string;
  directives: string[];
  balancers: BalancerView[];
}

export interface ListenerContext {
  readonly mesh: ResolvedMesh;
  readonly certs: CertPaths;
  readonly diagnostics: Diagnostic[];
  readonly identity?: string;
  /** Set when some listener draws (splits, fault aborts): the config needs the draw map. */
  draws: boolean;
  /** Set when some balancer speaks TLS or HTTP/2 to its endpoints. */
  tlsUpstream: boolean;
  h2Upstream: boolean;
  healthChecks: boolean;
}

/**
 * A listener's sections, as its fragment under `sites/` and httpd.conf both hold them: its comment,
 * its balancers, its virtual host. Laid out once per listener, line by line into one list joined
 * once (a large mesh has a million lines of them).
 */
export function siteText(v: VHostView): string {
  const out = ['# ', v.comment, '\n'];
  for (const b of v.balancers) {
    out.push('# ', b.comment, '\n<Proxy balancer://', b.name, '>\n');
    for (const d of b.directives) out.push('    ', d, '\n');
    out.push('</Proxy>\n');
  }
  out.push('<VirtualHost ', v.address, '>\n');
  for (const d of v.directives) out.push('    ', d, '\n');
  out.push('</VirtualHost>\n');
  return out.join('');
}

/** httpd's connect timeout towards endpoints, stated once (MG3005). */
export const CONNECT_TIMEOUT_S = 5;

/**
 * The statuses httpd 2.4 has a status line for (modules/http/http_protocol.c, status_lines): the only
 * ones mod_rewrite's R flag takes.
 */
const KNOWN_STATUSES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306,
  307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421,
  422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** Conditions that cover a failed connection: the only failure mod_proxy retries. */
const CONNECT_CONDITIONS = new Set(['5xx', 'gateway-error', 'connect-failure', 'reset']);

function balancerName(route: ResolvedRoute, index: number): string {
  const to = route.to[index]!;
  const raw = `${route.implicit ? 'b' : 'r'}.${route.name}.${index}.${to.backend}.${to.version ?? 'all'}`;
  return raw.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
}

function lbMethod(b: ResolvedBackend): string {
  // round-robin: byrequests; least-request: bybusyness; random and ring-hash have no lbmethod
  // (the fidelity table and a warning say so) and get byrequests.
  return b.loadBalancer === 'least-request' ? 'bybusyness' : 'byrequests';
}

function buildBalancer(
  route: ResolvedRoute,
  index: number,
  to: ResolvedDestination,
  backend: ResolvedBackend,
  ctx: ListenerContext,
): BalancerView {
  const subject = routeSubject(route);
  const warn = (code: 'MG3002' | 'MG3020' | 'MG3021', message: string, pointer: string, hint?: string) =>
    ctx.diagnostics.push(diagnostic(code, `${subject}: ${message}`, { pointer, target: TARGET, hint }));
  const tls = upstreamMtls(backend);
  const h2 = backend.protocol !== 'http';
  const scheme = h2 ? (tls ? 'h2' : 'h2c') : tls ? 'https' : 'http';
  if (tls) ctx.tlsUpstream = true;
  if (h2) ctx.h2Upstream = true;

  const params: string[] = ['retry=0', `connectiontimeout=${CONNECT_TIMEOUT_S}`];
  const retries = route.retries;
  const perTry = retries?.perTryTimeoutMs ?? route.timeoutMs;
  if (perTry !== undefined) {
    // a member's timeout is whole seconds (proxy_util.c reads it with atoi): rounded up
    const seconds = Math.max(1, Math.ceil(perTry / 1000));
    params.push(`timeout=${seconds}`);
    warn(
      'MG3021',
      `timeout on apache bounds each wait for data from the endpoint (timeout=${seconds}, whole seconds${seconds * 1000 !== perTry ? `, not ${perTry}ms` : ''}), not the whole response, and httpd answers an expired one 502 Bad Gateway, not 504`,
      `${route.pointer}/${retries?.perTryTimeoutMs !== undefined ? 'retries/perTryTimeout' : 'timeout'}`,
    );
  }
  const hc = backend.healthCheck;
  if (hc) {
    ctx.healthChecks = true;
    params.push(
      'hcmethod=GET',
      `hcuri=${hc.path}`,
      `hcinterval=${Math.max(1, Math.round(hc.intervalMs / 1000))}`,
      `hcpasses=${hc.healthyThreshold}`,
      `hcfails=${hc.unhealthyThreshold}`,
    );
    if (hc.intervalMs % 1000 !== 0 || hc.timeoutMs !== (perTry ?? 60_000))
      warn(
        'MG3002',
        `health-check on apache runs every ${Math.max(1, Math.round(hc.intervalMs / 1000))}s (whole seconds) and waits as long as a request does (the member's timeout), not the check's own timeout`,
        `${backend.pointer}/healthCheck`,
      );
  }

  const members = destinationEndpoints(backend, to).map(({ endpoint }) => {
    const host = endpoint.family === 'ipv6' ? `[${endpoint.host}]` : endpoint.host;
    const words = params.map((p) => (p.startsWith('hcuri=') ? quoted(p) : p));
    return `BalancerMember ${scheme}://${host}:${endpoint.port} ${words.join(' ')}`;
  });

  let maxattempts = 0;
  if (retries && retries.attempts > 0) {
    if (retries.on.some((c) => CONNECT_CONDITIONS.has(c))) maxattempts = retries.attempts;
    warn(
      'MG3020',
      `retries on apache: mod_proxy_balancer tries another endpoint (or the same one again) only when connecting fails, up to ${maxattempts} time(s) (maxattempts); a response, whatever its status (${retries.on.join(', ')}), is never retried`,
      `${route.pointer}/retries`,
    );
  }
  const directives = [...members, `ProxySet lbmethod=${lbMethod(backend)} maxattempts=${maxattempts}`];
  if (backend.loadBalancer === 'random')
    warn(
      'MG3002',
      `load-balancer random on apache is round robin (byrequests)`,
      `${backend.pointer}/loadBalancer`,
    );

  if (tls) {
    const client = ctx.certs.client(
      route.parent.kind === 'frontend' ? route.parent : { kind: 'backend', name: route.parent.name },
    );
    directives.push(
      'SSLProxyEngine on',
      `SSLProxyMachineCertificateFile ${quoted(client.pem)}`,
      `SSLProxyCACertificateFile ${quoted(ctx.certs.ca)}`,
      'SSLProxyVerify require',
      'SSLProxyVerifyDepth 2',
      // the name httpd would check is the endpoint's address (or the Host header), not the
      // backend's: the mesh CA alone is checked (stated by MG3002).
      'SSLProxyCheckPeerName off',
      'SSLProxyCheckPeerCN off',
    );
    warn(
      'MG3002',
      `mtls on apache checks that an endpoint's certificate is signed by the mesh CA, not that it names backend "${backend.name}": httpd can only compare it with the address it connects to`,
      backend.pointer,
    );
  }
  const what = to.version ? `version ${to.version}` : 'all versions';
  return {
    name: balancerName(route, index),
    comment: comment(`${subject} -> backend "${backend.name}", ${what}, ${to.weight}%`),
    directives,
  };
}

/**
 * The rewrite rules of one listener. First match: each route in order sets MG_ROUTE when it is
 * still empty and its host and match accept the request; nothing set is 404 (no backend sees it).
 * Then each route's access rules, fault abort and destinations, a destination chosen by MG_PICK
 * (a draw 0-99 per request from the draw map's `rnd:` entry).
 */
export function routeRules(
  routes: readonly ResolvedRoute[],
  frontendHosts: readonly string[] | undefined,
  ctx: ListenerContext,
): { directives: string[]; balancers: BalancerView[] } {
  const out: string[] = [
    'RewriteEngine on',
    // A backslash is no separator to httpd, to many apps it is: `/refund/..\admin` (or `..%5c`) is
    // under /refund here and /admin there. Refused (400) before routing, as on NGINX.
    '# a path with a backslash: 400',
    'RewriteCond expr "%{REQUEST_URI} =~ m#\\x5c#"',
    'RewriteRule ^ - [R=400,L]',
  ];
  const headers: string[] = [];
  const balancers: BalancerView[] = [];
  const draws = routes.some((r) => r.to.filter((t) => t.weight > 0).length > 1 || r.fault?.abort);
  if (draws) {
    ctx.draws = true;
    out.push(
      'RewriteMap mg_draw "rnd:draw.map"',
      'RewriteRule ^ - [E=MG_PICK:${mg_draw:pick},E=MG_FAULT:${mg_draw:pick}]',
    );
  }
  routes.forEach((route, n) => {
    const hosts = frontendHosts ? routeHosts(route, frontendHosts) : undefined;
    // httpd's strict host check (HttpProtocolOptions Strict, the default) reads a name whose last
    // label starts with a digit as a malformed IPv4 address and answers 400 before any rule runs
    const refused = (hosts ?? []).filter((h) => /(^|\.)[0-9][^.]*$/.test(h) && !/^[0-9.]+$/.test(h));
    if (refused.length)
      ctx.diagnostics.push(
        diagnostic(
          'MG3002',
          `${routeSubject(route)}: host on apache refuses host ${refused.map((h) => `"${h}"`).join(', ')} with 400: httpd reads a name whose last label starts with a digit as a malformed IPv4 address`,
          {
            pointer:
              route.parent.kind === 'frontend' && route.parent.hosts.length
                ? `${route.pointer}/parent`
                : route.pointer,
            target: TARGET,
          },
        ),
      );
    const conds = hosts ? [hostExpr(hosts)] : [];
    if (route.matches.length) conds.push(`(${route.matches.map((m) => `(${matchExpr(m)})`).join(' || ')})`);
    out.push(
      `# ${n}: ${comment(routeSubject(route))}`,
      'RewriteCond %{ENV:MG_ROUTE} ^$',
      ...(conds.length ? [`RewriteCond expr ${expr(conds.join(' && '))}`] : []),
      `RewriteRule ^ - [E=MG_ROUTE:${n},E=MG_R${n}:1]`,
    );
  });
  out.push(
    '# no route accepts the request: 404, and no backend sees it',
    'RewriteCond %{ENV:MG_ROUTE} ^$',
    'RewriteRule ^ - [R=404,L]',
  );

  routes.forEach((route, n) => {
    const mine = `RewriteCond %{ENV:MG_ROUTE} =${n}`;
    const abort = route.fault?.abort;
    if (abort) {
      const pct = Math.round(abort.percent);
      if (pct !== abort.percent)
        ctx.diagnostics.push(
          diagnostic(
            'MG3002',
            `${routeSubject(route)}: fault-abort on apache draws whole percents: ${pct}%, not ${abort.percent}%`,
            {
              pointer: `${route.pointer}/fault/abort`,
              target: TARGET,
            },
          ),
        );
      const status = KNOWN_STATUSES.has(abort.status) ? abort.status : 500;
      if (status !== abort.status)
        ctx.diagnostics.push(
          diagnostic(
            'MG3002',
            `${routeSubject(route)}: fault-abort on apache answers 500: httpd has no status line for ${abort.status}, and mod_rewrite refuses a status it does not know`,
            { pointer: `${route.pointer}/fault/abort/status`, target: TARGET },
          ),
        );
      if (pct > 0)
        out.push(mine, `RewriteCond expr "%{ENV:MG_FAULT} -lt ${pct}"`, `RewriteRule ^ - [R=${status},L]`);
    }
    let upTo = 0;
    const live = route.to.filter((t) => t.weight > 0).length;
    route.to.forEach((to, i) => {
      if (to.weight <= 0) return;
      const backend = ctx.mesh.backendsByName.get(to.backend)!;
      upTo += to.weight;
      const pick = live > 1 && upTo < 100 ? [`RewriteCond expr "%{ENV:MG_PICK} -lt ${upTo}"`] : [];
      const from =
        live > 1 && upTo > to.weight ? [`RewriteCond expr "%{ENV:MG_PICK} -ge ${upTo - to.weight}"`] : [];
      const access = accessDecision(backend, callerIdentity(ctx.mesh, route, ctx.identity));
      // Access first: on the path the caller sent, before any rewrite.
      if (access.kind === 'deny') out.push(mine, ...from, ...pick, 'RewriteRule ^ - [F]');
      else if (access.kind === 'some')
        out.push(
          mine,
          ...from,
          ...pick,
          `RewriteCond expr ${expr(`!(${allowedExpr(access)})`)}`,
          'RewriteRule ^ - [F]',
        );
      else if (access.kind === 'unknown-caller')
        ctx.diagnostics.push(
          diagnostic(
            'MG3002',
            `${routeSubject(route)}: access on apache cannot enforce the access rules of backend "${backend.name}": its east-west callers are not known`,
            {
              pointer: backend.access.mode === 'rules' ? backend.access.pointer : backend.pointer,
              target: TARGET,
              hint: 'render with --set identity=<backend> for the workload this node runs',
            },
          ),
        );
      const balancer = buildBalancer(route, i, to, backend, ctx);
      balancers.push(balancer);
      const prefix = route.rewrite?.pathPrefix;
      const rule =
        prefix !== undefined
          ? `RewriteRule ${quoted(exprRegex(`^(?:${route.matches.map((m) => escapeRegex(m.path?.value ?? '')).join('|')})(.*)$`).slice(2, -1))} ${quoted(`balancer://${balancer.name}${substitutionText(prefix)}$1`)} [P]`
          : `RewriteRule ^(.*)$ balancer://${balancer.name}$1 [P]`;
      out.push(mine, ...from, ...pick, rule);
    });

    // Header operations (mod_headers, in the fixups phase: after routing, before proxying).
    const only = `env=MG_R${n}`;
    if (route.rewrite?.host !== undefined)
      headers.push(`RequestHeader set Host ${headerValue(route.rewrite.host)} ${only}`);
    const req = route.requestHeaders;
    for (const [k, v] of req.set) headers.push(`RequestHeader set ${quoted(k)} ${headerValue(v)} ${only}`);
    for (const [k, v] of req.add) headers.push(`RequestHeader add ${quoted(k)} ${headerValue(v)} ${only}`);
    for (const k of req.remove) headers.push(`RequestHeader unset ${quoted(k)} ${only}`);
    const res = route.responseHeaders;
    for (const [k, v] of res.set) headers.push(`Header set ${quoted(k)} ${headerValue(v)} ${only}`);
    for (const [k, v] of res.add) headers.push(`Header add ${quoted(k)} ${headerValue(v)} ${only}`);
    for (const k of res.remove) headers.push(`Header unset ${quoted(k)} ${only}`);
  });
  return { directives: [...out, ...headers], balancers };
}
