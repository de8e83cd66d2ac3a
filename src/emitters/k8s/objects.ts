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

/** Where emitters put objects: an array, or a sink that serialises each one as it arrives. */
export interface ObjectCollector {
  push(...objects: K8sObject[]): unknown;
}

/**
 * Serialises each object as it is pushed, so a large render keeps one string per object alive
 * instead of every object graph until the end (garbage collection dominated large renders).
 * Files are named `<kind>-<namespace>-<name>.yaml` in lower case.
 */
export class ObjectFileSink implements ObjectCollector {
  private readonly out: OutputFile[] = [];
  private readonly seen = new Set<string>();

  push(...objects: K8sObject[]): number {
    for (const o of objects) {
      const ns = o.metadata.namespace;
      const path = `${o.kind.toLowerCase()}${ns ? `-${ns}` : ''}-${o.metadata.name}.yaml`;
      if (this.seen.has(path)) throw new Error(`bug: two objects would be written to ${path}`);
      this.seen.add(path);
      this.out.push({ path, contents: toYaml(o) });
    }
    return this.out.length;
  }

  /** The files, sorted by path. */
  files(): OutputFile[] {
    return this.out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }
}

/** One file per object, sorted by path. */
export function objectFiles(objects: readonly K8sObject[]): OutputFile[] {
  const sink = new ObjectFileSink();
  sink.push(...objects);
  return sink.files();
}
