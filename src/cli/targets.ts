import type { Diagnostic } from '../model/diagnostics.js';
import type { Feature } from '../model/features.js';
import type { Emitter, Fidelity } from '../emitters/types.js';
import { formatVersion, readVersion } from '../emitters/versions.js';
import { settingsFor } from '../emitters/settings.js';

/** One target as `meshgen targets` shows it: at the version the settings choose. */
export interface TargetRow {
  readonly emitter: Emitter;
  /** The version described (`2.17`), for a target with versions. */
  readonly version?: string;
  readonly fidelity: Readonly<Record<Feature, Fidelity>>;
}

/**
 * The rows of the fidelity matrix: each target at its default version, or at the one `--set
 * version=` (with one target) or `--set <target>.version=` chooses.
 */
export function describeTargets(
  chosen: readonly Emitter[],
  all: readonly Emitter[],
  settings: Readonly<Record<string, string>>,
): { rows: TargetRow[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const names = all.map((e) => e.target);
  const versioned = chosen.filter((e) => e.versions);
  if (settings['version'] !== undefined && versioned.length !== 1)
    diagnostics.push({
      code: 'MG4003',
      severity: 'error',
      message: `--set version=${settings['version']} needs exactly one --target with versions`,
      hint: 'or scope it to a target: --set linkerd.version=2.17',
    });
  const rows = chosen.map((emitter): TargetRow => {
    if (!emitter.versions) return { emitter, fidelity: emitter.fidelity };
    const read = readVersion(emitter.target, emitter.versions, settingsFor(emitter.target, settings, names));
    diagnostics.push(...read.diagnostics);
    const fidelity = emitter.versions.fidelity?.(read.version) ?? emitter.fidelity;
    const v = read.version;
    // an edge release shows the stable release it is read as
    const version = /^v?\d/.test(v.text) ? formatVersion(v) : `${v.text} (as ${formatVersion(v)})`;
    return { emitter, version, fidelity };
  });
  return { rows, diagnostics };
}
