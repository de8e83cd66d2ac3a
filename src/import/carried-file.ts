import type { OutputFile } from '../emitters/types.js';
import { objectFiles } from '../kubernetes/objects.js';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import type { MeshDocument } from '../model/types.js';
import { CARRIED_NAME, carriedEntries, type CarriedEntry } from './carried.js';
import { importMesh } from './index.js';

/** The import sources that read each target's output. */
const CARRIED_SOURCES: Readonly<Record<string, readonly string[]>> = {
  istio: ['istio'],
  linkerd: ['linkerd', 'gateway-api'],
  consul: ['consul'],
};

/** One entry a line: the ConfigMap stays readable and a change to one field is a one-line diff. */
function carriedText(entries: readonly CarriedEntry[]): string {
  return `[\n${entries.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`;
}

/**
 * The ConfigMap `meshgen-carried-<mesh>` for a target's output: for each source that reads the
 * target, what `meshgen import --from <source>` of the files would not give back (see carried.ts).
 * Nothing when every source reads the whole mesh back, and nothing for Consul's HCL and JSON
 * config entries (only its custom resources are Kubernetes objects).
 */
export function carriedFile(
  document: MeshDocument,
  target: string,
  files: readonly OutputFile[],
  settings: Readonly<Record<string, string>> = {},
): { file?: OutputFile; diagnostics: Diagnostic[] } {
  const sources = CARRIED_SOURCES[target];
  if (!sources) return { diagnostics: [] };
  // config entries for `consul config write` (HCL, JSON) are applied file by file: a ConfigMap
  // among them would be refused, so that output carries only what its entries say
  if (target === 'consul' && (settings['consulFormat'] ?? 'crd') !== 'crd') return { diagnostics: [] };
  const inputs = files.map((f) => ({ file: `${target}/${f.path}`, text: f.contents }));
  const data: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  for (const from of sources) {
    const imported = importMesh(inputs, { from });
    if (!imported.document) {
      diagnostics.push(
        diagnostic(
          'MG3005',
          `the ${target} output does not import back with --from ${from}: ${CARRIED_NAME} leaves it out`,
          { target },
        ),
      );
      continue;
    }
    const { entries, left, invalid } = carriedEntries(document, imported.document);
    if (invalid)
      diagnostics.push(
        diagnostic(
          'MG3005',
          `the mesh ${CARRIED_NAME} would give back for --from ${from} does not validate`,
          {
            target,
          },
        ),
      );
    else if (left.length)
      diagnostics.push(
        diagnostic(
          'MG3005',
          `import --from ${from} of the ${target} output still differs from the mesh in ${left.length} place(s) (${left[0]!.kind} first)`,
          { target },
        ),
      );
    if (entries.length) data[from] = carriedText(entries);
  }
  if (!Object.keys(data).length) return { diagnostics };
  const name = document.metadata.name;
  const namespace = document.spec.namespace ?? 'default';
  const [file] = objectFiles([
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `${CARRIED_NAME}-${name}`,
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'meshgen', 'meshgen.io/mesh': name },
      },
      data,
    },
  ]);
  return { file, diagnostics };
}
