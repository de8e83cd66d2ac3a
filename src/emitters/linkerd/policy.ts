import { diagnostic, inFamily } from '../../model/diagnostics.js';
import type {
  HttpMethod,
  PathMatch,
  ResolvedAllow,
  ResolvedBackend,
  ResolvedMatch,
} from '../../model/types.js';
import { k8sObject } from '../../kubernetes/objects.js';
import { POLICY_GROUP, TARGET, type EmitContext } from './context.js';
import { callerIdentity, gatewayAccounts } from './gateway.js';
import { prefixDifference, prefixFamily } from './matches.js';
import { compareEntries, matchesOverlap } from './order.js';

const POLICY_V1ALPHA1 = `${POLICY_GROUP}/v1alpha1`;
const SERVER_VERSION = `${POLICY_GROUP}/v1beta3`;
const ROUTE_VERSION = `${POLICY_GROUP}/v1beta3`;

const MAX_RULES = 16;
const MAX_MATCHES = 8;

function chunk<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function proxyProtocol(b: ResolvedBackend): string {
  return { http: 'HTTP/1', http2: 'HTTP/2', grpc: 'gRPC', tcp: 'opaque' }[b.protocol];
}

/**
 * The Server's `accessPolicy`: what traffic no AuthorizationPolicy names gets. Rules and
 * `defaultAccess: deny` deny it; otherwise strict mTLS admits meshed (authenticated) clients only.
 */
function accessPolicy(b: ResolvedBackend): string {
  if (b.access.mode !== 'allow-all') return 'deny';
  return b.mtlsMode === 'strict' ? 'all-authenticated' : 'all-unauthenticated';
}

interface AccessMatch {
  readonly match: ResolvedMatch;
  readonly gateway: Record<string, unknown>;
}

/** The requests an allow entry admits, as route matches: its paths times its methods. */
function accessMatches(a: ResolvedAllow): AccessMatch[] {
  const paths: (PathMatch | undefined)[] = a.paths
    ? a.paths.map((p) =>
        p.kind === 'exact' ? { kind: 'exact', value: p.value } : { kind: 'prefix', value: p.value || '/' },
      )
    : [undefined];
  const methods: (HttpMethod | undefined)[] = a.methods ? [...a.methods] : [undefined];
  const out: AccessMatch[] = [];
  for (const path of paths)
    for (const method of methods) {
      const gateway: Record<string, unknown> = {};
      if (path) gateway.path = { type: path.kind === 'exact' ? 'Exact' : 'PathPrefix', value: path.value };
      if (method) gateway.method = method;
      out.push({ match: { path, method, headers: [], queryParams: [], pointer: a.pointer }, gateway });
    }
  return out;
}

function pathCovers(outer: PathMatch | undefined, inner: PathMatch | undefined): boolean {
  if (!outer || (outer.kind === 'prefix' && outer.value === '/')) return true;
  if (!inner) return false;
  if (outer.kind === 'exact') return inner.kind === 'exact' && inner.value === outer.value;
  const p = outer.value.replace(/\/+$/, '');
  const v = inner.value.replace(/\/+$/, '');
  return v === p || v.startsWith(p + '/');
}

/** Every request `inner` accepts, `outer` accepts too. */
function covers(outer: ResolvedMatch, inner: ResolvedMatch): boolean {
  if (outer.method && outer.method !== inner.method) return false;
  return pathCovers(outer.path, inner.path);
}

function sameCallers(a: ResolvedAllow, b: ResolvedAllow): boolean {
  const key = (x: ResolvedAllow) =>
    x.from
      .map((c) => (c.kind === 'any' ? '*' : c.identity))
      .sort()
      .join(',');
  return key(a) === key(b);
}

/**
 * Per backend: a Server for its port (the default for traffic no authorization names), and for
 * access rules a MeshTLSAuthentication and an AuthorizationPolicy per allow entry. Entries limited
 * to paths or methods authorize a policy.linkerd.io HTTPRoute attached to the Server; a catch-all
 * route beside them makes other requests 403 (not 404). Linkerd checks a request against the one
 * most specific route plus the Server's own authorizations, so an entry is also authorized on the
 * routes of other entries it wholly covers; a partial overlap is reported.
 */
