import type {
  HttpMethod,
  PathPattern,
  ResolvedBackend,
  ResolvedMesh,
  ResolvedRoute,
} from '../model/types.js';

/**
 * Access rules as a proxy on the calling side can keep them. The proxy knows whom it calls for: a
 * frontend's own identity, or on east-west listeners the backend named by `--set identity`. For that
 * caller the rules of the destination reduce to a fixed decision, enforced before the request leaves;
 * the destination's own side (which these targets do not render) is not involved.
 */
export type AccessDecision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny' }
  /** Allowed when any entry accepts the request (paths and methods; undefined: any). */
  | {
      readonly kind: 'some';
      readonly entries: readonly {
        readonly paths?: readonly PathPattern[];
        readonly methods?: readonly HttpMethod[];
      }[];
    }
  /** The backend has rules but the caller is not known (east-west without `identity`). */
  | { readonly kind: 'unknown-caller' };

/** The identity a proxy presents for a route's traffic, if known. */
export function callerIdentity(
  mesh: ResolvedMesh,
  route: ResolvedRoute,
  identity?: string,
): string | undefined {
  if (route.parent.kind === 'frontend') return mesh.frontendsByName.get(route.parent.name)?.identity;
  return identity !== undefined ? mesh.backendsByName.get(identity)?.identity : undefined;
}

export function accessDecision(backend: ResolvedBackend, caller: string | undefined): AccessDecision {
  const policy = backend.access;
  if (policy.mode !== 'rules') return { kind: policy.mode === 'allow-all' ? 'allow' : 'deny' };
  if (caller === undefined) return { kind: 'unknown-caller' };
  const entries = policy.rules.filter((r) => r.from.some((c) => c.kind === 'any' || c.identity === caller));
  if (!entries.length) return { kind: 'deny' };
  if (entries.some((e) => !e.paths && !e.methods)) return { kind: 'allow' };
  return { kind: 'some', entries: entries.map((e) => ({ paths: e.paths, methods: e.methods })) };
}

/** Same decision? (for a route split over several backends). */
export function sameDecision(a: AccessDecision, b: AccessDecision): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The approximation every access rule gets on a proxy target, stated once per backend. */
export function accessNote(backend: ResolvedBackend, target: string): string | undefined {
  if (backend.access.mode !== 'rules') return undefined;
  return `backend "${backend.name}": access on ${target} is enforced by the calling proxy, for the identity it presents (a frontend's, or --set identity on east-west listeners), not where the backend receives the request: callers that bypass the proxy are not checked`;
}
