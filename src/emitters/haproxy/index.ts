import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedBackend, ResolvedFrontend, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import {
  accessDecision,
  accessNote,
  callerIdentity,
  certPaths,
  checkProxyInput,
  PROXY_SETTINGS,
  hostsFile,
  pemPath,
  routeHosts,
  setting,
  uniqueDiagnostics,
  type CertPaths,
} from '../../smartstack/index.js';
import { loadTemplate } from '../../smartstack/template.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity, TargetSetting } from '../types.js';
import { versionSetting } from '../settings.js';
import { hostAcls, matchConditions } from './acl.js';
import { REFUSE_AMBIGUOUS_PATH } from './path.js';
import { buildPool, TARGET, type PoolView } from './pool.js';
import { HAPROXY_VERSIONS, retryStatuses } from './versions.js';
import { readVersion } from '../versions.js';
import { comment, word } from './syntax.js';

interface FrontendView {
  name: string;
  comment: string;
  mode: 'http' | 'tcp';
  binds: string[];
  rules: string[];
}

interface ConfigView {
  mesh: string;
  certDir: string;
  global: string[];
  defaults: string[];
  /** The frontend sections, then the backend sections, laid out (`frontendText`, `poolText`). */
  sections: string;
}

const template = loadTemplate<ConfigView>(import.meta.url, 'haproxy.cfg');

/** HAProxy's defaults where the mesh says nothing; stated once as MG3005. */
const DEFAULTS = { connect: 5000, client: 60_000, server: 60_000 };

const fidelity: Readonly<Record<Feature, Fidelity>> = {
  split: 'exact',
  'header-match': 'exact',
  'query-match': 'exact',
  'method-match': 'exact',
  'regex-path': 'approximate', // PCRE, not RE2: the same for the common subset
  timeout: 'approximate', // per try (timeout server); reported when tries can outlast it
  retries: 'approximate', // retry-on knows 500-504 and a few 4xx only; reported when lost
  'per-try-timeout': 'approximate', // timeout server: an inactivity timeout per try
  'fault-delay': 'unsupported', // needs Lua in 2.6
  'fault-abort': 'exact',
  mirror: 'unsupported', // needs an external agent (SPOE)
  'rewrite-path': 'exact',
  'rewrite-host': 'exact',
  'request-headers': 'exact',
  'response-headers': 'exact',
  'load-balancer': 'exact',
  'ring-hash': 'exact',
  'health-check': 'exact',
  'circuit-breaker': 'approximate', // maxconn/maxqueue per server; reported
  'outlier-detection': 'approximate', // observe + on-error mark-down; reported
  mtls: 'exact',
  // Enforced by the calling proxy for the identity it presents (frontends; east-west with --set
  // identity), not by the destination: HAProxy 2.6 cannot read a client certificate's URI SAN.
  access: 'approximate',
  'access-l7': 'approximate',
  'https-frontend': 'exact',
  'client-certificates': 'exact',
  tcp: 'exact',
  'tls-passthrough': 'exact',
};

function poolName(route: ResolvedRoute, index: number): string {
  const to = route.to[index]!;
  return `${route.implicit ? 'b' : 'r'}.${route.name}.${index}.${to.backend}.${to.version ?? 'all'}`;
}

interface Ctx {
  readonly mesh: ResolvedMesh;
  readonly certs: CertPaths;
  readonly diagnostics: Diagnostic[];
  /** Takes each backend section as it is built. */
  readonly pool: (pool: PoolView) => void;
  /** The backend whose workload east-west callers are (`--set identity`). */
  readonly identity?: string;
  readonly retryStatuses: ReadonlySet<number>;
  readonly slots?: number;
}

/** Builds the pools of a route and returns `[pool, cumulative weight bound]` in order, zero weights skipped. */
function routePools(route: ResolvedRoute, ctx: Ctx): { pool: string; upTo: number }[] {
  const out: { pool: string; upTo: number }[] = [];
  let sum = 0;
  route.to.forEach((to, i) => {
    if (to.weight <= 0) return;
    const backend = ctx.mesh.backendsByName.get(to.backend)!;
    const parent =
      route.parent.kind === 'frontend' ? ctx.mesh.frontendsByName.get(route.parent.name) : undefined;
    const pool = buildPool(poolName(route, i), route, to, backend, {
      certs: ctx.certs,
      diagnostics: ctx.diagnostics,
      access: accessDecision(backend, callerIdentity(ctx.mesh, route, ctx.identity)),
      // tls-passthrough: the caller's TLS goes through untouched, end to end.
      passthrough: parent?.protocol === 'tls-passthrough',
      retryStatuses: ctx.retryStatuses,
      slots: ctx.slots,
      routeNotes: out.length === 0,
    });
    ctx.pool(pool);
    sum += to.weight;
    out.push({ pool: pool.name, upTo: sum });
  });
  return out;
}

