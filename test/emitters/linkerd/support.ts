import { parse } from 'yaml';
import type { Diagnostic } from '../../../src/model/diagnostics.js';
import type { ResolvedMesh } from '../../../src/model/types.js';
import { render } from '../../../src/render.js';

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown> & { rules?: Rule[]; parentRefs?: Record<string, unknown>[] };
}

interface Rule {
  matches?: Record<string, unknown>[];
  filters?: Record<string, unknown>[];
  backendRefs?: { name: string; namespace?: string; port: number; weight: number }[];
  timeouts?: Record<string, string>;
  retry?: { attempts: number; codes?: number[] };
}

/** Renders to linkerd and reads the files back as objects (parsed, as a cluster would). */
export function renderLinkerd(mesh: ResolvedMesh, settings: Record<string, string> = {}) {
  const result = render(mesh, { targets: ['linkerd'], settings });
  const files = result.outputs[0]!.files;
  const objects = files.map((f) => parse(f.contents) as Obj);
  return { files, objects, diagnostics: result.diagnostics as Diagnostic[] };
}

export function find(objects: readonly Obj[], kind: string, name: string, apiVersion?: string): Obj {
  const o = objects.find(
    (x) => x.kind === kind && x.metadata.name === name && (!apiVersion || x.apiVersion === apiVersion),
  );
  if (!o)
    throw new Error(`no ${kind} ${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/** A mesh document around the given backends/routes/access YAML fragments. */
export function meshYaml(parts: {
  spec?: string;
  backends: string;
  frontends?: string;
  routes?: string;
  access?: string;
}): string {
  return [
    'apiVersion: meshgen.io/v1alpha1',
    'kind: Mesh',
    'metadata: { name: t }',
    'spec:',
    '  namespace: t',
    parts.spec ?? '',
    '  backends:',
    parts.backends,
    parts.frontends ? '  frontends:\n' + parts.frontends : '',
    parts.routes ? '  routes:\n' + parts.routes : '',
    parts.access ? '  access:\n' + parts.access : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export const TWO_VERSIONS = `
    - name: reviews
      port: 9080
      versions:
        - { name: v1, labels: { version: v1 } }
        - { name: v2, labels: { version: v2 } }`;
