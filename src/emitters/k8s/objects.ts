import type { ResolvedMesh } from '../../model/types.js';
import type { OutputFile } from '../types.js';
import { toYaml } from './yaml.js';

/** A Kubernetes object as plain data: apiVersion, kind and metadata first. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/**
 * Builds an object carrying the mesh's labels (`app.kubernetes.io/managed-by: meshgen` and
 * `meshgen.io/mesh: <name>`) plus any of its own.
 */
export function k8sObject(
  mesh: ResolvedMesh,
  apiVersion: string,
  kind: string,
  meta: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  },
  body: Record<string, unknown>,
): K8sObject {
  const annotations = meta.annotations && Object.keys(meta.annotations).length ? meta.annotations : undefined;
  return {
    apiVersion,
    kind,
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      labels: { ...mesh.labels, ...(meta.labels ?? {}) },
      annotations,
    },
    ...body,
  };
}

/** One file per object, named `<kind>-<namespace>-<name>.yaml` in lower case, sorted by path. */
export function objectFiles(objects: readonly K8sObject[]): OutputFile[] {
  const files: OutputFile[] = new Array(objects.length);
  const seen = new Set<string>();
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]!;
    const ns = o.metadata.namespace;
    const path = `${o.kind.toLowerCase()}${ns ? `-${ns}` : ''}-${o.metadata.name}.yaml`;
    if (seen.has(path)) throw new Error(`bug: two objects would be written to ${path}`);
    seen.add(path);
    files[i] = { path, contents: toYaml(o) };
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
