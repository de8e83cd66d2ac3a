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
  /** `route "catalog-api"`, `backend "web"`, `frontend "public"`. */
  readonly subject: string;
  readonly pointer: string;
}

/** Every use of every feature in a resolved mesh, in model order. */
export function featureUses(mesh: ResolvedMesh): FeatureUse[] {
  const out: FeatureUse[] = [];
  const use = (feature: Feature, subject: string, pointer: string) => out.push({ feature, subject, pointer });
  for (const r of mesh.routes) {
    if (r.implicit) continue;
    const s = `route "${r.name}"`;
    const p = r.pointer;
    if (r.to.length > 1) use('split', s, `${p}/to`);
    if (r.protocol === 'tcp') continue;
    r.matches.forEach((m, i) => {
      if (m.headers.length) use('header-match', s, `${p}/match/${i}/headers`);
      if (m.queryParams.length) use('query-match', s, `${p}/match/${i}/queryParams`);
      if (m.method) use('method-match', s, `${p}/match/${i}/method`);
      if (m.path?.kind === 'regex') use('regex-path', s, `${p}/match/${i}/path`);
    });
    if (r.timeoutMs !== undefined) use('timeout', s, `${p}/timeout`);
    if (r.retries) use('retries', s, `${p}/retries`);
    if (r.retries?.perTryTimeoutMs !== undefined) use('per-try-timeout', s, `${p}/retries/perTryTimeout`);
    if (r.fault?.delay) use('fault-delay', s, `${p}/fault/delay`);
    if (r.fault?.abort) use('fault-abort', s, `${p}/fault/abort`);
    if (r.mirror) use('mirror', s, `${p}/mirror`);
    if (r.rewrite?.pathPrefix !== undefined) use('rewrite-path', s, `${p}/rewrite/pathPrefix`);
    if (r.rewrite?.host !== undefined) use('rewrite-host', s, `${p}/rewrite/host`);
    const ops = (h: typeof r.requestHeaders) => h.set.length + h.add.length + h.remove.length > 0;
    if (ops(r.requestHeaders)) use('request-headers', s, `${p}/headers/request`);
    if (ops(r.responseHeaders)) use('response-headers', s, `${p}/headers/response`);
  }
  for (const b of mesh.backends) {
    const s = `backend "${b.name}"`;
    const p = b.pointer;
    if (b.loadBalancer !== 'round-robin' && b.loadBalancer !== 'ring-hash')
      use('load-balancer', s, `${p}/loadBalancer`);
    if (b.loadBalancer === 'ring-hash') use('ring-hash', s, `${p}/loadBalancer`);
    if (b.healthCheck) use('health-check', s, `${p}/healthCheck`);
    if (b.circuitBreaker) use('circuit-breaker', s, `${p}/circuitBreaker`);
    if (b.outlierDetection) use('outlier-detection', s, `${p}/outlierDetection`);
    if (b.mtlsMode !== 'disabled') use('mtls', s, b.pointer);
    if (b.access.mode === 'rules') {
      use('access', s, b.access.pointer);
      if (b.access.rules.some((a) => a.paths || a.methods)) use('access-l7', s, b.access.pointer);
    }
    if (b.protocol === 'tcp') use('tcp', s, `${p}/protocol`);
  }
  for (const f of mesh.frontends) {
    const s = `frontend "${f.name}"`;
    if (f.protocol === 'https') use('https-frontend', s, `${f.pointer}/protocol`);
    if (f.tls?.clientCa) use('client-certificates', s, `${f.pointer}/tls/clientCa`);
    if (f.protocol === 'tcp') use('tcp', s, `${f.pointer}/protocol`);
    if (f.protocol === 'tls-passthrough') use('tls-passthrough', s, `${f.pointer}/protocol`);
  }
  return out;
}
