import { parse } from 'yaml';
import { istio } from '../../../src/emitters/istio/index.js';
import type { EmitOptions } from '../../../src/emitters/types.js';
import type { ResolvedMesh } from '../../../src/model/types.js';
import { meshFrom } from '../../support/meshes.js';

/** An emitted object read back from its YAML file, so tests see exactly what kubectl would. */
export interface Emitted {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: any;
  [k: string]: unknown;
}

export function emitObjects(mesh: ResolvedMesh, options: EmitOptions = {}) {
  const result = istio.emit(mesh, options);
  const objects = result.files.map((f) => parse(f.contents) as Emitted);
  const find = (kind: string, name: string, namespace?: string): Emitted => {
    const o = objects.find(
      (x) =>
        x.kind === kind && x.metadata.name === name && (!namespace || x.metadata.namespace === namespace),
    );
    if (!o)
      throw new Error(
        `no ${kind} ${name} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
      );
    return o;
  };
  return { ...result, objects, find };
}

/** A mesh with the given backends/frontends/routes/access sections (YAML under spec). */
export function mesh(spec: string, extra = ''): ResolvedMesh {
  return meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: t
spec:
  namespace: ns
${extra}
${spec}`);
}
