import { routeSubject } from '../../model/describe.js';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedBackend, ResolvedFrontend, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import {
  accessNote,
  certPaths,
  checkProxyInput,
  PROXY_SETTINGS,
  hostsFile,
  ident,
  routeHosts,
  setting,
  uniqueDiagnostics,
} from '../../smartstack/index.js';
import { loadTemplate } from '../../smartstack/template.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity } from '../types.js';
import { versionSetting } from '../settings.js';
import { Conditions, hostRegex, matchFlags, routeMap } from './conditions.js';
import { REFUSE_BACKSLASH } from './path.js';
import { httpRoute, locationName, TARGET, type RouteContext } from './route.js';
import { HTTP2_DIRECTIVE_SINCE, NGINX_VERSIONS } from './versions.js';
import { KEEPALIVE_SETTINGS, keepaliveDirectives } from './keepalive.js';
import { atLeast, readVersion } from '../versions.js';
import { streamServer } from './stream.js';
import { comment, DOLLAR, DOLLAR_VARIABLE, failTimeout, word } from './syntax.js';
import { emptyBlock, layoutBlock, serverText, type BlockView, type ServerView } from './view.js';

/** What the template lays out: the blocks' contents come laid out (`layoutBlock`). */
interface ConfigView {
  mesh: string;
  certDir: string;
  modules: string[];
  /** The client keep-alive directives of the http block (src/emitters/nginx/keepalive.ts). */
  keepalive: string[];
  http: { globals: string[]; text: string };
  stream?: { globals: string[]; text: string };
}

const template = loadTemplate<ConfigView>(import.meta.url, 'nginx.conf');

/** NGINX's defaults where the mesh says nothing; stated once as MG3005. */
const DEFAULTS = { connectMs: 5000, readMs: 60_000 };
/** Where Debian's libnginx-mod-stream puts the stream module (`--set streamModule=` to change). */
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

const fidelity: Readonly<Record<Feature, Fidelity>> = {
  split: 'exact', // split_clients on $request_id: a random draw per request
  'header-match': 'exact',
  'query-match': 'exact',
  'method-match': 'exact',
  'regex-path': 'approximate', // PCRE on the normalized $uri
  timeout: 'approximate', // proxy_read_timeout between reads; proxy_next_upstream_timeout for tries
  retries: 'approximate', // proxy_next_upstream knows 500/502/503/504/403/404/429 only
  'per-try-timeout': 'approximate',
  'fault-delay': 'unsupported',
  'fault-abort': 'exact',
  mirror: 'approximate', // a mirror subrequest; the caller's connection waits for it
  'rewrite-path': 'exact',
  'rewrite-host': 'exact',
  'request-headers': 'approximate', // add joins values into one header
  'response-headers': 'exact',
  'load-balancer': 'exact',
  'ring-hash': 'exact',
  'health-check': 'approximate', // open source nginx has no active checks: passive max_fails/fail_timeout
  'circuit-breaker': 'approximate', // max_conns per server
  'outlier-detection': 'approximate', // max_fails/fail_timeout
  mtls: 'exact',
  // Enforced by the calling proxy for the identity it presents (frontends; east-west with --set
  // identity), not by the destination: no nginx variable holds a client certificate's URI SAN.
  access: 'approximate',
  'access-l7': 'approximate',
  'https-frontend': 'exact',
  'client-certificates': 'exact',
  tcp: 'exact',
  'tls-passthrough': 'exact',
};

