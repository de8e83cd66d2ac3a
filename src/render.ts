import { diagnostic, escalateWarnings, inFamily, type Diagnostic } from './model/diagnostics.js';
import { featureUses, type Feature, type FeatureUse } from './model/features.js';
import type { ResolvedMesh } from './model/types.js';
import { emitters as registry } from './emitters/index.js';
import type { EmitOptions, Emitter, Fidelity, OutputFile } from './emitters/types.js';
import { readVersion } from './emitters/versions.js';
import { checkSettings, settingsFor } from './emitters/settings.js';
import { closest } from './model/nearest.js';
import type { MeshDocument } from './model/types.js';
import { carriedFile } from './import/carried-file.js';

export interface RenderOptions extends EmitOptions {
  /** Target names, or 'all'. */
  readonly targets: readonly string[] | 'all';
  /** Warnings become errors. */
  readonly strict?: boolean;
  /** The emitters to choose from; default the registry. Library users may add their own. */
  readonly emitters?: readonly Emitter[];
  /** Called before each target renders (the CLI's progress line). */
  readonly onTarget?: (target: string, index: number, count: number) => void;
  /**
   * The document the mesh was resolved from. With it, the targets `meshgen import` reads (istio,
   * linkerd, consul) also write the ConfigMap `meshgen-carried-<mesh>`: what the import of their
   * objects would not give back (src/import/carried.ts).
   */
  readonly document?: MeshDocument;
  /** Called before a target's meshgen-carried is worked out (imports and diffs of its output). */
  readonly onCarried?: (target: string) => void;
}

export interface TargetOutput {
  readonly target: string;
  /** Paths relative to the target's own folder. */
  readonly files: readonly OutputFile[];
}

export interface RenderResult {
  readonly outputs: readonly TargetOutput[];
  /** With pointers, not yet located in the source file. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Renders a resolved mesh to targets. Adds the shared fidelity diagnostics (a warning wherever the
 * mesh uses a feature a target marks unsupported) to each emitter's own.
 */
export function render(mesh: ResolvedMesh, options: RenderOptions): RenderResult {
  const diagnostics: Diagnostic[] = [];
  const chosen: Emitter[] = [];
  const available = options.emitters ?? registry;
  const names = available.map((e) => e.target);
  for (const name of options.targets === 'all' ? names : options.targets) {
    const emitter = available.find((e) => e.target === name);
    if (emitter) {
      // a target named twice renders once
      if (!chosen.includes(emitter)) chosen.push(emitter);
    } else {
      const near = closest(name, names);
      diagnostics.push(
        diagnostic('MG4002', `unknown target "${name}"`, {
          hint: near ? `did you mean "${near}"?` : `targets: ${names.join(', ') || '(none registered)'}`,
        }),
      );
    }
  }
  // settings no chosen target reads, or values none accepts: nothing is rendered
  const refused = checkSettings(chosen, available, options.settings);
  if (refused.length) return { outputs: [], diagnostics: [...diagnostics, ...refused] };
  const perTarget = targetSettings(chosen, available, options.settings, diagnostics);
  // the uses of the features some chosen target cannot express: the only ones reported here
  const unsupported = new Set<Feature>();
  for (const emitter of chosen)
    for (const [feature, fidelity] of Object.entries(perTarget.get(emitter)!.fidelity))
      if (fidelity === 'unsupported') unsupported.add(feature as Feature);
  const uses = featureUses(mesh, unsupported);
  const outputs: TargetOutput[] = [];
  for (const [index, emitter] of chosen.entries()) {
    options.onTarget?.(emitter.target, index, chosen.length);
    const { settings, fidelity } = perTarget.get(emitter)!;
    // the text after the subject, once per feature: one string joined per use, not five; the
    // messages of one feature and kind of subject are one family (they differ in the quoted name)
    const rest = new Map<Feature, { after: string; family: Record<FeatureUse['kind'], string> }>();
    for (const use of uses) {
      if (fidelity[use.feature] !== 'unsupported') continue;
      let text = rest.get(use.feature);
      if (text === undefined) {
        const after = ` uses ${use.feature}, which the ${emitter.target} target cannot express: it is left out`;
        const family = (kind: string) => `MG3001 ${emitter.target} ${kind} ${use.feature}`;
        text = {
          after,
          family: { route: family('route'), backend: family('backend'), frontend: family('frontend') },
        };
        rest.set(use.feature, text);
      }
      diagnostics.push(
        inFamily(
          text.family[use.kind],
          diagnostic('MG3001', use.subject + text.after, {
            pointer: use.pointer,
            target: emitter.target,
            hint: `run \`meshgen targets\` for what each target supports`,
          }),
        ),
      );
    }
    // each target sees the plain keys and its own `<target>.<key>` ones, without the prefix
    const result = emitter.emit(mesh, { ...options, settings });
    // a loop, not push(...list): a large mesh's tens of thousands of diagnostics as call arguments
    // cost time and can overflow the stack. A diagnostic that names its target (first, as
    // `diagnostic` writes it) is kept; the others get the target's name in a copy.
    for (const d of result.diagnostics)
      diagnostics.push(d.target === emitter.target ? d : { target: emitter.target, ...d });
    let files = result.files;
    if (options.document && !result.diagnostics.some((d) => d.severity === 'error')) {
      options.onCarried?.(emitter.target);
      const carried = carriedFile(options.document, emitter.target, files, settings);
      for (const d of carried.diagnostics) diagnostics.push(d);
      if (carried.file)
        files = [...files, carried.file].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    }
    outputs.push({ target: emitter.target, files });
  }
  return { outputs, diagnostics: options.strict ? escalateWarnings(diagnostics) : diagnostics };
}

/**
 * Each chosen target's settings (its scoped `--set <target>.<key>` keys without the prefix) and its
 * fidelity table at the version those settings choose. A plain `version` names one target's release:
 * with several targets that have versions it is refused (MG4003) and each keeps its default.
 */
function targetSettings(
  chosen: readonly Emitter[],
  available: readonly Emitter[],
  settings: Readonly<Record<string, string>> | undefined,
  diagnostics: Diagnostic[],
): Map<Emitter, { settings: Record<string, string>; fidelity: Readonly<Record<Feature, Fidelity>> }> {
  const names = available.map((e) => e.target);
  const versioned = chosen.filter((e) => e.versions);
  const ambiguous = settings?.['version'] !== undefined && versioned.length > 1;
  if (ambiguous)
    diagnostics.push(
      diagnostic(
        'MG4003',
        `--set version=${settings!['version']} names one target's release, and ${versioned.map((e) => e.target).join(', ')} each have their own`,
        {
          hint: `scope it to a target: --set ${versioned[0]!.target}.version=...`,
        },
      ),
    );
  const out = new Map<
    Emitter,
    { settings: Record<string, string>; fidelity: Readonly<Record<Feature, Fidelity>> }
  >();
  for (const emitter of chosen) {
    const own = settingsFor(emitter.target, settings, names);
    const scopedVersion = settings?.[`${emitter.target}.version`] !== undefined;
    if (ambiguous && !scopedVersion) delete own['version'];
    let fidelity = emitter.fidelity;
    if (emitter.versions?.fidelity && own['version'] !== undefined) {
      const { version } = readVersion(emitter.target, emitter.versions, own);
      fidelity = emitter.versions.fidelity(version);
    }
    out.set(emitter, { settings: own, fidelity });
  }
  return out;
}
