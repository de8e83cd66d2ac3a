import { routeSubject } from '../../model/describe.js';
import { diagnostic, hasErrors, type Diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedBackend, ResolvedMesh } from '../../model/types.js';
import { checkEndpoints } from '../../smartstack/index.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity, OutputFile } from '../types.js';
import { buildGateway } from './gateway.js';
import { ENVOY_SETTINGS, readSettings, type EnvoySettings } from './settings.js';
import {
  DISCOVERY_FILES,
  buildOutbound,
  buildSidecar,
  discoveryResponse,
  meshUsesTls,
  outboundClusters,
} from './sidecar.js';
import { TYPE } from './common.js';
import { JSON_FORMAT, YAML_FORMAT } from './text.js';

const FIDELITY: Readonly<Record<Feature, Fidelity>> = {
  split: 'exact',
  'header-match': 'exact',
  'query-match': 'exact',
  'method-match': 'exact',
  'regex-path': 'exact',
  timeout: 'exact',
  retries: 'exact',
  'per-try-timeout': 'exact',
  'fault-delay': 'exact',
  'fault-abort': 'exact',
  mirror: 'exact',
  'rewrite-path': 'exact',
  'rewrite-host': 'exact',
  'request-headers': 'exact',
  // Envoy's router also applies them to its own 503 and 504 replies for the route
  'response-headers': 'approximate',
  'load-balancer': 'exact',
  'ring-hash': 'exact',
  'health-check': 'exact',
  'circuit-breaker': 'exact',
  'outlier-detection': 'exact',
  mtls: 'exact',
  access: 'exact',
  'access-l7': 'exact',
  'https-frontend': 'exact',
  'client-certificates': 'exact',
  tcp: 'exact',
  'tls-passthrough': 'exact',
};

/** What Envoy does differently or by default, said once per route or backend (not per bootstrap). */
function meshDiagnostics(mesh: ResolvedMesh): Diagnostic[] {
  const out: Diagnostic[] = [];
  const t = { target: 'envoy' };
  for (const r of mesh.routes) {
    if (r.protocol === 'tcp') {
      if (r.timeoutMs === undefined)
        out.push(
          diagnostic(
            'MG3005',
            `${routeSubject(r)}: no total limit on a connection; Envoy's tcp_proxy closes connections idle for 1h (its default idle_timeout)`,
            {
              pointer: r.pointer,
              ...t,
            },
          ),
        );
      continue;
    }
    if (r.timeoutMs === undefined)
      out.push(
        diagnostic(
          'MG3005',
          `${routeSubject(r)} has no timeout: Envoy's default route timeout of 15s bounds each request`,
          {
            pointer: r.pointer,
            hint: 'set timeout on the route to choose the limit',
            ...t,
          },
        ),
      );
    if (
      r.retries &&
      r.to.some((d) => mesh.backendsByName.get(d.backend)?.circuitBreaker?.maxRetries === undefined)
    )
      out.push(
        diagnostic(
          'MG3005',
          `${routeSubject(r)} retries: Envoy allows at most 3 retries in flight at once per cluster by default (circuit breaker max_retries)`,
          {
            pointer: `${r.pointer}/retries`,
            hint: 'set circuitBreaker.maxRetries on the backend to change it',
            ...t,
          },
        ),
      );
    if (r.mirror)
      out.push(
        diagnostic(
          'MG3005',
          `${routeSubject(r)} mirror: Envoy sends the copies fire and forget (their responses are dropped) with "-shadow" appended to the Host header (RequestMirrorPolicy's default)`,
          { pointer: `${r.pointer}/mirror`, ...t },
        ),
      );
    const ops = r.responseHeaders;
    if (ops.set.length + ops.add.length + ops.remove.length > 0)
      out.push(
        diagnostic(
          'MG3002',
          `${routeSubject(r)} response headers: Envoy also applies them to the 503 and 504 it answers itself for the route (no healthy endpoint, timeout)`,
          {
            pointer: `${r.pointer}/headers/response`,
            ...t,
          },
        ),
      );
    const hostOps = [
      ...r.requestHeaders.add.map(([k]) => k),
      ...r.requestHeaders.remove,
      ...r.responseHeaders.set.map(([k]) => k),
      ...r.responseHeaders.add.map(([k]) => k),
      ...r.responseHeaders.remove,
    ].filter((k) => k.toLowerCase() === 'host');
    const hostSet = r.requestHeaders.set.some(([k]) => k.toLowerCase() === 'host');
    if (hostOps.length || (hostSet && r.rewrite?.host !== undefined))
      out.push(
        diagnostic(
          'MG3002',
          `${routeSubject(r)} headers: Envoy does not let header operations change Host; only rewrite.host (or request set host) is kept`,
          {
            pointer: `${r.pointer}/headers`,
            hint: 'use rewrite.host to replace the Host header',
            ...t,
          },
        ),
      );
  }
  for (const b of mesh.backends) {
    if (b.healthCheck && b.protocol === 'tcp')
      out.push(
        diagnostic(
          'MG3002',
          `backend "${b.name}" is TCP: Envoy checks its health by connecting, without the path ${b.healthCheck.path}`,
          {
            pointer: `${b.pointer}/healthCheck`,
            ...t,
          },
        ),
      );
    if (b.healthCheck && b.protocol !== 'tcp' && b.access.mode !== 'allow-all')
      out.push(
        diagnostic(
          'MG3002',
          `backend "${b.name}": its sidecar lets GET ${b.healthCheck.path} through from any caller, so that callers' active health checks pass its access rules`,
          {
            pointer: `${b.pointer}/healthCheck`,
            ...t,
          },
        ),
      );
    if (b.protocol === 'tcp' && b.access.mode === 'rules')
      b.access.rules.forEach((a) => {
        if (a.paths || a.methods)
          out.push(
            diagnostic(
              'MG3002',
              `backend "${b.name}" is TCP: an access entry with paths or methods cannot be checked on a connection and allows nothing`,
              {
                pointer: a.pointer,
                ...t,
              },
            ),
          );
      });
  }
  return out;
}

