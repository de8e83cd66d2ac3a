import { diagnostic, escalateWarnings, type Diagnostic } from './model/diagnostics.js';
import { featureUses, type Feature } from './model/features.js';
import type { ResolvedMesh } from './model/types.js';
import { emitters as registry } from './emitters/index.js';
import type { EmitOptions, Emitter, OutputFile } from './emitters/types.js';
import { checkSettings, settingsFor } from './emitters/settings.js';
import { closest } from './model/nearest.js';

export interface RenderOptions extends EmitOptions {
  /** Target names, or 'all'. */
  readonly targets: readonly string[] | 'all';
  /** Warnings become errors. */
  readonly strict?: boolean;
  /** The emitters to choose from; default the registry. Library users may add their own. */
  readonly emitters?: readonly Emitter[];
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
  // the uses of the features some chosen target cannot express: the only ones reported here
  const unsupported = new Set<Feature>();
  for (const emitter of chosen)
    for (const [feature, fidelity] of Object.entries(emitter.fidelity))
      if (fidelity === 'unsupported') unsupported.add(feature as Feature);
  const uses = featureUses(mesh, unsupported);
  const outputs: TargetOutput[] = [];
  for (const emitter of chosen) {
    // the text after the subject, once per feature: one string joined per use, not five
    const rest = new Map<Feature, string>();
    for (const use of uses) {
      if (emitter.fidelity[use.feature] !== 'unsupported') continue;
      let after = rest.get(use.feature);
      if (after === undefined) {
        after = ` uses ${use.feature}, which the ${emitter.target} target cannot express: it is left out`;
        rest.set(use.feature, after);
      }
      diagnostics.push(
        diagnostic('MG3001', use.subject + after, {
          pointer: use.pointer,
          target: emitter.target,
          hint: `run \`meshgen targets\` for what each target supports`,
        }),
      );
    }
    // each target sees the plain keys and its own `<target>.<key>` ones, without the prefix
    const result = emitter.emit(mesh, {
      ...options,
      settings: settingsFor(emitter.target, options.settings, names),
    });
    // a loop, not push(...list): a large mesh's tens of thousands of diagnostics as call arguments
    // cost time and can overflow the stack. A diagnostic that names its target (first, as
    // `diagnostic` writes it) is kept; the others get the target's name in a copy.
    for (const d of result.diagnostics)
      diagnostics.push(d.target === emitter.target ? d : { target: emitter.target, ...d });
    outputs.push({ target: emitter.target, files: result.files });
  }
  return { outputs, diagnostics: options.strict ? escalateWarnings(diagnostics) : diagnostics };
}
