import type { Feature } from '../../model/features.js';
import type { ResolvedMesh } from '../../model/types.js';
import {
  accessNote,
  certPaths,
  checkProxyInput,
  hostsFile,
  PROXY_SETTINGS,
  setting,
  uniqueDiagnostics,
} from '../../smartstack/index.js';
import { toYaml } from '../../yaml/writer.js';
import { versionSetting } from '../settings.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity } from '../types.js';
import { readVersion } from '../versions.js';
import { httpRouters } from './http.js';
import { emptyDynamic, report, type Ctx, type Dynamic } from './model.js';
import { tcpRouters } from './tcp.js';
import { TARGET, TRAEFIK_VERSIONS } from './versions.js';

const fidelity: Readonly<Record<Feature, Fidelity>> = {
  split: 'exact', // weighted round robin: the shares exactly over each cycle of the weights
  'header-match': 'exact',
  'query-match': 'exact',
  'method-match': 'exact',
  'regex-path': 'exact', // Go regexp is RE2
  timeout: 'approximate', // responseHeaderTimeout per try; no total per route (MG3030)
  retries: 'approximate', // network errors only, never on a status (MG3031)
  'per-try-timeout': 'approximate', // until response headers (MG3030)
  'fault-delay': 'unsupported', // no fault middleware (MG3032)
  'fault-abort': 'unsupported',
  mirror: 'exact',
  'rewrite-path': 'exact', // replacePathRegex (which adds X-Replaced-Path)
  'rewrite-host': 'exact',
  'request-headers': 'approximate', // set only: add replaces (MG3035)
  'response-headers': 'approximate',
  'load-balancer': 'approximate', // weighted round robin only (MG3033)
  'ring-hash': 'unsupported',
  'health-check': 'approximate', // thresholds of one (MG3034)
  'circuit-breaker': 'unsupported', // MG3036
  'outlier-detection': 'unsupported', // MG3036
  mtls: 'exact', // serversTransports: client certificate, mesh CA, peerCertURI
  access: 'approximate', // enforced by the calling proxy, for the identity it presents (MG3037)
  'access-l7': 'approximate',
  'https-frontend': 'exact',
  'client-certificates': 'approximate', // TLS options are chosen by SNI host (MG3038)
  tcp: 'exact',
  'tls-passthrough': 'exact',
};

function listen(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** Drops the empty sections, which the schema accepts but which say nothing. */
function compact(d: Dynamic): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [section, value] of Object.entries(d) as [string, Record<string, unknown>][]) {
    const kept = Object.fromEntries(
      Object.entries(value).filter(([, v]) => (Array.isArray(v) ? v.length : hasKeys(v as object))),
    );
    if (hasKeys(kept)) out[section] = kept;
  }
  return out;
}

/** Whether an object has a key, without listing the tens of thousands a large mesh's sections have. */
function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function backendNotes(mesh: ResolvedMesh, ctx: Ctx): void {
  for (const b of mesh.backends) {
    const note = accessNote(b, TARGET);
    if (note && b.access.mode === 'rules') report(ctx, 'MG3037', note, b.access.pointer);
    if (b.loadBalancer === 'least-request' || b.loadBalancer === 'random')
      report(
        ctx,
        'MG3033',
        `backend "${b.name}": Traefik balances by weighted round robin: loadBalancer ${b.loadBalancer} is rendered as round robin`,
        `${b.pointer}/loadBalancer`,
      );
    for (const feature of ['circuitBreaker', 'outlierDetection'] as const)
      if (b[feature])
        report(
          ctx,
          'MG3036',
          `backend "${b.name}": Traefik's circuitBreaker middleware trips on ratios and latencies of a whole route, not on connection counts or per-server errors: ${feature} is left out`,
          `${b.pointer}/${feature}`,
        );
  }
}

export const traefik: Emitter = {
  target: TARGET,
  summary: 'Traefik v3 file provider: dynamic and static configuration (schema-checked, not run)',
  fidelity,
  versions: TRAEFIK_VERSIONS,
  settings: [
    ...PROXY_SETTINGS,
    versionSetting(TARGET, TRAEFIK_VERSIONS, ' (`traefik version` says which one runs)'),
  ],
  emit(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
    const read = readVersion(TARGET, TRAEFIK_VERSIONS, options.settings);
    const diagnostics = [...read.diagnostics, ...checkProxyInput(mesh, options, TARGET)];
    if (diagnostics.some((d) => d.severity === 'error')) return { files: [], diagnostics };
    const identity = options.settings?.['identity'];
    const ctx: Ctx = {
      mesh,
      certs: certPaths(setting(options, 'certDir', 'certs'), mesh, identity),
      identity,
      out: emptyDynamic(),
      diagnostics,
    };
    const entryPoints: Record<string, { address: string }> = {};
    for (const f of mesh.frontends) {
      const ep = `fe-${f.name}`;
      entryPoints[ep] = { address: listen(f.address, f.port) };
      if (f.protocol === 'tcp' || f.protocol === 'tls-passthrough') {
        tcpRouters(ep, f.routes, f, ctx);
        continue;
      }
      httpRouters(ep, f.routes, f, ctx);
      if (f.protocol === 'https' && f.tls?.certificate && f.tls.key)
        ctx.out.tls.certificates.push({ certFile: f.tls.certificate, keyFile: f.tls.key });
      if (f.protocol === 'https' && f.tls?.clientCa) {
        ctx.out.tls.options[ep] = {
          clientAuth: { caFiles: [f.tls.clientCa], clientAuthType: 'RequireAndVerifyClientCert' },
        };
        if (f.hosts.some((h) => h.includes('*')))
          report(
            ctx,
            'MG3038',
            `frontend "${f.name}": Traefik picks TLS options by the host names of Host rules; a client whose SNI matches no Host rule (hosts ${f.hosts.join(', ')}) gets the default options and is not asked for a certificate`,
            `${f.pointer}/tls/clientCa`,
            "name the frontend's hosts exactly",
          );
      }
    }
    if (mesh.frontends.filter((f) => f.protocol === 'https').length > 1)
      report(
        ctx,
        'MG3038',
        'Traefik serves the certificate whose names match the SNI of the client, from all of them, not the certificate of the entry point the client connects to',
      );
    for (const b of mesh.backends) {
      const ep = `ew-${b.name}`;
      entryPoints[ep] = { address: listen(b.localAddress, b.port) };
      if (b.protocol === 'tcp') tcpRouters(ep, b.routes, undefined, ctx);
      else httpRouters(ep, b.routes, undefined, ctx);
    }
    backendNotes(mesh, ctx);
    report(
      ctx,
      'MG3005',
      "traefik: routes without timeout wait for response headers without limit (serversTransport responseHeaderTimeout 0s); entry points keep Traefik's own reading and idle timeouts",
    );
    const staticConfig = {
      entryPoints,
      providers: { file: { filename: 'dynamic.yml', watch: true } },
    };
    return {
      files: [
        { path: 'dynamic.yml', contents: toYaml(compact(ctx.out)) },
        { path: 'hosts', contents: hostsFile(mesh) },
        { path: 'traefik.yml', contents: toYaml(staticConfig) },
      ],
      diagnostics: uniqueDiagnostics(diagnostics),
    };
  },
};