/** The inbound and admin listeners share each sidecar's network with the backends' local listeners. */
function portCollisions(mesh: ResolvedMesh, settings: EnvoySettings): Diagnostic[] {
  const out: Diagnostic[] = [];
  const t = { target: 'envoy' };
  for (const b of mesh.backends) {
    if (b.port === settings.inboundPort)
      out.push(
        diagnostic('MG4003', `backend "${b.name}" listens on ${b.port}, the sidecars' inbound port`, {
          pointer: `${b.pointer}/port`,
          hint: 'choose another one with --set inboundPort=N',
          ...t,
        }),
      );
    if (b.port === settings.adminPort && b.localAddress === '127.0.0.1')
      out.push(
        diagnostic('MG4003', `backend "${b.name}" listens on 127.0.0.1:${b.port}, the admin address`, {
          pointer: `${b.pointer}/port`,
          hint: 'choose another one with --set adminPort=N',
          ...t,
        }),
      );
  }
  // Each sidecar listens for the callers of every backend at <local address>:<port>, in the network
  // of its own app, which listens on its endpoints' ports (the inbound side forwards to
  // 127.0.0.1:<endpoint port>). On 127.0.0.1 the sidecar would forward to itself; on an address of
  // its own in 127.0.0.0/8 it works only if the app listens on 127.0.0.1 alone (not 0.0.0.0).
  const byPort = new Map<number, ResolvedBackend[]>();
  for (const c of mesh.backends) {
    const same = byPort.get(c.port);
    if (same) same.push(c);
    else byPort.set(c.port, [c]);
  }
  for (const b of mesh.backends) {
    const ports = new Set<number>();
    for (const v of b.versions)
      v.endpoints.forEach((e, ei) => {
        if (ports.has(e.port)) return;
        ports.add(e.port);
        for (const c of byPort.get(e.port) ?? []) {
          const self = c.localAddress === '127.0.0.1';
          out.push(
            diagnostic(
              'MG3007',
              self
                ? `backend "${b.name}" runs on port ${e.port} (its endpoints), where its sidecar listens for callers of backend "${c.name}" (127.0.0.1:${c.port}): the sidecar would forward inbound requests to itself`
                : `backend "${b.name}" runs on port ${e.port} (its endpoints), where its sidecar listens for callers of backend "${c.name}" (${c.localAddress}:${c.port}): its app must listen on 127.0.0.1:${e.port} only, not on every address`,
              {
                pointer: `${v.pointer}/endpoints/${ei}`,
                hint: `give backend "${c.name}" a port no app listens on (the port callers use, not the app's)`,
                ...(self ? {} : { severity: 'warning' as const }),
                ...t,
              },
            ),
          );
        }
      });
  }
  for (const f of mesh.frontends)
    if (f.port === settings.adminPort && (f.address === '0.0.0.0' || f.address === '127.0.0.1'))
      out.push(
        diagnostic(
          'MG4003',
          `frontend "${f.name}" listens on ${f.address}:${f.port}, the gateway's admin address`,
          { pointer: `${f.pointer}/port`, hint: 'choose another one with --set adminPort=N', ...t },
        ),
      );
  return out;
}

