import type { OutputFile } from '../emitters/types.js';
import { objectFilesMark } from '../kubernetes/objects.js';

/**
 * `render --layout`: how a Kubernetes target's objects are laid out in its folder. `object` is one
 * file per object (what the emitters write), `kind` one file per kind, `namespace` one per namespace
 * (`_cluster.yaml` for cluster-scoped objects: a namespace name cannot start with `_`), `stream` one
 * multi-document file, `<target>.yaml`. Each file keeps the objects in the order the target emits them.
 */
export const LAYOUTS = ['object', 'kind', 'namespace', 'stream'] as const;
export type Layout = (typeof LAYOUTS)[number];

/**
 * Whether a target's files are Kubernetes objects, one per YAML file (what istio, linkerd and consul's
 * CRD format write): what stdout streams whole and `--layout` regroups. The writer puts `apiVersion`
 * first (src/kubernetes/objects.ts), so the start of each file tells.
 */
export function isKubernetesOutput(files: readonly OutputFile[]): boolean {
  // the files of an emitter's ObjectFileSink say so without their text being read
  return (
    objectFilesMark(files) ??
    (files.length > 0 &&
      files.every((f) => f.path.endsWith('.yaml') && f.contents.startsWith('apiVersion: ')))
  );
}

/** `kind` and `metadata.namespace` of an object as the YAML writer lays it out (top-level keys, two spaces). */
function kindAndNamespace(contents: string): { kind: string; namespace?: string } {
  const kind = /^kind: (.+)$/m.exec(contents)?.[1] ?? 'unknown';
  const meta = /^metadata:\n((?: {2}.*\n)*)/m.exec(contents)?.[1] ?? '';
  const namespace = /^ {2}namespace: (.+)$/m.exec(meta)?.[1];
  return { kind: unquote(kind), namespace: namespace === undefined ? undefined : unquote(namespace) };
}

function unquote(s: string): string {
  const t = s.trim();
  return /^(['"]).*\1$/.test(t) ? t.slice(1, -1) : t;
}

/** A file name from a kind or namespace: lower case, only [a-z0-9-], never empty. */
function fileName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'unnamed';
}

/** The files of a Kubernetes target in the chosen layout (see LAYOUTS). */
export function applyLayout(target: string, files: readonly OutputFile[], layout: Layout): OutputFile[] {
  if (layout === 'object') return [...files];
  const groups = new Map<string, string[]>();
  for (const f of files) {
    let key: string;
    if (layout === 'stream') key = `${target}.yaml`;
    else {
      const { kind, namespace } = kindAndNamespace(f.contents);
      key =
        layout === 'kind' ? `${fileName(kind)}.yaml` : `${namespace ? fileName(namespace) : '_cluster'}.yaml`;
    }
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(f.contents);
  }
  return [...groups]
    .map(([path, docs]) => ({ path, contents: docs.join('---\n') }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
