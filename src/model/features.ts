import type { ResolvedMesh } from './types.js';

/** The mesh features whose support differs between targets. */
export const FEATURES = [
  'split',
  'header-match',
  'query-match',
  'method-match',
  'regex-path',
  'timeout',
  'retries',
  'per-try-timeout',
  'fault-delay',
  'fault-abort',
  'mirror',
  'rewrite-path',
  'rewrite-host',
  'request-headers',
  'response-headers',
  'load-balancer',
  'ring-hash',
  'health-check',
  'circuit-breaker',
  'outlier-detection',
  'mtls',
  'access',
  'access-l7',
  'https-frontend',
  'client-certificates',
  'tcp',
  'tls-passthrough',
] as const;

export type Feature = (typeof FEATURES)[number];

/** One place where the mesh uses a feature: the thing that uses it and where. */
export interface FeatureUse {
  readonly feature: Feature;
  /** What uses it: the first word of `subject`. */
  readonly kind: 'route' | 'backend' | 'frontend';
  /** `route "catalog-api"`, `backend "web"`, `frontend "public"`. */
  readonly subject: string;
  readonly pointer: string;
}

/**
 * Every use of every feature in a resolved mesh, in model order; with `only`, the uses of those
 * features alone (render asks for the few a target cannot express, and a large mesh then builds no
 * subject or pointer for the others).
 */
export function featureUses(mesh: ResolvedMesh, only?: Iterable<Feature>): FeatureUse[] {
  const out: FeatureUse[] = [];
  const wanted = only === undefined ? undefined : new Set(only);
  if (wanted?.size === 0) return out;
  const want = (feature: Feature) => wanted === undefined || wanted.has(feature);
  // the subject of the entity being looked at, built at its first use
  let name = '';
  let kind: FeatureUse['kind'] = 'route';
  let subject: string | undefined;
  const use = (feature: Feature, pointer: string) =>
    out.push({ feature, kind, subject: (subject ??= `${kind} "${name}"`), pointer });
  const at = (entity: { name: string }, what: FeatureUse['kind']) => {
    name = entity.name;
    kind = what;
    subject = undefined;
  };
  for (const r of mesh.routes) {
    if (r.implicit) continue;
    at(r, 'route');
    const p = r.pointer;
    if (r.to.length > 1 && want('split')) use('split', `${p}/to`);
    if (r.protocol === 'tcp') continue;
    for (let i = 0; i < r.matches.length; i++) {
      const m = r.matches[i]!;
      if (m.headers.length && want('header-match')) use('header-match', `${p}/match/${i}/headers`);
      if (m.queryParams.length && want('query-match')) use('query-match', `${p}/match/${i}/queryParams`);
      if (m.method && want('method-match')) use('method-match', `${p}/match/${i}/method`);
      if (m.path?.kind === 'regex' && want('regex-path')) use('regex-path', `${p}/match/${i}/path`);
    }
    if (r.timeoutMs !== undefined && want('timeout')) use('timeout', `${p}/timeout`);
    if (r.retries && want('retries')) use('retries', `${p}/retries`);
    if (r.retries?.perTryTimeoutMs !== undefined && want('per-try-timeout'))
      use('per-try-timeout', `${p}/retries/perTryTimeout`);
    if (r.fault?.delay && want('fault-delay')) use('fault-delay', `${p}/fault/delay`);
    if (r.fault?.abort && want('fault-abort')) use('fault-abort', `${p}/fault/abort`);
    if (r.mirror && want('mirror')) use('mirror', `${p}/mirror`);
    if (r.rewrite?.pathPrefix !== undefined && want('rewrite-path'))
      use('rewrite-path', `${p}/rewrite/pathPrefix`);
    if (r.rewrite?.host !== undefined && want('rewrite-host')) use('rewrite-host', `${p}/rewrite/host`);
    const ops = (h: typeof r.requestHeaders) => h.set.length + h.add.length + h.remove.length > 0;
    if (ops(r.requestHeaders) && want('request-headers')) use('request-headers', `${p}/headers/request`);
    if (ops(r.responseHeaders) && want('response-headers')) use('response-headers', `${p}/headers/response`);
  }
  for (const b of mesh.backends) {
    at(b, 'backend');
    const p = b.pointer;
    if (b.loadBalancer !== 'round-robin' && b.loadBalancer !== 'ring-hash' && want('load-balancer'))
      use('load-balancer', `${p}/loadBalancer`);
    if (b.loadBalancer === 'ring-hash' && want('ring-hash')) use('ring-hash', `${p}/loadBalancer`);
    if (b.healthCheck && want('health-check')) use('health-check', `${p}/healthCheck`);
    if (b.circuitBreaker && want('circuit-breaker')) use('circuit-breaker', `${p}/circuitBreaker`);
    if (b.outlierDetection && want('outlier-detection')) use('outlier-detection', `${p}/outlierDetection`);
    if (b.mtlsMode !== 'disabled' && want('mtls')) use('mtls', b.pointer);
    if (b.access.mode === 'rules') {
      if (want('access')) use('access', b.access.pointer);
      if (want('access-l7') && b.access.rules.some((a) => a.paths || a.methods))
        use('access-l7', b.access.pointer);
    }
    if (b.protocol === 'tcp' && want('tcp')) use('tcp', `${p}/protocol`);
  }
  for (const f of mesh.frontends) {
    at(f, 'frontend');
    if (f.protocol === 'https' && want('https-frontend')) use('https-frontend', `${f.pointer}/protocol`);
    if (f.tls?.clientCa && want('client-certificates'))
      use('client-certificates', `${f.pointer}/tls/clientCa`);
    if (f.protocol === 'tcp' && want('tcp')) use('tcp', `${f.pointer}/protocol`);
    if (f.protocol === 'tls-passthrough' && want('tls-passthrough'))
      use('tls-passthrough', `${f.pointer}/protocol`);
  }
  return out;
}