/** Lines `<local address> <backend> <backend>.<namespace>`, for /etc/hosts on the callers' side. */
function hostsFile(mesh: ResolvedMesh): string {
  return mesh.backends.map((b) => `${b.localAddress} ${b.name} ${b.name}.${b.namespace}\n`).join('');
}

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}\0${d.pointer ?? ''}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function emitEnvoy(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
  const diagnostics: Diagnostic[] = [];
  const settings = readSettings(options, diagnostics);
  diagnostics.push(...portCollisions(mesh, settings), ...checkEndpoints(mesh, 'envoy'));
  const sidecars = settings.sidecars
    ? mesh.backends.filter((b) => settings.sidecars!.has(b.name))
    : mesh.backends;
  for (const name of settings.sidecars ?? [])
    if (!mesh.backendsByName.has(name))
      diagnostics.push(
        diagnostic('MG4003', `envoy setting sidecars names "${name}", which is not a backend of the mesh`, {
          hint: 'name backends, separated by commas: --set sidecars=web,api',
        }),
      );
  if (hasErrors(diagnostics)) return { files: [], diagnostics };
  diagnostics.push(...meshDiagnostics(mesh));
  const ext = settings.format === 'json' ? 'json' : 'yaml';
  const format = settings.format === 'json' ? JSON_FORMAT : YAML_FORMAT;
  const files: OutputFile[] = [];
  if (mesh.frontends.length)
    files.push({
      path: `gateway.${ext}`,
      contents: format.whole(buildGateway(mesh, settings, diagnostics)),
    });
  if (mesh.backends.length) {
    // the outbound side is the same for every sidecar: written once, read by each through
    // dynamic_resources, so that the output grows with the mesh (not with its square)
    const outbound = buildOutbound(mesh, diagnostics);
    if (sidecars.length) {
      files.push(
        {
          path: `${DISCOVERY_FILES.listeners}.${ext}`,
          contents: format.whole(discoveryResponse(TYPE.listener, outbound.listeners)),
        },
        {
          path: `${DISCOVERY_FILES.clusters}.${ext}`,
          contents: format.whole(discoveryResponse(TYPE.cluster, outboundClusters(mesh, outbound, settings))),
        },
      );
    }
    const tls = meshUsesTls(mesh);
    for (const b of sidecars)
      files.push({
        path: `sidecar-${b.name}.${ext}`,
        contents: format.whole(buildSidecar(mesh, b, settings, tls)),
      });
    files.push({ path: 'hosts', contents: hostsFile(mesh) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, diagnostics: dedupe(diagnostics) };
}

/**
 * Envoy v3 bootstraps: a gateway for the frontends and a sidecar per backend, whose outbound
 * listeners and clusters come from two shared discovery files.
 */
export const envoy: Emitter = {
  target: 'envoy',
  summary:
    'Envoy v3 bootstraps (YAML or JSON): a gateway for the frontends, a sidecar per backend, shared outbound LDS/CDS files',
  fidelity: FIDELITY,
  settings: ENVOY_SETTINGS,
  emit: emitEnvoy,
};
