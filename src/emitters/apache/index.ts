import { diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedBackend, ResolvedFrontend, ResolvedMesh } from '../../model/types.js';
import {
  accessNote,
  certPaths,
  checkProxyInput,
  hostsFile,
  PROXY_SETTINGS,
  setting,
  uniqueDiagnostics,
} from '../../smartstack/index.js';
import { loadTemplate } from '../../smartstack/template.js';
import { versionSetting } from '../settings.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity } from '../types.js';
import { readVersion } from '../versions.js';
import {
  CONNECT_TIMEOUT_S,
  routeRules,
  siteText,
  TARGET,
  type ListenerContext,
  type VHostView,
} from './listener.js';
import { comment, DOLLAR_DEFINE, quoted } from './syntax.js';
import { APACHE_VERSIONS } from './versions.js';

interface ConfigView {
  mesh: string;
  serverRoot?: string;
  certDir: string;
  dollar: string;
  modules: string[];
  globals: string[];
  listens: string[];
  /** Each listener's sections (`siteText`), after a blank line. */
  sites: string;
}

const config = loadTemplate<ConfigView>(import.meta.url, 'httpd.conf');

/** A listener laid out: where it goes, and its text (in httpd.conf and in its fragment). */
interface Site {
  readonly file: string;
  readonly address: string;
  readonly text: string;
}

function site(v: VHostView | undefined): Site | undefined {
  return v && { file: v.file, address: v.address, text: siteText(v) };
}

/** Where Debian's apache2 keeps its modules (`--set moduleDir=` to change). */
const MODULE_DIR = '/usr/lib/apache2/modules';
/** httpd's own default for the wait on an endpoint (Timeout), stated once (MG3005). */
const DEFAULT_TIMEOUT_S = 60;

const fidelity: Readonly<Record<Feature, Fidelity>> = {
  split: 'exact', // a draw per request (RewriteMap rnd:) chooses the destination
  'header-match': 'exact',
  'query-match': 'approximate', // on the raw query string, as NGINX's $args
  'method-match': 'exact',
  'regex-path': 'approximate', // PCRE on the decoded path, not RE2
  timeout: 'approximate', // between reads, per try; an expired one is 502, not 504 (MG3021)
  retries: 'approximate', // failover on connection failure only (MG3020)
  'per-try-timeout': 'approximate',
  'fault-delay': 'unsupported',
  'fault-abort': 'exact',
  mirror: 'unsupported',
  'rewrite-path': 'exact',
  'rewrite-host': 'exact',
  'request-headers': 'exact',
  'response-headers': 'exact',
  'load-balancer': 'approximate', // random has no lbmethod: round robin
  'ring-hash': 'unsupported', // no hashing lbmethod in httpd 2.4 (stickysession is not a hash)
  'health-check': 'approximate', // mod_proxy_hcheck: whole seconds, the member's timeout
  'circuit-breaker': 'unsupported',
  'outlier-detection': 'unsupported',
  mtls: 'approximate', // the mesh CA is checked, not the backend's name
  // Enforced by the calling proxy for the identity it presents, as on HAProxy and NGINX.
  access: 'approximate',
  'access-l7': 'approximate',
  'https-frontend': 'exact',
  'client-certificates': 'exact',
  tcp: 'unsupported', // mod_proxy has no plain TCP proxy (mod_proxy_connect serves CONNECT only)
  'tls-passthrough': 'unsupported',
};

