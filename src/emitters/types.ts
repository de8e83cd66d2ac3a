import type { Diagnostic } from '../model/diagnostics.js';
import type { Feature } from '../model/features.js';
import type { ResolvedMesh } from '../model/types.js';
import type { VersionSupport } from './versions.js';

export type Fidelity = 'exact' | 'approximate' | 'unsupported';

/** One output file: a path relative to the output folder, and its contents. */
export interface OutputFile {
  readonly path: string;
  readonly contents: string;
}

export interface EmitOptions {
  /** Output flavour where a target has several (`--format yaml|json`, `--consul-format crd|hcl|json`). */
  readonly format?: string;
  /**
   * Target-specific options (`gatewayClass`, `version`...), from `--set key=value`; `render` gives each
   * target the keys scoped to it (`--set linkerd.version=2.17`) without their prefix.
   */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface EmitResult {
  /** Relative paths, sorted. */
  readonly files: readonly OutputFile[];
  readonly diagnostics: readonly Diagnostic[];
}

/** A target: a self-contained module that turns the resolved model into files. */
export interface Emitter {
  /** The `--target` value and output folder. */
  readonly target: string;
  /** One line for `meshgen targets`. */
  readonly summary: string;
  /**
   * How well each feature is kept (at the default version, for a target with versions); shared code
   * warns wherever the mesh uses an unsupported one.
   */
  readonly fidelity: Readonly<Record<Feature, Fidelity>>;
  /** The releases of the target's project it renders for (`--set version=`), where that matters. */
  readonly versions?: VersionSupport;
  /** Pure: the same model and options give the same bytes. */
  emit(mesh: ResolvedMesh, options: EmitOptions): EmitResult;
}
