import { closest } from '../model/nearest.js';
import type { Emitter } from '../emitters/types.js';
import { settingsRows } from '../emitters/settings.js';

/** `--set key=value` pairs as an object; the text of the usage error for a pair without `=` or key. */
export function parseSettings(pairs: readonly string[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const kv of pairs) {
    const eq = kv.indexOf('=');
    if (eq < 1) return `--set takes key=value, not "${kv}"`;
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/**
 * The emitters `--target` names (`a,b`, or `all`), each once in the order first named; the text of
 * the usage error for a name no emitter has, with the nearest name.
 */
export function chooseTargets(spec: string, emitters: readonly Emitter[]): Emitter[] | string {
  if (spec.trim() === 'all') return [...emitters];
  const names = emitters.map((e) => e.target);
  const chosen: Emitter[] = [];
  const unknown: string[] = [];
  for (const name of spec.split(',').map((t) => t.trim())) {
    const emitter = emitters.find((e) => e.target === name);
    if (!emitter) unknown.push(name);
    else if (!chosen.includes(emitter)) chosen.push(emitter);
  }
  if (!unknown.length) return chosen;
  const near = unknown.length === 1 ? closest(unknown[0]!, [...names, 'all']) : undefined;
  return `unknown target ${unknown.map((t) => `"${t}"`).join(', ')}${near ? `; did you mean "${near}"?` : ''} (targets: ${names.join(', ') || '(none)'}, all)`;
}

/** `meshgen targets --target X`: each target's settings as a text table. */
export function settingsText(emitters: readonly Emitter[]): string {
  return emitters
    .map((e) => {
      const rows = settingsRows(e);
      if (!rows.length) return `${e.target}: no settings\n`;
      const head = ['setting', 'values', 'default', 'description'];
      const widths = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) =>
        cells
          .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell))
          .join('  ')
          .trimEnd();
      return `${e.target} settings (--set key=value, or --set ${e.target}.key=value beside other targets):\n  ${line(head)}\n${rows.map((r) => `  ${line(r)}`).join('\n')}\n`;
    })
    .join('\n');
}