/** One HTTP listener: a single `location /` sends each request to its route's named location. */
function httpServer(
  id: string,
  comment: string,
  listen: string[],
  extra: string[],
  routes: readonly ResolvedRoute[],
  frontend: ResolvedFrontend | undefined,
  conditions: Conditions,
  ctx: RouteContext,
): ServerView {
  // recursive: a route's location (reached through error_page) can hand nginx's own 502 to @mg_503.
  const directives = [
    ...listen.map((l) => `listen ${l}`),
    'server_name _',
    'recursive_error_pages on',
    ...extra,
    REFUSE_BACKSLASH,
  ];
  const terms: { flags: string[]; value: string }[] = [];
  const locations = [];
  for (const route of routes) {
    const where = routeSubject(route);
    const hosts = frontend ? routeHosts(route, frontend.hosts) : undefined;
    const hostFlag = hosts
      ? [conditions.flag('$host', hostRegex(hosts), `${where}: hosts ${hosts.join(', ')}`)]
      : [];
    const entries = route.matches.length ? route.matches : [undefined];
    for (const m of entries)
      terms.push({
        flags: [...hostFlag, ...(m ? matchFlags(m, conditions, where) : [])],
        value: locationName(route),
      });
    locations.push(...httpRoute(route, ctx));
  }
  const variable = `$mg_route_${id}`;
  ctx.http.maps.push(routeMap(variable, `${comment}: routes in first-match order`, terms, '@mg_404'));
  return {
    comment,
    directives,
    locations: [
      // Not location precedence: one location, and the route map decides in the order written.
      { match: '/', directives: [`error_page 418 = ${variable}`, 'return 418'] },
      { match: '@mg_404', directives: ['return 404 "no route\\n"'] },
      { match: '@mg_503', directives: ['return 503 "no healthy upstream\\n"'] },
      ...locations,
    ],
  };
}

function bindAddress(address: string, port: number): string {
  return word(`${address.includes(':') ? `[${address}]` : address}:${port}`);
}

export const nginx: Emitter = {
  target: TARGET,
  summary: 'NGINX configuration: ingress servers and a local listener per backend (SmartStack)',
  fidelity,
  versions: NGINX_VERSIONS,
  settings: [
    ...PROXY_SETTINGS,
    {
      name: 'streamModule',
      default: STREAM_MODULE,
      accepts: 'a path, or empty',
      description:
        'the stream module `load_module` loads when the mesh has TCP; empty: no `load_module` (NGINX built with the stream module)',
    },
    ...KEEPALIVE_SETTINGS,
    versionSetting(TARGET, NGINX_VERSIONS, ' (`nginx -v` says which one runs)'),
  ],
  emit(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
    const read = readVersion(TARGET, NGINX_VERSIONS, options.settings);
    const keepalive = keepaliveDirectives(read.version, options.settings);
    const diagnostics = [
      ...read.diagnostics,
      ...keepalive.diagnostics,
      ...checkProxyInput(mesh, options, TARGET),
    ];
    if (diagnostics.some((d) => d.severity === 'error')) return { files: [], diagnostics };
    const http2Directive = atLeast(read.version, HTTP2_DIRECTIVE_SINCE);
    const certDir = setting(options, 'certDir', 'certs');
    const identity = options.settings?.['identity'];
    const view: {
      mesh: string;
      certDir: string;
      modules: string[];
      keepalive: string[];
      http: BlockView;
      stream?: BlockView;
    } = {
      mesh: mesh.name,
      certDir: comment(certDir),
      modules: [],
      keepalive: keepalive.lines,
      http: emptyBlock(),
    };
    const stream = emptyBlock();
    const ctx: RouteContext = {
      mesh,
      certs: certPaths(certDir, mesh, identity),
      diagnostics,
      http: view.http,
      defaults: DEFAULTS,
      identity,
    };
    const conditions = new Conditions();

    for (const f of mesh.frontends) {
      const listen = bindAddress(f.address, f.port);
      const comment = `frontend "${f.name}" (${f.protocol}, hosts ${f.hosts.join(', ')})`;
      if (f.protocol === 'tcp' || f.protocol === 'tls-passthrough') {
        stream.servers.push(serverText(streamServer(listen, comment, f.routes, f, ctx, stream)));
        continue;
      }
      const extra: string[] = [];
      if (f.protocol === 'https' && f.tls?.certificate && f.tls.key) {
        extra.push(`ssl_certificate ${word(f.tls.certificate)}`, `ssl_certificate_key ${word(f.tls.key)}`);
        if (f.tls.clientCa)
          extra.push(`ssl_client_certificate ${word(f.tls.clientCa)}`, 'ssl_verify_client on');
      }
      // HTTP/2 on an https frontend: the `http2` directive from 1.25.1 on, the listen flag before it
      if (f.protocol === 'https' && http2Directive) extra.push('http2 on');
      const l = f.protocol === 'https' ? `${listen} ssl${http2Directive ? '' : ' http2'}` : listen;
      view.http.servers.push(
        serverText(httpServer(`fe_${ident(f.name)}`, comment, [l], extra, f.routes, f, conditions, ctx)),
      );
    }
    for (const b of mesh.backends) {
      const listen = bindAddress(b.localAddress, b.port);
      const comment = `backend "${b.name}": local listener for its callers (${b.name}.${b.namespace}:${b.port}${b.sharesPort ? ', own loopback address: see hosts' : ''})`;
      if (b.protocol === 'tcp')
        stream.servers.push(serverText(streamServer(listen, comment, b.routes, undefined, ctx, stream)));
      else
        view.http.servers.push(
          serverText(
            httpServer(`ew_${ident(b.name)}`, comment, [listen], [], b.routes, undefined, conditions, ctx),
          ),
        );
    }
    // the condition maps first (concat: a large mesh has too many of them for call arguments)
    view.http.maps = conditions.maps.concat(view.http.maps);
    if (stream.servers.length) {
      view.stream = stream;
      const module = options.settings?.['streamModule'] ?? STREAM_MODULE;
      if (module) view.modules.push(module);
    }
    diagnostics.push(
      diagnostic(
        'MG3005',
        `nginx: routes without timeout wait up to ${DEFAULTS.readMs / 1000}s between reads (proxy_read_timeout) and ${DEFAULTS.connectMs / 1000}s to connect`,
        { target: TARGET },
      ),
    );
    for (const b of mesh.backends) {
      const note = accessNote(b, TARGET);
      if (note && b.access.mode === 'rules')
        diagnostics.push(diagnostic('MG3002', note, { pointer: b.access.pointer, target: TARGET }));
    }
    for (const b of mesh.backends) backendNotes(b, diagnostics);
    const layout = () =>
      template({
        ...view,
        http: { globals: view.http.globals, text: layoutBlock(view.http) },
        stream: view.stream && { globals: view.stream.globals, text: layoutBlock(view.stream) },
      });
    let contents = layout();
    // a literal `$` in a string nginx expands is a variable that must be defined: laid out again with it
    if (contents.includes(DOLLAR)) {
      view.http.globals.push(DOLLAR_VARIABLE);
      contents = layout();
    }
    return {
      files: [
        { path: 'hosts', contents: hostsFile(mesh) },
        { path: 'nginx.conf', contents },
      ],
      diagnostics: uniqueDiagnostics(diagnostics),
    };
  },
};

