import {
  MeshBuilder,
  isRecord,
  meshDuration,
  stringRecord,
  type AllowDoc,
  type BackendDraft,
} from './builder.js';
import { located } from './documents.js';
import { GATEWAY_API_KINDS, importGatewayApi } from './gateway-api.js';
import type { KubeObject } from './kubernetes.js';
import type { Importer } from './types.js';

const POLICY_KINDS = ['Server', 'AuthorizationPolicy', 'MeshTLSAuthentication', 'Namespace'];
const KINDS = [...GATEWAY_API_KINDS, ...POLICY_KINDS];

const PROTOCOL: Record<string, BackendDraft['protocol']> = {
  'HTTP/1': 'http',
  'HTTP/2': 'http2',
  gRPC: 'grpc',
  opaque: 'tcp',
  TLS: 'tcp',
};

/**
 * Linkerd: its use of the Gateway API (routes on Services, the retry.linkerd.io and timeout.linkerd.io
 * annotations), and its policy: Server, AuthorizationPolicy, MeshTLSAuthentication, the namespace's
 * default inbound policy.
 */
export const linkerd: Importer = {
  from: 'linkerd',
  summary:
    'Linkerd HTTPRoute/GRPCRoute/TCPRoute with retry and timeout annotations, Server, AuthorizationPolicy, MeshTLSAuthentication',
  kinds: KINDS,
  attachesParentless: true,
  import(documents, options) {
    return importGatewayApi(documents, options, KINDS, policy, isPolicyRoute);
  },
};

/** policy.linkerd.io HTTPRoutes attached to a Server say which requests an AuthorizationPolicy admits. */
function isPolicyRoute(o: KubeObject): boolean {
  const refs = Array.isArray(o.spec['parentRefs']) ? o.spec['parentRefs'] : [];
  return o.kind === 'HTTPRoute' && refs.some((r) => isRecord(r) && r['kind'] === 'Server');
}

