import { diagnostic, inFamily } from '../../model/diagnostics.js';
import type { ResolvedBackend, ResolvedMesh } from '../../model/types.js';
import { hasAnyKey, k8sObject, namesIn } from '../../kubernetes/objects.js';
import { TARGET, type EmitContext } from './context.js';
import { linkerdDuration } from './matches.js';

/**
 * Default inbound policy for a namespace (`config.linkerd.io/default-inbound-policy`, read when a
 * pod is injected): `deny` for `defaultAccess: deny`, else `all-authenticated` under strict mTLS,
 * else `all-unauthenticated`. Each backend's Server states its own port's policy as well.
 */
export function defaultInboundPolicy(mesh: ResolvedMesh): string {
  if (mesh.defaultAccess === 'deny') return 'deny';
  return mesh.mtlsMode === 'strict' ? 'all-authenticated' : 'all-unauthenticated';
}

/** One Namespace per namespace the mesh uses, annotated for injection and inbound policy. */
export function emitNamespaces(ctx: EmitContext): void {
  const { mesh } = ctx;
  const names = new Set<string>([mesh.namespace]);
  for (const b of mesh.backends) names.add(b.namespace);
  for (const name of names) {
    ctx.objects.push(
      k8sObject(
        mesh,
        'v1',
        'Namespace',
        {
          name,
          annotations: {
            'linkerd.io/inject': 'enabled',
            'config.linkerd.io/default-inbound-policy': defaultInboundPolicy(mesh),
          },
        },
        {},
      ),
    );
  }
}

function portName(b: ResolvedBackend): string {
  return b.protocol === 'tcp'
    ? 'tcp'
    : b.protocol === 'grpc'
      ? 'grpc'
      : b.protocol === 'http2'
        ? 'http2'
        : 'http';
}

/**
 * Service annotations: opaque ports for TCP backends (no protocol detection), and failure accrual
 * for outlier detection (`balancer.linkerd.io/failure-accrual*`, read by the policy controller from
 * the Service a request is balanced over).
 */
function serviceAnnotations(b: ResolvedBackend): Record<string, string> {
  const out: Record<string, string> = {};
  if (b.protocol === 'tcp') out['config.linkerd.io/opaque-ports'] = String(b.port);
  const od = b.outlierDetection;
  if (od) {
    out['balancer.linkerd.io/failure-accrual'] = 'consecutive';
    out['balancer.linkerd.io/failure-accrual-consecutive-max-failures'] = String(od.consecutiveErrors);
    out['balancer.linkerd.io/failure-accrual-consecutive-min-penalty'] = linkerdDuration(
      od.baseEjectionTimeMs,
    );
    out['balancer.linkerd.io/failure-accrual-consecutive-max-penalty'] = linkerdDuration(
      maxPenaltyMs(od.baseEjectionTimeMs),
    );
  }
  return out;
}

/** Envoy caps ejection at 300s by default; Linkerd's penalty grows from min to max. */
function maxPenaltyMs(baseMs: number): number {
  return Math.max(baseMs, 300_000);
}

/**
 * Per backend: the Service callers address (`app: <backend>`), and one Service per version
 * (`<backend>-<version>`, `app: <backend>` plus the version's labels) for HTTPRoute backendRefs to
 * split over. A version Service whose name another backend's Service already holds gets
 * `<backend>-version-<version>`.
 */
export function emitServices(ctx: EmitContext): void {
  const { mesh } = ctx;
  // Service names taken, by namespace
  const taken = new Map<string, Set<string>>();
  for (const b of mesh.backends) namesIn(taken, b.namespace).add(b.name);
  for (const b of mesh.backends) {
    const inNamespace = namesIn(taken, b.namespace);
    const ownServices = new Map<string, string>();
    ctx.versionServices.set(b.name, ownServices);
    const annotations = serviceAnnotations(b);
    const ports = [{ name: portName(b), port: b.port, targetPort: b.port, protocol: 'TCP' }];
    const service = (name: string, selector: Record<string, string>, labels?: Record<string, string>) =>
      k8sObject(
        mesh,
        'v1',
        'Service',
        { name, namespace: b.namespace, labels, annotations },
        { spec: { selector, ports } },
      );
    ctx.objects.push(service(b.name, { app: b.name }));
    if (b.outlierDetection) {
      const from = linkerdDuration(b.outlierDetection.baseEjectionTimeMs);
      const to = linkerdDuration(maxPenaltyMs(b.outlierDetection.baseEjectionTimeMs));
      // the durations are not quoted: the backends with the same ones are one family
      ctx.diagnostics.push(
        inFamily(
          `linkerd: failure accrual from ${from} to ${to}`,
          diagnostic(
            'MG3002',
            `backend "${b.name}": outlierDetection becomes Linkerd's consecutive failure accrual (${b.outlierDetection.consecutiveErrors} failures, penalty growing from ${from} to ${to} with jitter); interval and maxEjectionPercent have no Linkerd form`,
            { pointer: `${b.pointer}/outlierDetection`, target: TARGET },
          ),
        ),
      );
    }
    for (const v of b.versions) {
      let name = `${b.name}-${v.name}`;
      for (let n = 2; inNamespace.has(name); n++)
        name = n === 2 ? `${b.name}-version-${v.name}` : `${b.name}-version-${v.name}-${n}`;
      inNamespace.add(name);
      ownServices.set(v.name, name);
      ctx.objects.push(service(name, { app: b.name, ...v.labels }, { 'meshgen.io/version': v.name }));
      if (b.versions.length > 1 && !hasAnyKey(v.labels))
        ctx.diagnostics.push(
          diagnostic(
            'MG3002',
            `backend "${b.name}" version "${v.name}" has no labels: its Service selects every pod of the backend`,
            {
              pointer: v.pointer,
              target: TARGET,
              hint: 'give each version labels that select only its pods',
            },
          ),
        );
    }
  }
}