function backendNotes(b: ResolvedBackend, diagnostics: Diagnostic[]): void {
  const note = (feature: string, message: string, pointer: string) =>
    diagnostics.push(
      diagnostic('MG3002', `backend "${b.name}": ${feature} on nginx ${message}`, {
        pointer,
        target: TARGET,
      }),
    );
  if (b.healthCheck)
    note(
      'health-check',
      `has no active checks (NGINX Plus only): a server failing ${b.outlierDetection ? b.outlierDetection.consecutiveErrors : b.healthCheck.unhealthyThreshold} failed tries is skipped for a while (max_fails, fail_timeout; connection errors and timeouts count, 5xx only where the route retries on them); ${b.healthCheck.path} is never probed`,
      `${b.pointer}/healthCheck`,
    );
  if (b.outlierDetection)
    note(
      'outlier-detection',
      `skips a server for fail_timeout after max_fails failed tries within fail_timeout (max_fails=${b.outlierDetection.consecutiveErrors} fail_timeout=${failTimeout(b.outlierDetection.baseEjectionTimeMs)}${b.outlierDetection.baseEjectionTimeMs % 1000 ? `, baseEjectionTime rounded up to whole seconds` : ''}; connection errors and timeouts count, 5xx only where the route retries on them); interval and maxEjectionPercent have no equivalent`,
      `${b.pointer}/outlierDetection`,
    );
  if (b.circuitBreaker)
    note(
      'circuit-breaker',
      'limits connections per server (max_conns); pending requests, maxRequests and maxRetries have no equivalent',
      `${b.pointer}/circuitBreaker`,
    );
}