/**
 * First-match routing: the first route whose match accepts the request sets txn.mg_route (later
 * rules skip once it is set), then one `use_backend` per destination picks by a random draw.
 */
function selectRoutes(
  routes: readonly ResolvedRoute[],
  frontend: ResolvedFrontend | undefined,
  ctx: Ctx,
): string[] {
  const rules: string[] = [];
  const tcp =
    routes[0]?.protocol === 'tcp' || frontend?.protocol === 'tcp' || frontend?.protocol === 'tls-passthrough';
  if (tcp) {
    const sni = frontend?.protocol === 'tls-passthrough';
    // The draw comes first: `accept` ends the evaluation of tcp-request content rules.
    if (routes.some((r) => r.to.filter((t) => t.weight > 0).length > 1))
      rules.push('tcp-request content set-var(sess.mg_pick) rand(100)');
    if (sni)
      rules.push('tcp-request inspect-delay 5s', 'tcp-request content accept if { req.ssl_hello_type 1 }');
    const uses: string[] = [];
    let routeIndex = 0;
    for (const route of routes) {
      const hosts = frontend && sni ? routeHosts(route, frontend.hosts) : undefined;
      const acl = `mg_hosts_${routeIndex}`;
      if (hosts) rules.push(...hostAcls(acl, hosts, 'req.ssl_sni,lower'));
      const pools = routePools(route, ctx);
      for (const { pool, upTo } of pools)
        uses.push(
          `use_backend ${pool} if${hosts ? ` ${acl}` : ''}${upTo < 100 ? ` { var(sess.mg_pick) -m int lt ${upTo} }` : ''}`,
        );
      routeIndex++;
      if (!hosts) break; // a TCP route without hosts takes every connection
    }
    // A connection no use_backend takes is closed: there is no default_backend.
    if (!uses.length) rules.push('tcp-request connection reject');
    rules.push(...uses.map((u) => u.replace(/ if$/, '')));
    return rules;
  }
  const uses: string[] = [];
  routes.forEach((route, n) => {
    const hosts = frontend ? routeHosts(route, frontend.hosts) : undefined;
    const hostAcl = `mg_hosts_${n}`;
    if (hosts) rules.push(...hostAcls(hostAcl, hosts));
    const entries = route.matches.length ? route.matches.map(matchConditions) : [[]];
    const unset = '!{ var(txn.mg_route) -m found }';
    for (const conds of entries)
      rules.push(
        `http-request set-var(txn.mg_route) int(${n}) if ${[unset, ...(hosts ? [hostAcl] : []), ...conds].join(' ')}`,
      );
    for (const { pool, upTo } of routePools(route, ctx))
      uses.push(
        `use_backend ${pool} if { var(txn.mg_route) -m int eq ${n} }${upTo < 100 ? ` { var(txn.mg_pick) -m int lt ${upTo} }` : ''}`,
      );
  });
  // No route accepts the request: 404, and no backend sees it.
  rules.push(
    'http-request return status 404 content-type text/plain string "no route\\n" if !{ var(txn.mg_route) -m found }',
  );
  if (routes.some((r) => r.to.filter((t) => t.weight > 0).length > 1))
    rules.push('http-request set-var(txn.mg_pick) rand(100)');
  rules.push(...uses);
  return rules;
}

function ingress(f: ResolvedFrontend, ctx: Ctx): FrontendView {
  const bind = word(`${f.address.includes(':') ? `[${f.address}]` : f.address}:${f.port}`);
  let tls = '';
  if (f.protocol === 'https' && f.tls?.certificate) {
    const pem = pemPath(f.tls.certificate);
    tls = ` ssl crt ${word(pem)} alpn h2,http/1.1`;
    if (f.tls.clientCa) tls += ` ca-file ${word(f.tls.clientCa)} verify required`;
    ctx.diagnostics.push(
      diagnostic(
        'MG3005',
        `frontend "${f.name}": haproxy reads certificate and key from one file, ${pem} (the certificate, then the key)`,
        {
          pointer: `${f.pointer}/tls`,
          target: TARGET,
          hint: `meshgen certs writes it; otherwise: cat ${f.tls.certificate} ${f.tls.key ?? ''} > ${pem}`,
        },
      ),
    );
  }
  const http = f.protocol === 'http' || f.protocol === 'https';
  return {
    name: `fe.${f.name}`,
    comment: comment(`frontend "${f.name}" (${f.protocol}, hosts ${f.hosts.join(', ')})`),
    mode: http ? 'http' : 'tcp',
    binds: [bind + tls],
    rules: [...(http ? [REFUSE_AMBIGUOUS_PATH] : []), ...selectRoutes(f.routes, f, ctx)],
  };
}

