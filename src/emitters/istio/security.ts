import type { Caller, MtlsMode, ResolvedAllow, ResolvedBackend, ResolvedMesh } from '../../model/types.js';
import { podSelector, type Notes } from './common.js';

type Obj = Record<string, unknown>;

const PEER_MODE: Record<MtlsMode, string> = {
  strict: 'STRICT',
  permissive: 'PERMISSIVE',
  disabled: 'DISABLE',
};

/** Where the ingress gateway pods run, when not as each frontend's own service account. */
export interface GatewayAccount {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Istio principals are SPIFFE IDs without the scheme: `<trustDomain>/ns/<ns>/sa/<sa>`; "*" any authenticated one. */
function principal(mesh: ResolvedMesh, c: Caller, gateway: GatewayAccount | undefined): string {
  if (c.kind === 'any') return '*';
  if (c.kind === 'frontend' && gateway)
    return `${mesh.trustDomain}/ns/${gateway.namespace}/sa/${gateway.serviceAccount}`;
  return c.identity.replace(/^spiffe:\/\//, '');
}

function rule(
  mesh: ResolvedMesh,
  b: ResolvedBackend,
  a: ResolvedAllow,
  gateway: GatewayAccount | undefined,
  notes: Notes,
): Obj {
  const principalOf = (c: Caller) => principal(mesh, c, gateway);
  if (!gateway)
    for (const c of a.from)
      if (c.kind === 'frontend')
        notes.info(
          `access from frontend "${c.name}" to backend "${b.name}" is granted to the principal ${principalOf(c)}: the Istio ingress gateway pods must run as service account "${c.serviceAccount}" in namespace "${c.namespace}"`,
          a.pointer,
          'or say where the gateway runs: --set gatewayServiceAccount=istio-system/istio-ingressgateway-service-account',
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
    from: [{ source: { principals: [...new Set(a.from.map(principalOf))] } }],
    to: operation && [{ operation }],
  };
}

/**
 * The AuthorizationPolicy of a backend, or none for allow-all. An ALLOW policy denies what no rule
 * allows; a policy with a selector and no rules allows nothing (defaultAccess: deny).
 */
export function authorizationPolicySpec(
  mesh: ResolvedMesh,
  b: ResolvedBackend,
  gateway: GatewayAccount | undefined,
  notes: Notes,
): Obj | undefined {
  const selector = { matchLabels: podSelector(b) };
  const access = b.access;
  if (access.mode !== 'rules') return access.mode === 'deny-all' ? { selector } : undefined;
  noteEscapedSlashes(b, access.rules, access.pointer, notes);
  return { selector, action: 'ALLOW', rules: access.rules.map((a) => rule(mesh, b, a, gateway, notes)) };
}

/**
 * A path prefix rule holds against `%2F` only where the installation decodes escaped slashes
 * (meshConfig.pathNormalization, which meshgen does not write): said once per backend.
 */
function noteEscapedSlashes(
  b: ResolvedBackend,
  rules: readonly ResolvedAllow[],
  pointer: string,
  notes: Notes,
): void {
  if (b.protocol === 'tcp') return;
  const prefix = rules.flatMap((a) => a.paths ?? []).find((p) => p.kind === 'prefix');
  if (!prefix) return;
  const sample = `${prefix.value}${prefix.value.endsWith('/') ? '' : '/'}..%2fother`;
  notes.needs(
    `backend "${b.name}": access rules by path prefix on istio rely on Istio's path normalization, whose default (BASE) resolves ".." but keeps %2F and %5C escaped: ${sample} passes the rule for ${prefix.pattern} and reaches the app as sent, which an app that decodes %2F reads as another path`,
    pointer,
    'set meshConfig.pathNormalization.normalization: DECODE_AND_MERGE_SLASHES in the Istio installation (docs/istio.md, "Paths")',
  );
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