export function emitAccess(ctx: EmitContext, claimRoute: (namespace: string, name: string) => string): void {
  const { mesh } = ctx;
  const accounts = gatewayAccounts(ctx);
  const warned = new Set<string>();
  for (const b of mesh.backends) {
    const ns = b.namespace;
    const serverRef = { group: POLICY_GROUP, kind: 'Server', name: b.name };
    ctx.objects.push(
      k8sObject(
        mesh,
        SERVER_VERSION,
        'Server',
        { name: b.name, namespace: ns },
        {
          spec: {
            podSelector: { matchLabels: { app: b.name } },
            port: b.port,
            proxyProtocol: proxyProtocol(b),
            accessPolicy: accessPolicy(b),
          },
        },
      ),
    );
    if (b.mtlsMode === 'disabled')
      ctx.diagnostics.push(
        diagnostic(
          'MG3002',
          `backend "${b.name}": Linkerd always uses mTLS between meshed pods; mtls disabled becomes an all-unauthenticated Server that also accepts plaintext`,
          { pointer: b.pointer, target: TARGET },
        ),
      );
    if (b.access.mode !== 'rules') continue;
    const rules = b.access.rules;
    const l7 = rules.map((a) => a.paths !== undefined || a.methods !== undefined);
    const matches = rules.map(accessMatches);
    // A policy.linkerd.io HTTPRoute holds 16 rules of 8 matches; larger entries take several.
    const routeNames = rules.map((_, i) =>
      l7[i]
        ? chunk(matches[i]!, MAX_RULES * MAX_MATCHES).map((_, c) =>
            claimRoute(ns, c === 0 ? `${b.name}-authz-${i}` : `${b.name}-authz-${i}-${c + 1}`),
          )
        : [],
    );
    const authn = (i: number) => `${b.name}-allow-${i}`;
    const policy = (name: string, targetRef: Record<string, string>, i: number) =>
      k8sObject(
        mesh,
        POLICY_V1ALPHA1,
        'AuthorizationPolicy',
        { name, namespace: ns },
        {
          spec: {
            targetRef,
            requiredAuthenticationRefs: [
              { group: POLICY_GROUP, kind: 'MeshTLSAuthentication', name: authn(i) },
            ],
          },
        },
      );
    rules.forEach((a, i) => {
      const identities = [
        ...new Set(
          a.from.map((c) => (c.kind === 'any' ? '*' : callerIdentity(ctx, accounts, c, a.pointer, warned))),
        ),
      ];
      ctx.objects.push(
        k8sObject(
          mesh,
          POLICY_V1ALPHA1,
          'MeshTLSAuthentication',
          { name: authn(i), namespace: ns },
          { spec: { identities } },
        ),
      );
      if (!l7[i]) {
        ctx.objects.push(policy(authn(i), serverRef, i));
        return;
      }
      for (const p of a.paths ?? [])
        if (p.kind === 'prefix') {
          const diff = prefixDifference(p.value || '/');
          if (diff)
            ctx.diagnostics.push(
              inFamily(
                `access rule: ${prefixFamily(p.value || '/')}`,
                diagnostic('MG3002', `access rule for backend "${b.name}": path "${p.pattern}": ${diff}`, {
                  pointer: a.pointer,
                  target: TARGET,
                }),
              ),
            );
        }
      const routeRefs = chunk(matches[i]!, MAX_RULES * MAX_MATCHES).map((part, c) => {
        const route = routeNames[i]![c]!;
        ctx.objects.push(
          k8sObject(
            mesh,
            ROUTE_VERSION,
            'HTTPRoute',
            { name: route, namespace: ns },
            {
              spec: {
                parentRefs: [{ group: POLICY_GROUP, kind: 'Server', name: b.name }],
                rules: chunk(part, MAX_MATCHES).map((ms) => ({ matches: ms.map((m) => m.gateway) })),
              },
            },
          ),
        );
        const routeRef = { group: POLICY_GROUP, kind: 'HTTPRoute', name: route };
        ctx.objects.push(policy(c === 0 ? authn(i) : `${authn(i)}-${c + 1}`, routeRef, i));
        return routeRef;
      });
      // Other L7 entries whose requests this route may win.
      rules.forEach((other, k) => {
        if (k === i || !l7[k] || sameCallers(a, other)) return;
        const overlapping = matches[i]!.filter((m) =>
          matches[k]!.some((o) => matchesOverlap(m.match, o.match)),
        );
        if (!overlapping.length) return;
        // Authorizing entry k on this route grants its callers all of the route: only when it is contained in k.
        if (matches[i]!.every((m) => matches[k]!.some((o) => covers(o.match, m.match)))) {
          for (const routeRef of routeRefs)
            ctx.objects.push(policy(`${routeRef.name}-from-${k}`, routeRef, k));
          return;
        }
        // A problem only where this route can win a request entry k admits (it ranks at least as high).
        const wins = overlapping.some((m) =>
          matches[k]!.some(
            (o) =>
              matchesOverlap(m.match, o.match) && (compareEntries(m.match, o.match, 'linkerd') ?? 1) >= 0,
          ),
        );
        if (wins)
          ctx.diagnostics.push(
            diagnostic(
              'MG3002',
              `access rules for backend "${b.name}": entries ${k} and ${i} overlap in part; Linkerd authorizes a request by its most specific route only, so callers of entry ${k} may be denied on requests entry ${i}'s route wins`,
              {
                pointer: other.pointer,
                target: TARGET,
                hint: 'make one entry contain the other, or give both the same callers',
              },
            ),
          );
      });
    });
    if (l7.some(Boolean)) {
      ctx.diagnostics.push(
        diagnostic(
          'MG3005',
          `backend "${b.name}": once routes attach to its Server, Linkerd no longer admits kubelet probes by itself; probes get 403 like any request no access rule allows`,
          {
            pointer: b.access.pointer,
            target: TARGET,
            hint: 'probe on a separate port, or authorize the probe path with a NetworkAuthentication',
          },
        ),
      );
      const name = claimRoute(ns, `${b.name}-authz-all`);
      ctx.objects.push(
        k8sObject(
          mesh,
          ROUTE_VERSION,
          'HTTPRoute',
          { name, namespace: ns },
          {
            spec: {
              parentRefs: [serverRef],
              rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }],
            },
          },
        ),
      );
    }
  }
}