/** The SmartStack local listener: callers of the backend connect here; the backend's routes apply. */
function eastWest(b: ResolvedBackend, ctx: Ctx): FrontendView {
  const http = b.protocol !== 'tcp';
  return {
    name: `ew.${b.name}`,
    comment: comment(
      `backend "${b.name}": local listener for its callers (${b.name}.${b.namespace}:${b.port}${b.sharesPort ? ', own loopback address: see hosts' : ''})`,
    ),
    mode: http ? 'http' : 'tcp',
    binds: [word(`${b.localAddress}:${b.port}`)],
    rules: [...(http ? [REFUSE_AMBIGUOUS_PATH] : []), ...selectRoutes(b.routes, undefined, ctx)],
  };
}

/** `--set serverSlots`: spare server lines for the runtime API (docs/live.md). */
const SLOT_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'serverSlots',
    accepts: 'a number of servers, 1-1000',
    check: (v) => /^\d{1,4}$/.test(v) && Number(v) >= 1 && Number(v) <= 1000,
    description:
      'server lines per backend version in each backend section, the ones without an endpoint in maintenance (`disabled`), and an admin stats socket (`runtimeSocket`): `meshgen watch` fills them over the runtime API instead of reloading',
  },
  {
    name: 'runtimeSocket',
    default: 'haproxy.sock',
    accepts: 'a path',
    check: (v) => v !== '' && !/[\s\0]/.test(v),
    description:
      'with `serverSlots`: the admin-level stats socket, relative to the folder HAProxy runs in (`meshgen watch` puts it in its output folder)',
  },
];

/** The slot count `--set serverSlots` asks for, or undefined. */
function slotCount(options: EmitOptions): number | undefined {
  const v = options.settings?.['serverSlots'];
  return v === undefined ? undefined : Number(v);
}

/** The admin-level stats socket `set server` goes through (the master passes it on at a reload). */
function runtimeSocketLine(options: EmitOptions): string {
  return `stats socket ${word(`unix@${setting(options, 'runtimeSocket', 'haproxy.sock')}`)} mode 600 level admin`;
}

/** One backend version's servers in one backend section: `<pool>/<version>-<slot>`. */
export interface SlotGroup {
  readonly backend: string;
  readonly version: string;
  /** The backend sections (pools) that hold the version's servers. */
  readonly pools: readonly string[];
  /** Its server lines in each of them: `<version>-0` … `<version>-<slots - 1>`. */
  readonly slots: number;
  /** The endpoint (`host:port` as rendered) in each slot; undefined: a spare one, in maintenance. */
  readonly endpoints: readonly (string | undefined)[];
}

/**
 * The server slots the configuration rendered with `--set serverSlots` has, one group per backend
 * version that some backend section serves; undefined without the setting or when nothing renders.
 */
export function haproxySlots(mesh: ResolvedMesh, options: EmitOptions): SlotGroup[] | undefined {
  const pools: PoolView[] = [];
  const { ctx } = build(
    mesh,
    options,
    () => {},
    (p) => pools.push(p),
  );
  if (!ctx || ctx.slots === undefined) return undefined;
  const groups = new Map<string, { backend: string; version: string; pools: string[] }>();
  for (const pool of pools)
    for (const version of pool.destination.versions) {
      const key = `${pool.destination.backend}/${version}`;
      const g = groups.get(key) ?? { backend: pool.destination.backend, version, pools: [] };
      g.pools.push(pool.name);
      groups.set(key, g);
    }
  // by name, not a search of the pools for each group: a large mesh has tens of thousands of both
  const byName = new Map<string, PoolView>();
  for (const p of pools) if (!byName.has(p.name)) byName.set(p.name, p);
  return [...groups.values()].map((g) => {
    const pool = byName.get(g.pools[0]!)!;
    const servers = pool.servers.filter(
      (s) => s.name.startsWith(`${g.version}-`) && /^\d+$/.test(s.name.slice(g.version.length + 1)),
    );
    return {
      ...g,
      slots: servers.length,
      endpoints: servers.map((s) => (s.options.includes('disabled') ? undefined : s.address)),
    };
  });
}

interface Built {
  readonly diagnostics: Diagnostic[];
  readonly ctx?: Ctx;
  readonly certDir?: string;
}

/**
 * Checks the input and builds the frontend and backend sections, handed over one by one as they
 * are built (a large mesh's sections are laid out at once instead of kept until the end).
 */
