import { hasErrors, type Diagnostic } from './diagnostics.js';
import { normalizeMesh } from './normalize.js';
import { locateDiagnostics, type SourceFile } from './source.js';
import type { MeshDocument, ResolvedMesh } from './types.js';
import { validateMesh } from './validate.js';
import { parseYaml, readYamlFile, type Loaded } from './yaml.js';

/*
 * Loading a mesh is the pipeline up to the resolved model: parse (yaml.ts), validate (validate.ts),
 * normalize (normalize.ts), with every diagnostic located in the source.
 */

/** A mesh taken through load, validate and normalize. */
export interface MeshResult {
  /** The resolved model, when the file has no error. */
  mesh?: ResolvedMesh;
  /** The document as written, when it passed the schema. */
  document?: MeshDocument;
  source: SourceFile;
  /** Located: file, line and column filled from the pointers. */
  diagnostics: Diagnostic[];
}

function finish(loaded: Loaded, { resolve = true, amend }: LoadOptions = {}): MeshResult {
  if (loaded.value === undefined) return { source: loaded.source, diagnostics: loaded.diagnostics };
  const amended = amend?.(loaded.value) ?? [];
  const diagnostics = [...amended, ...validateMesh(loaded.value)];
  const located = locateDiagnostics(diagnostics, loaded.source);
  if (hasErrors(diagnostics)) {
    const schemaOk = !diagnostics.some((d) => d.code < 'MG2000' && d.severity === 'error');
    return {
      source: loaded.source,
      document: schemaOk ? (loaded.value as MeshDocument) : undefined,
      diagnostics: located,
    };
  }
  const document = loaded.value as MeshDocument;
  return {
    mesh: resolve ? normalizeMesh(document) : undefined,
    document,
    source: loaded.source,
    diagnostics: located,
  };
}

export interface LoadOptions {
  /** Build the resolved model (default true); `meshgen validate` needs only the diagnostics. */
  resolve?: boolean;
  /**
   * Changes the parsed value before validation and returns what it has to say: the etcd source
   * adds the store's endpoints to the versions this way (src/live/endpoints.ts).
   */
  amend?: (value: unknown) => readonly Diagnostic[];
}

/** Parses, validates and normalizes mesh YAML text. */
export function parseMesh(
  text: string,
  { file = '<input>', ...options }: { file?: string } & LoadOptions = {},
): MeshResult {
  return finish(parseYaml(text, file), options);
}

/** Reads a mesh file (`-` for standard input), then parses, validates and normalizes it. */
export async function loadMesh(path: string, options: LoadOptions = {}): Promise<MeshResult> {
  return finish(await readYamlFile(path), options);
}