function policy(objects: KubeObject[], mesh: MeshBuilder): void {
  // Linkerd always uses mTLS between meshed pods; a namespace's all-unauthenticated policy says permissive
  mesh.mtls = { mode: 'strict' };
  for (const o of objects.filter((x) => x.kind === 'Namespace')) {
    const p = stringRecord(o.metadata['annotations'])?.['config.linkerd.io/default-inbound-policy'];
    if (o.name !== mesh.namespace || !p) continue;
    if (p === 'deny') mesh.defaultAccess = 'deny';
    else if (p === 'all-authenticated') mesh.mtls = { mode: 'strict' };
    else if (p === 'all-unauthenticated') mesh.mtls = { mode: 'permissive' };
    else
      mesh.diagnostics.push(
        located(
          'MG7004',
          o.doc,
          ['metadata', 'annotations'],
          `Namespace ${o.name}: default inbound policy ${p} is not carried: the mesh knows deny, all-authenticated and all-unauthenticated`,
        ),
      );
  }
  for (const o of objects.filter((x) => x.kind === 'Service')) {
    const a = stringRecord(o.metadata['annotations']) ?? {};
    const b = mesh.backends.get(o.name);
    if (!b || a['balancer.linkerd.io/failure-accrual'] !== 'consecutive') continue;
    const max = Number(a['balancer.linkerd.io/failure-accrual-consecutive-max-failures'] ?? 7);
    const penalty = meshDuration(a['balancer.linkerd.io/failure-accrual-consecutive-min-penalty'] ?? '1s');
    b.rest.outlierDetection = { consecutiveErrors: max, ...(penalty ? { baseEjectionTime: penalty } : {}) };
    if (a['balancer.linkerd.io/failure-accrual-consecutive-max-penalty'] !== undefined)
      mesh.diagnostics.push(
        located(
          'MG7004',
          o.doc,
          ['metadata', 'annotations', 'balancer.linkerd.io/failure-accrual-consecutive-max-penalty'],
          `Service ${o.name}: the growing penalty of failure accrual is not carried; the mesh ejects for baseEjectionTime`,
        ),
      );
  }
  const servers = new Map<string, string>();
  for (const o of objects.filter((x) => x.kind === 'Server')) {
    const sel = isRecord(o.spec['podSelector'])
      ? stringRecord(o.spec['podSelector']['matchLabels'])
      : undefined;
    const b =
      [...mesh.backends.values()].find(
        (x) => x.selector && sel && Object.entries(x.selector).every(([k, v]) => sel[k] === v),
      ) ?? (sel?.['app'] ? mesh.backends.get(sel['app']) : undefined);
    if (!b) {
      mesh.diagnostics.push(
        located(
          'MG7005',
          o.doc,
          ['spec', 'podSelector'],
          `Server ${o.name}: its pods are no imported Service's: not carried`,
        ),
      );
      continue;
    }
    servers.set(o.name, b.name);
    if (typeof o.spec['port'] === 'number') b.port ??= o.spec['port'];
    const proto = PROTOCOL[String(o.spec['proxyProtocol'])];
    if (proto && !b.protocol) b.protocol = proto;
    const access = o.spec['accessPolicy'];
    if (access === 'deny' && mesh.defaultAccess !== 'deny') mesh.allow(b.name);
    else if (access === 'all-authenticated' && mesh.mtls?.mode !== 'strict') b.rest.mtls = { mode: 'strict' };
    else if (access === 'all-unauthenticated' && mesh.mtls?.mode === 'strict')
      b.rest.mtls = { mode: 'permissive' };
  }
  const routes = new Map(objects.filter(isPolicyRoute).map((o) => [o.name, o]));
  const authns = new Map(objects.filter((x) => x.kind === 'MeshTLSAuthentication').map((o) => [o.name, o]));
  for (const o of objects.filter((x) => x.kind === 'AuthorizationPolicy')) {
    const target = isRecord(o.spec['targetRef']) ? o.spec['targetRef'] : {};
    let backend: string | undefined;
    let requests: { paths?: string[]; methods?: string[] }[] = [{}];
    if (target['kind'] === 'Server') backend = servers.get(String(target['name']));
    else if (target['kind'] === 'HTTPRoute') {
      const r = routes.get(String(target['name']));
      const ref =
        r && Array.isArray(r.spec['parentRefs']) && isRecord(r.spec['parentRefs'][0])
          ? r.spec['parentRefs'][0]
          : undefined;
      backend = ref ? servers.get(String(ref['name'])) : undefined;
      if (r) requests = routeRequests(r, mesh);
    }
    if (!backend) {
      mesh.diagnostics.push(
        located(
          'MG7005',
          o.doc,
          ['spec', 'targetRef'],
          `AuthorizationPolicy ${o.name}: its target is no imported Server or route of one: not carried`,
        ),
      );
      continue;
    }
    const callers = new Set<string>();
    const refs = Array.isArray(o.spec['requiredAuthenticationRefs'])
      ? o.spec['requiredAuthenticationRefs']
      : [];
    let refused = false;
    refs.forEach((ref, i) => {
      if (!isRecord(ref)) return;
      const authn = ref['kind'] === 'MeshTLSAuthentication' ? authns.get(String(ref['name'])) : undefined;
      if (!authn) {
        mesh.diagnostics.push(
          located(
            'MG7004',
            o.doc,
            ['spec', 'requiredAuthenticationRefs', i],
            `AuthorizationPolicy ${o.name}: ${String(ref['kind'])} ${String(ref['name'])} is not carried (callers are named by mesh identity only); the policy is left out, so access is narrower, never wider`,
          ),
        );
        refused = true;
        return;
      }
      for (const id of identities(authn, mesh)) callers.add(id);
    });
    if (refused || !callers.size) continue;
    for (const r of requests) mesh.allow(backend, { from: [...callers], ...r } as AllowDoc);
  }
}

