import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedMesh } from '../../model/types.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity, OutputFile } from '../types.js';
import { IPTABLES_SETTINGS, readSettings, type PlanSettings } from './settings.js';
import { planSidecar, renderSidecarIptables, renderSidecarNft } from './sidecar.js';
import { TARGET } from './text.js';
import { planServices, renderVipIptables, renderVipNft } from './vip.js';

/**
 * Netfilter sees connections, not requests: it can steer a connection to a proxy (sidecar mode) or
 * spread connections over endpoints (vip mode), and nothing at L7.
 */
const fidelity: Record<Feature, Fidelity> = {
  split: 'approximate',
  'header-match': 'unsupported',
  'query-match': 'unsupported',
  'method-match': 'unsupported',
  'regex-path': 'unsupported',
  timeout: 'unsupported',
  retries: 'unsupported',
  'per-try-timeout': 'unsupported',
  'fault-delay': 'unsupported',
  'fault-abort': 'unsupported',
  mirror: 'unsupported',
  'rewrite-path': 'unsupported',
  'rewrite-host': 'unsupported',
  'request-headers': 'unsupported',
  'response-headers': 'unsupported',
  'load-balancer': 'approximate',
  'ring-hash': 'unsupported',
  'health-check': 'unsupported',
  'circuit-breaker': 'unsupported',
  'outlier-detection': 'unsupported',
  mtls: 'unsupported',
  access: 'unsupported',
  'access-l7': 'unsupported',
  'https-frontend': 'unsupported',
  'client-certificates': 'unsupported',
  tcp: 'exact',
  'tls-passthrough': 'unsupported',
};

/** What neither mode renders, whatever the mode: frontends and TCP routes' timeouts. */
function commonDiagnostics(mesh: ResolvedMesh): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of mesh.frontends)
    out.push(
      diagnostic(
        'MG3001',
        `frontend "${f.name}" has no interception plan in the ${TARGET} target: it is left out`,
        {
          pointer: f.pointer,
          hint: 'render frontends with a proxy target (envoy, haproxy, nginx) or a control plane',
        },
      ),
    );
  for (const r of mesh.routes)
    if (r.protocol === 'tcp' && r.timeoutMs !== undefined && r.parent.kind === 'backend')
      out.push(
        diagnostic(
          'MG3001',
          `route "${r.name}" uses timeout, which the ${TARGET} target cannot express: it is left out`,
          {
            pointer: `${r.pointer}/timeout`,
          },
        ),
      );
  return out;
}

function emitSidecar(
  mesh: ResolvedMesh,
  settings: PlanSettings,
): { files: OutputFile[]; diagnostics: Diagnostic[] } {
  const files: OutputFile[] = [];
  const diagnostics: Diagnostic[] = [
    diagnostic(
      'MG3005',
      `the ${TARGET} sidecar plans redirect TCP to a proxy listening on port ${settings.outboundPort} (outbound) and ${settings.inboundPort} (inbound), running as uid ${settings.proxyUid}; the proxy itself is not part of this output`,
      { hint: 'set proxyUid, inboundPort and outboundPort with --set to match your proxy' },
    ),
  ];
  for (const backend of mesh.backends) {
    const plan = planSidecar(backend, settings);
    files.push({ path: `${backend.name}.iptables`, contents: renderSidecarIptables(plan) });
    files.push({ path: `${backend.name}.nft`, contents: renderSidecarNft(plan) });
  }
  for (const r of mesh.routes)
    if (!r.implicit && r.parent.kind === 'backend' && r.to.length > 1)
      diagnostics.push(
        diagnostic(
          'MG3002',
          `route "${r.name}" uses split, which the ${TARGET} sidecar plan does not draw: it only hands connections to the proxy on port ${settings.outboundPort}, which must apply the split`,
          {
            pointer: `${r.pointer}/to`,
            hint: 'render with --set mode=vip for a per-connection split in netfilter itself',
          },
        ),
      );
  for (const b of mesh.backends)
    if (b.loadBalancer === 'least-request' || b.loadBalancer === 'random')
      diagnostics.push(
        diagnostic(
          'MG3002',
          `backend "${b.name}" uses load-balancer ${b.loadBalancer}, which the ${TARGET} sidecar plan leaves to the proxy`,
          {
            pointer: `${b.pointer}/loadBalancer`,
          },
        ),
      );
  return { files, diagnostics };
}

function emitVip(
  mesh: ResolvedMesh,
  settings: PlanSettings,
): { files: OutputFile[]; diagnostics: Diagnostic[] } {
  const { services, diagnostics } = planServices(mesh, settings);
  diagnostics.unshift(
    diagnostic(
      'MG3005',
      `the ${TARGET} vip plan picks an endpoint at random for each new connection (no round-robin), and a connection keeps its endpoint for its life`,
    ),
  );
  return {
    files: [
      { path: 'vip.iptables', contents: renderVipIptables(services) },
      { path: 'vip.nft', contents: renderVipNft(services, settings.nftFamily) },
    ],
    diagnostics,
  };
}

export const iptables: Emitter = {
  target: TARGET,
  summary:
    'netfilter interception plans: Istio-style sidecar redirects, or kube-proxy-style service VIPs (iptables-restore and nft)',
  fidelity,
  settings: IPTABLES_SETTINGS,
  emit(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
    const { settings, diagnostics } = readSettings(mesh, options.settings);
    const result = settings.mode === 'vip' ? emitVip(mesh, settings) : emitSidecar(mesh, settings);
    const files = [...result.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { files, diagnostics: [...diagnostics, ...commonDiagnostics(mesh), ...result.diagnostics] };
  },
};
