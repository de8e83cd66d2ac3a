import type { Caller, MtlsMode, ResolvedAllow, ResolvedBackend, ResolvedMesh } from '../../model/types.js';
import { podSelector, type Notes } from './common.js';

type Obj = Record<string, unknown>;

export const PEER_MODE: Record<MtlsMode, string> = {
  strict: 'STRICT',
  permissive: 'PERMISSIVE',
  disabled: 'DISABLE',
};

/** Istio principals are SPIFFE IDs without the scheme: `<trustDomain>/ns/<ns>/sa/<sa>`; "*" any authenticated one. */
function principal(c: Caller): string {
  return c.kind === 'any' ? '*' : c.identity.replace(/^spiffe:\/\//, '');
}

function rule(b: ResolvedBackend, a: ResolvedAllow, notes: Notes): Obj {
  for (const c of a.from)
    if (c.kind === 'frontend')
      notes.info(
        `access from frontend "${c.name}" to backend "${b.name}" is granted to the principal ${principal(c)}: the Istio ingress gateway pods must run as service account "${c.serviceAccount}" in namespace "${c.namespace}"`,
        a.pointer,
        'or name "*" in from, which any authenticated caller matches',
      );
  if (b.protocol === 'tcp' && (a.paths || a.methods))
    notes.approx(
      `backend "${b.name}"`,
      'access-l7',
      'paths and methods cannot be checked on a TCP backend; Istio ignores an ALLOW rule that has them, so these callers are denied',
      a.pointer,
    );
  const operation =
    a.paths || a.methods
      ? { paths: a.paths?.map((p) => p.pattern), methods: a.methods && [...a.methods] }
      : undefined;
  return {
    from: [{ source: { principals: [...new Set(a.from.map(principal))] } }],
    to: operation && [{ operation }],
  };
}

/**
 * The AuthorizationPolicy of a backend, or none for allow-all. An ALLOW policy denies what no rule
 * allows; a policy with a selector and no rules allows nothing (defaultAccess: deny).
 */
export function authorizationPolicySpec(b: ResolvedBackend, notes: Notes): Obj | undefined {
  const selector = { matchLabels: podSelector(b) };
  const access = b.access;
  if (access.mode !== 'rules') return access.mode === 'deny-all' ? { selector } : undefined;
  return { selector, action: 'ALLOW', rules: access.rules.map((a) => rule(b, a, notes)) };
}

/** The mesh-wide mode, once for each namespace the mesh uses (a PeerAuthentication without selector). */
export function meshPeerAuthentications(mesh: ResolvedMesh): { namespace: string; spec: Obj }[] {
  const namespaces = new Set([mesh.namespace, ...mesh.backends.map((b) => b.namespace)]);
  return [...namespaces].map((namespace) => ({
    namespace,
    spec: { mtls: { mode: PEER_MODE[mesh.mtlsMode] } },
  }));
}

/** A backend whose mode differs from the mesh's gets its own PeerAuthentication with a selector. */
export function backendPeerAuthenticationSpec(mesh: ResolvedMesh, b: ResolvedBackend): Obj | undefined {
  if (b.mtlsMode === mesh.mtlsMode) return undefined;
  return { selector: { matchLabels: podSelector(b) }, mtls: { mode: PEER_MODE[b.mtlsMode] } };
}