/** The callers a MeshTLSAuthentication names: identities (`sa.ns.serviceaccount.identity.linkerd.<domain>`) or ServiceAccounts. */
function identities(o: KubeObject, mesh: MeshBuilder): string[] {
  const out: string[] = [];
  const ids = Array.isArray(o.spec['identities']) ? o.spec['identities'] : [];
  ids.forEach((id, i) => {
    if (id === '*') return out.push('*');
    const m =
      typeof id === 'string' ? /^([^.]+)\.([^.]+)\.serviceaccount\.identity\.linkerd\.(.+)$/.exec(id) : null;
    const caller = m ? callerOf(mesh, m[1]!, m[2]!) : undefined;
    if (caller) out.push(caller);
    else
      mesh.diagnostics.push(
        located(
          'MG7005',
          o.doc,
          ['spec', 'identities', i],
          `MeshTLSAuthentication ${o.name}: identity ${String(id)} is no imported backend or gateway: left out`,
        ),
      );
  });
  const refs = Array.isArray(o.spec['identityRefs']) ? o.spec['identityRefs'] : [];
  refs.forEach((r, i) => {
    const caller =
      isRecord(r) && r['kind'] === 'ServiceAccount'
        ? callerOf(mesh, String(r['name']), typeof r['namespace'] === 'string' ? r['namespace'] : o.namespace)
        : undefined;
    if (caller) out.push(caller);
    else
      mesh.diagnostics.push(
        located(
          'MG7005',
          o.doc,
          ['spec', 'identityRefs', i],
          `MeshTLSAuthentication ${o.name}: this reference is no imported backend's service account: left out`,
        ),
      );
  });
  return out;
}

function callerOf(mesh: MeshBuilder, sa: string, ns: string): string | undefined {
  for (const b of mesh.backends.values())
    if ((b.serviceAccount ?? b.name) === sa && b.namespace === ns) return b.name;
  return mesh.frontends.find((f) => f.name === sa)?.name;
}

/** The requests an authorization route admits, grouped by method: allow entries' paths and methods. */
function routeRequests(o: KubeObject, mesh: MeshBuilder): { paths?: string[]; methods?: string[] }[] {
  const byMethod = new Map<string, string[]>();
  const rules = Array.isArray(o.spec['rules']) ? o.spec['rules'] : [];
  rules.forEach((r, i) => {
    const matches = isRecord(r) && Array.isArray(r['matches']) ? r['matches'] : [{}];
    matches.forEach((m, j) => {
      if (!isRecord(m)) return;
      if (m['headers'] !== undefined || m['queryParams'] !== undefined)
        mesh.diagnostics.push(
          located(
            'MG7004',
            o.doc,
            ['spec', 'rules', i, 'matches', j],
            `HTTPRoute ${o.name}: access by header or query is not carried; the match is widened to its path and method`,
          ),
        );
      const p = isRecord(m['path']) ? m['path'] : undefined;
      const value = typeof p?.['value'] === 'string' ? p['value'] : '/';
      const path = p?.['type'] === 'Exact' ? value : value === '/' ? '' : `${value}*`;
      const key = typeof m['method'] === 'string' ? m['method'] : '';
      const list = byMethod.get(key) ?? [];
      list.push(path);
      byMethod.set(key, list);
    });
  });
  // methods that admit the same paths share one entry
  const byPaths = new Map<string, { paths: string[]; methods: string[] }>();
  for (const [method, paths] of byMethod) {
    const key = JSON.stringify(paths);
    const entry = byPaths.get(key) ?? { paths, methods: [] };
    entry.methods.push(method);
    byPaths.set(key, entry);
  }
  return [...byPaths.values()].map(({ paths, methods }) => ({
    ...(paths.includes('') ? {} : { paths }),
    ...(methods.includes('') ? {} : { methods }),
  }));
}
