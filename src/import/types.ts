import type { Diagnostic } from '../model/diagnostics.js';
import type { MeshDocument } from '../model/types.js';
import type { InputDocument } from './documents.js';

/** What every importer is given besides the documents. */
export interface ImportOptions {
  /** The namespace of objects that do not say theirs, and the mesh's `spec.namespace`. */
  readonly namespace?: string;
  /** `metadata.name` of the mesh written (default: the namespace). */
  readonly name?: string;
  /**
   * Where routes without `parentRefs` attach (`--parent`): `gateway/<name>[:<port>]` or
   * `service/<name>`, with an optional namespace (`gateway/<ns>/<name>`). Importers of the Gateway API only.
   */
  readonly parent?: string;
}

/** Where a route of the mesh came from: `file:line` and the object that gave it. */
export interface RouteOrigin {
  readonly route: string;
  readonly origin: string;
}

export interface ImportResult {
  /** The mesh, when anything could be built; it may still fail `meshgen validate` when diagnostics say so. */
  readonly document?: MeshDocument;
  /** Where each route came from, in the order of `document.spec.routes`. */
  readonly origins: readonly RouteOrigin[];
  /** Located in the input files: what was not carried, what was ignored, what was changed to keep behaviour. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * One source system: a self-contained module that reads that system's objects into one mesh document,
 * as an emitter writes one. Listed once in `src/import/index.ts`.
 */
export interface Importer {
  /** The `--from` value. */
  readonly from: string;
  /** One line for the help text. */
  readonly summary: string;
  /** The kinds it reads; any other kind is ignored with a diagnostic naming it. */
  readonly kinds: readonly string[];
  /** Whether it reads `ImportOptions.parent` (the Gateway API's routes without `parentRefs`). */
  readonly attachesParentless?: boolean;
  import(documents: readonly InputDocument[], options: ImportOptions): ImportResult;
}
