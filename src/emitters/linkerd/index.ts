import { diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedMesh } from '../../model/types.js';
import { k8sObject, namesIn, ObjectFileSink } from '../../kubernetes/objects.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity, TargetSetting } from '../types.js';
import { versionSetting } from '../settings.js';
import { TARGET, type EmitContext } from './context.js';
import { DEFAULT_GATEWAY_CLASS, checkGatewayClass, emitGateway, isGatewayClassName } from './gateway.js';
import { emitAccess } from './policy.js';
import { emitBackendRoutes, emitFrontendRoutes } from './routes.js';
import { defaultInboundPolicy, emitNamespaces, emitServices } from './services.js';
import { linkerdVersions } from './versions.js';
import { readVersion } from '../versions.js';

/**
 * How Linkerd keeps each feature at the default version (2.20; `versions.fidelity` for older ones). `approximate` ones are explained per use by the emitter
 * (MG3002); `unsupported` ones are reported by render (MG3001).
 */
const LINKERD_FIDELITY: Readonly<Record<Feature, Fidelity>> = {
  split: 'exact', // backendRefs weights over per-version Services
  'header-match': 'exact',
  'query-match': 'exact',
  'method-match': 'exact',
  'regex-path': 'exact',
  timeout: 'exact', // rules[].timeouts.request (or timeout.linkerd.io/request)
  retries: 'approximate', // statuses only; connection failures left to the balancer; 64KiB body limit
  'per-try-timeout': 'exact', // retry.linkerd.io/timeout, or timeouts.backendRequest on a Gateway
  'fault-delay': 'unsupported',
  'fault-abort': 'unsupported',
  mirror: 'unsupported',
  'rewrite-path': 'approximate', // URLRewrite on frontend routes only; Linkerd's proxy rejects it
  'rewrite-host': 'approximate',
  'request-headers': 'exact',
  'response-headers': 'exact',
  'load-balancer': 'unsupported', // Linkerd always balances by EWMA (power of two choices)
  'ring-hash': 'unsupported',
  'health-check': 'unsupported', // Kubernetes probes, not the mesh
  'circuit-breaker': 'unsupported',
  'outlier-detection': 'approximate', // consecutive failure accrual
  mtls: 'exact', // always on; strict = all-authenticated
  access: 'exact',
  'access-l7': 'approximate', // per-route authorization; partial overlaps reported
  'https-frontend': 'exact',
  'client-certificates': 'exact', // Gateway frontend validation (ConfigMap named in MG3005)
  tcp: 'exact', // TCPRoute with weighted backendRefs (2.18 and later; see versions.ts)
  'tls-passthrough': 'approximate', // TCP listener, SNI not checked
};

const VERSIONS = linkerdVersions(LINKERD_FIDELITY);

function emitLinkerd(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
  const sink = new ObjectFileSink();
  const { version, diagnostics } = readVersion(TARGET, VERSIONS, options.settings);
  const ctx: EmitContext = {
    mesh,
    settings: options.settings ?? {},
    version,
    objects: sink,
    diagnostics,
    versionServices: new Map(),
  };
  // route names taken, by namespace
  const claimed = new Map<string, Set<string>>();
  const claim = (namespace: string, name: string) => {
    const names = namesIn(claimed, namespace);
    let n = name;
    for (let i = 2; names.has(n); i++) n = `${name}-${i}`;
    names.add(n);
    return n;
  };
  checkGatewayClass(ctx);
  emitNamespaces(ctx);
  emitServices(ctx);
  const cross = new Map<string, Set<string>>();
  for (const b of mesh.backends) emitBackendRoutes(ctx, b, claim, cross);
  for (const f of mesh.frontends) {
    emitGateway(ctx, f);
    emitFrontendRoutes(ctx, f, claim, cross);
  }
  if (mesh.frontends.length && !ctx.settings.gatewayClass)
    ctx.diagnostics.push(
      diagnostic('MG3005', `frontends become Gateways of class "${DEFAULT_GATEWAY_CLASS}"`, {
        target: TARGET,
        hint: 'choose the Gateway implementation with --set gatewayClass=<class>',
      }),
    );
  if (mesh.frontends.length && defaultInboundPolicy(mesh) !== 'all-unauthenticated')
    ctx.diagnostics.push(
      diagnostic(
        'MG3005',
        `namespace "${mesh.namespace}" gets the default inbound policy ${defaultInboundPolicy(mesh)}, which also refuses the unauthenticated clients of the frontends' Gateway pods`,
        {
          target: TARGET,
          hint: 'annotate the Gateway pods with config.linkerd.io/default-inbound-policy: all-unauthenticated, or run them in another namespace',
        },
      ),
    );
  emitAccess(ctx, claim);
  emitReferenceGrants(ctx, cross);
  return { files: sink.files(), diagnostics: ctx.diagnostics };
}

/** Routes whose backendRefs cross namespaces need the target namespace's consent. */
function emitReferenceGrants(ctx: EmitContext, cross: Map<string, Set<string>>): void {
  const byTarget = new Map<string, string[]>();
  for (const [from, targets] of cross)
    for (const t of targets) byTarget.set(t, [...(byTarget.get(t) ?? []), from]);
  for (const [target, froms] of byTarget)
    ctx.objects.push(
      k8sObject(
        ctx.mesh,
        'gateway.networking.k8s.io/v1beta1',
        'ReferenceGrant',
        { name: 'meshgen-routes', namespace: target },
        {
          spec: {
            from: froms.sort().flatMap((namespace) => [
              { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace },
              { group: 'gateway.networking.k8s.io', kind: 'TCPRoute', namespace },
            ]),
            to: [{ group: '', kind: 'Service' }],
          },
        },
      ),
    );
}

/** The settings of `--set`, for the checks, `meshgen targets --target linkerd` and docs/linkerd.md. */
const LINKERD_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'gatewayClass',
    default: DEFAULT_GATEWAY_CLASS,
    accepts: 'a GatewayClass name (a lower-case DNS subdomain)',
    check: isGatewayClassName,
    description:
      "`spec.gatewayClassName` of every frontend's Gateway (the default is Envoy Gateway's quickstart class). Linkerd has no ingress of its own; any Gateway API implementation whose pods are meshed works. An info diagnostic (MG3005) says when the default is used.",
  },
  {
    name: 'gatewayServiceAccount',
    defaultText: "each frontend's own name, in the mesh namespace",
    accepts: '`<namespace>/<name>`, or `<frontend>:<namespace>/<name>,...`',
    description:
      "the service account the frontends' Gateway pods run as: the identity access rules naming a frontend are granted to",
  },
  versionSetting(TARGET, VERSIONS, ' (`2.NN`, `stable-2.NN.N`, or an edge release such as `edge-25.11.3`)'),
];

export const linkerd: Emitter = {
  target: TARGET,
  summary:
    'Linkerd: Gateway API HTTPRoutes on Services, per-version Services, policy.linkerd.io authorization',
  fidelity: LINKERD_FIDELITY,
  versions: VERSIONS,
  settings: LINKERD_SETTINGS,
  emit: emitLinkerd,
};