function build(
  mesh: ResolvedMesh,
  options: EmitOptions,
  frontend: (f: FrontendView) => void,
  pool: (p: PoolView) => void,
): Built {
  const read = readVersion(TARGET, HAPROXY_VERSIONS, options.settings);
  const diagnostics = [...read.diagnostics, ...checkProxyInput(mesh, options, TARGET)];
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const certDir = setting(options, 'certDir', 'certs');
  const identity = options.settings?.['identity'];
  const ctx: Ctx = {
    mesh,
    certs: certPaths(certDir, mesh, identity),
    diagnostics,
    pool,
    identity,
    retryStatuses: retryStatuses(read.version),
    slots: slotCount(options),
  };
  for (const f of mesh.frontends) frontend(ingress(f, ctx));
  for (const b of mesh.backends) frontend(eastWest(b, ctx));
  return { diagnostics, ctx, certDir };
}

/** A `frontend` section, after a blank line. */
function frontendText(f: FrontendView): string {
  const out = ['\n# ', f.comment, '\nfrontend ', f.name, '\n    mode ', f.mode, '\n'];
  for (const b of f.binds) out.push('    bind ', b, '\n');
  for (const r of f.rules) out.push('    ', r, '\n');
  return out.join('');
}

/** A `backend` section, after a blank line. */
function poolText(p: PoolView): string {
  const out = ['\n# ', p.comment, '\nbackend ', p.name, '\n    mode ', p.mode, '\n'];
  for (const s of p.settings) out.push('    ', s, '\n');
  for (const r of p.rules) out.push('    ', r, '\n');
  for (const s of p.servers) {
    out.push('    server ', s.name, ' ', s.address);
    for (const o of s.options) out.push(' ', o);
    out.push('\n');
  }
  return out.join('');
}

export const haproxy: Emitter = {
  target: TARGET,
  summary: 'HAProxy configuration: ingress frontends and a local listener per backend (SmartStack)',
  fidelity,
  versions: HAPROXY_VERSIONS,
  settings: [
    ...PROXY_SETTINGS,
    versionSetting(TARGET, HAPROXY_VERSIONS, ' (`haproxy -v` says which one runs)'),
    ...SLOT_SETTINGS,
  ],
  emit(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
    // laid out as they are built: frontends first, then the backend sections
    const frontends: string[] = [];
    const pools: string[] = [];
    const { diagnostics, ctx, certDir } = build(
      mesh,
      options,
      (f) => frontends.push(frontendText(f)),
      (p) => pools.push(poolText(p)),
    );
    if (!ctx || certDir === undefined) return { files: [], diagnostics };
    diagnostics.push(
      diagnostic(
        'MG3005',
        `haproxy: routes without timeout wait up to ${DEFAULTS.server / 1000}s per try (timeout server); connect timeout ${DEFAULTS.connect / 1000}s, idle client timeout ${DEFAULTS.client / 1000}s`,
        { target: TARGET },
      ),
    );
    for (const b of mesh.backends) {
      const note = accessNote(b, TARGET);
      if (note && b.access.mode === 'rules')
        diagnostics.push(diagnostic('MG3002', note, { pointer: b.access.pointer, target: TARGET }));
    }
    for (const b of mesh.backends) {
      if (
        b.circuitBreaker &&
        (b.circuitBreaker.maxRequests !== undefined ||
          b.circuitBreaker.maxRetries !== undefined ||
          b.circuitBreaker.maxConnections !== undefined)
      )
        diagnostics.push(
          diagnostic(
            'MG3002',
            `backend "${b.name}": circuit-breaker on haproxy limits connections and queue per server (maxconn, maxqueue); maxRequests and maxRetries have no equivalent`,
            {
              pointer: `${b.pointer}/circuitBreaker`,
              target: TARGET,
            },
          ),
        );
      if (b.outlierDetection)
        diagnostics.push(
          diagnostic(
            'MG3002',
            `backend "${b.name}": outlier-detection on haproxy marks a server down after ${b.outlierDetection.consecutiveErrors} consecutive errors and lets checks bring it back; baseEjectionTime and maxEjectionPercent have no equivalent`,
            {
              pointer: `${b.pointer}/outlierDetection`,
              target: TARGET,
            },
          ),
        );
    }
    const contents = template({
      mesh: mesh.name,
      certDir: comment(certDir),
      global: ctx.slots === undefined ? [] : [runtimeSocketLine(options)],
      defaults: [
        `timeout connect ${DEFAULTS.connect / 1000}s`,
        `timeout client ${DEFAULTS.client / 1000}s`,
        `timeout server ${DEFAULTS.server / 1000}s`,
        'timeout http-request 10s',
        'retries 0',
      ],
      sections: frontends.join('') + pools.join(''),
    });
    return {
      files: [
        { path: 'haproxy.cfg', contents },
        { path: 'hosts', contents: hostsFile(mesh) },
      ],
      diagnostics: uniqueDiagnostics(diagnostics),
    };
  },
};