function listenAddress(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function frontendHost(f: ResolvedFrontend, ctx: ListenerContext): VHostView | undefined {
  if (f.protocol === 'tcp' || f.protocol === 'tls-passthrough') return undefined;
  const directives: string[] = [];
  const name = f.hosts.find((h) => h !== '*' && !h.startsWith('*.'));
  if (name) directives.push(`ServerName ${quoted(name)}`);
  if (f.protocol === 'https') {
    if (f.tls?.certificate && f.tls.key) {
      directives.push(
        'SSLEngine on',
        `SSLCertificateFile ${quoted(f.tls.certificate)}`,
        `SSLCertificateKeyFile ${quoted(f.tls.key)}`,
      );
      if (f.tls.clientCa)
        directives.push(
          `SSLCACertificateFile ${quoted(f.tls.clientCa)}`,
          'SSLVerifyClient require',
          'SSLVerifyDepth 2',
        );
    } else {
      ctx.diagnostics.push(
        diagnostic(
          'MG3001',
          `frontend "${f.name}": apache needs tls.certificate and tls.key files; the listener is left out`,
          {
            pointer: `${f.pointer}/tls`,
            target: TARGET,
          },
        ),
      );
      return undefined;
    }
  }
  const rules = routeRules(f.routes, f.hosts, ctx);
  return {
    file: `frontend-${f.name}.conf`,
    comment: comment(`frontend "${f.name}" (${f.protocol}, hosts ${f.hosts.join(', ')})`),
    address: listenAddress(f.address, f.port),
    directives: [...directives, ...rules.directives],
    balancers: rules.balancers,
  };
}

/** The SmartStack local listener: callers of the backend connect here; the backend's routes apply. */
function eastWest(b: ResolvedBackend, ctx: ListenerContext): VHostView | undefined {
  if (b.protocol === 'tcp') return undefined;
  const rules = routeRules(b.routes, undefined, ctx);
  return {
    file: `backend-${b.name}.conf`,
    comment: comment(
      `backend "${b.name}": local listener for its callers (${b.name}.${b.namespace}:${b.port}${b.sharesPort ? ', own loopback address: see hosts' : ''})`,
    ),
    address: listenAddress(b.localAddress, b.port),
    directives: rules.directives,
    balancers: rules.balancers,
  };
}

function modules(ctx: ListenerContext, https: boolean): string[] {
  const names = [
    'mpm_event',
    'authz_core',
    'headers',
    'rewrite',
    'proxy',
    'proxy_http',
    ...(ctx.h2Upstream ? ['proxy_http2'] : []),
    'proxy_balancer',
    'slotmem_shm',
    'lbmethod_byrequests',
    'lbmethod_bybusyness',
    ...(ctx.healthChecks ? ['proxy_hcheck'] : []),
    ...(ctx.tlsUpstream || https ? ['ssl', 'socache_shmcb'] : []),
  ];
  return names.map((n) => `${n}_module ${n}`);
}

export const apache: Emitter = {
  target: TARGET,
  summary:
    'Apache httpd 2.4 configuration: virtual hosts for frontends and a local listener per backend (SmartStack)',
  fidelity,
  versions: APACHE_VERSIONS,
  settings: [
    ...PROXY_SETTINGS,
    {
      name: 'moduleDir',
      default: MODULE_DIR,
      accepts: 'a folder',
      check: (v) => v !== '' && !/[\r\n\0"]/.test(v),
      description: "where httpd's modules are (`LoadModule`): Debian's apache2 keeps them there",
    },
    {
      name: 'serverRoot',
      defaultText: "none: `apache2 -d <folder>` names it (else httpd's built-in one, /etc/apache2 on Debian)",
      accepts: 'an absolute folder',
      check: (v) => v.startsWith('/') && !/[\r\n\0"]/.test(v),
      description:
        'the ServerRoot written into httpd.conf: relative paths (certificates, draw.map, the pid file) are read from it',
    },
    versionSetting(TARGET, APACHE_VERSIONS, ' (`apache2 -v` says which one runs)'),
  ],
  emit(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
    const read = readVersion(TARGET, APACHE_VERSIONS, options.settings);
    const diagnostics = [...read.diagnostics, ...checkProxyInput(mesh, options, TARGET)];
    if (diagnostics.some((d) => d.severity === 'error')) return { files: [], diagnostics };
    const certDir = setting(options, 'certDir', 'certs');
    const moduleDir = setting(options, 'moduleDir', MODULE_DIR).replace(/\/+$/, '');
    const identity = options.settings?.['identity'];
    const serverRoot = options.settings?.['serverRoot'] || undefined;
    const ctx: ListenerContext = {
      mesh,
      certs: certPaths(certDir, mesh, identity),
      diagnostics,
      identity,
      draws: false,
      tlsUpstream: false,
      h2Upstream: false,
      healthChecks: false,
    };
    // laid out as they are built, not kept until the end
    const vhosts = [
      ...mesh.frontends.map((f) => site(frontendHost(f, ctx))),
      ...mesh.backends.map((b) => site(eastWest(b, ctx))),
    ].filter((v): v is Site => v !== undefined);
    diagnostics.push(
      diagnostic(
        'MG3005',
        `apache: routes without timeout wait up to ${DEFAULT_TIMEOUT_S}s between reads (Timeout); connect timeout ${CONNECT_TIMEOUT_S}s; requests are proxied with the caller's Host (ProxyPreserveHost On)`,
        { target: TARGET },
      ),
    );
    for (const b of mesh.backends) {
      const note = accessNote(b, TARGET);
      if (note && b.access.mode === 'rules')
        diagnostics.push(diagnostic('MG3002', note, { pointer: b.access.pointer, target: TARGET }));
    }
    const https = mesh.frontends.some((f) => f.protocol === 'https');
    const listens = [...new Set(vhosts.map((v) => v.address))];
    const files = [
      {
        path: 'httpd.conf',
        contents: config({
          mesh: comment(mesh.name),
          serverRoot: serverRoot === undefined ? undefined : quoted(serverRoot),
          certDir: comment(certDir),
          dollar: DOLLAR_DEFINE,
          modules: modules(ctx, https).map((m) => {
            const [name, file] = m.split(' ');
            return `${name} ${quoted(`${moduleDir}/mod_${file}.so`)}`;
          }),
          globals: [
            `Timeout ${DEFAULT_TIMEOUT_S}`,
            'ProxyPreserveHost On',
            // the caller's Host and address travel as they came (no X-Forwarded-* added)
            'ProxyAddHeaders Off',
            ...(https || ctx.tlsUpstream ? ['SSLSessionCache "shmcb:ssl-cache(512000)"'] : []),
          ],
          listens,
          sites: vhosts.map((v) => '\n' + v.text).join(''),
        }),
      },
      { path: 'hosts', contents: hostsFile(mesh) },
      ...vhosts.map((v) => ({ path: `sites/${v.file}`, contents: v.text })),
    ];
    if (ctx.draws)
      files.push({
        path: 'draw.map',
        contents: `# meshgen: a draw per request, 0-99 (RewriteMap mg_draw "rnd:draw.map")\npick ${Array.from({ length: 100 }, (_, i) => i).join('|')}\n`,
      });
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { files, diagnostics: uniqueDiagnostics(diagnostics) };
  },
};
