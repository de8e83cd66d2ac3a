import type { Diagnostic } from '../../model/diagnostics.js';
import type { ResolvedMesh } from '../../model/types.js';
import type { ObjectCollector } from '../../kubernetes/objects.js';
import type { TargetVersion } from '../versions.js';

export const TARGET = 'linkerd';
export const GATEWAY_API = 'gateway.networking.k8s.io/v1';
export const POLICY_GROUP = 'policy.linkerd.io';

/** What the feature modules share while one mesh is emitted. */
export interface EmitContext {
  readonly mesh: ResolvedMesh;
  readonly settings: Readonly<Record<string, string>>;
  /** The Linkerd release rendered for (`--set version=`). */
  readonly version: TargetVersion;
  readonly objects: ObjectCollector;
  readonly diagnostics: Diagnostic[];
  /** By backend, then version: the name of the version's own Service. */
  readonly versionServices: Map<string, Map<string, string>>;
}

/** Linkerd's mesh identity for a service account (`<sa>.<ns>.serviceaccount.identity.linkerd.<td>`). */
export function linkerdIdentity(mesh: ResolvedMesh, serviceAccount: string, namespace: string): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.linkerd.${mesh.trustDomain}`;
}
