import type { ChalkInstance } from 'chalk';
import { describeChange, SECTIONS, sectionOf, signOf } from './describe.js';
import type { TargetDiff } from './rendered.js';
import type { Change } from './types.js';

/** What `meshgen diff` reports: the semantic changes and, with `--target`, the rendered ones. */
export interface DiffReport {
  readonly before: string;
  readonly after: string;
  readonly changes: readonly Change[];
  readonly targets?: readonly TargetDiff[];
}

/** True when nothing differs, semantically or (when asked) in any target's output. */
export function isEqual(report: DiffReport): boolean {
  return (
    report.changes.length === 0 && (report.targets ?? []).every((t) => t.changes.length === 0 && !t.errors)
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function grouped(changes: readonly Change[]): [string, Change[]][] {
  const groups = new Map<string, Change[]>();
  for (const c of changes) {
    const s = sectionOf(c);
    let list = groups.get(s);
    if (!list) groups.set(s, (list = []));
    list.push(c);
  }
  return SECTIONS.filter((s) => groups.has(s)).map((s) => [s, groups.get(s)!]);
}

function targetSummary(report: DiffReport, t: TargetDiff): string {
  if (t.errors) {
    const failed = [
      ...(t.errors.before.length ? [report.before] : []),
      ...(t.errors.after.length ? [report.after] : []),
    ];
    const n = t.errors.before.length + t.errors.after.length;
    return `not compared: the render of ${failed.join(' and ')} failed (${plural(n, 'error')})`;
  }
  const count = (s: string) => t.changes.filter((c) => c.status === s).length;
  const parts = (['added', 'removed', 'changed'] as const)
    .filter((s) => count(s))
    .map((s) => `${count(s)} ${s}`);
  return parts.length ? `${plural(t.changes.length, 'object')}: ${parts.join(', ')}` : 'no change';
}

/** Text for people; colours come from the chalk instance (level 0 prints none). */
export function formatText(report: DiffReport, c: ChalkInstance): string {
  return (
    formatTextChanges(report, c) + (report.targets ?? []).map((t) => formatTextTarget(report, t, c)).join('')
  );
}

const PAINT = (c: ChalkInstance) => ({ '+': c.green, '-': c.red, '~': c.yellow }) as const;

/** The text of the semantic changes, which the targets' sections (`formatTextTarget`) follow. */
export function formatTextChanges(report: DiffReport, c: ChalkInstance): string {
  const out: string[] = [];
  const head = `${report.before} -> ${report.after}`;
  out.push(
    c.bold(
      `meshgen diff ${head}: ${report.changes.length ? plural(report.changes.length, 'change') : 'no semantic change'}`,
    ),
  );
  const paint = PAINT(c);
  for (const [section, changes] of grouped(report.changes)) {
    out.push('', c.bold.underline(section));
    for (const ch of changes) {
      const sign = signOf(ch);
      const { line, details } = describeChange(ch);
      out.push(`  ${paint[sign](sign)} ${line}`);
      for (const d of details)
        out.push(`      ${d.startsWith('+ ') ? c.green(d) : d.startsWith('- ') ? c.red(d) : c.dim(d)}`);
    }
  }
  return out.join('\n') + '\n';
}

/** The text of one target's section of the report. */
export function formatTextTarget(report: DiffReport, t: TargetDiff, c: ChalkInstance): string {
  const out: string[] = [];
  const paint = PAINT(c);
  out.push('', c.bold.underline(`Target ${t.target}`) + `: ${targetSummary(report, t)}`);
  for (const o of t.changes) {
    const sign = o.status === 'added' ? '+' : o.status === 'removed' ? '-' : '~';
    out.push(
      `  ${paint[sign](sign)} ${o.object}${o.object === o.file ? '' : c.dim(` (${o.file})`)} ${o.status}`,
    );
    if (o.diff)
      for (const l of o.diff.trimEnd().split('\n'))
        out.push(
          `      ${l.startsWith('@@') ? c.cyan(l) : l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l}`,
        );
  }
  return out.join('\n') + '\n';
}

/** Escapes what Markdown would read as markup or HTML; `>` only matters at the start of a line. */
const md = (s: string) => s.replace(/([|*_`<[\]\\])/g, '\\$1');

/** Markdown to paste into a review: one list per section, tables for traffic shifts. */
export function formatMarkdown(report: DiffReport): string {
  const out: string[] = [];
  out.push(`### meshgen diff: \`${report.before}\` → \`${report.after}\``, '');
  out.push(report.changes.length ? `**${plural(report.changes.length, 'change')}**` : 'No semantic change.');
  for (const [section, changes] of grouped(report.changes)) {
    out.push('', `#### ${section}`, '');
    for (const ch of changes) {
      const { line, details } = describeChange(ch);
      out.push(`- \`${signOf(ch)}\` ${md(line)}`);
      if (ch.kind === 'traffic-shifted') {
        out.push('', '  | destination | before | after |', '  |---|---:|---:|');
        for (const d of ch.destinations) out.push(`  | ${md(d.destination)} | ${d.before}% | ${d.after}% |`);
        out.push('');
      } else for (const d of details) out.push(`  - ${md(d)}`);
    }
  }
  for (const t of report.targets ?? []) {
    out.push('', `#### Target ${t.target}: ${md(targetSummary(report, t))}`, '');
    for (const o of t.changes) {
      const label = `${o.status}: ${md(o.object)}${o.object === o.file ? '' : ` (\`${o.file}\`)`}`;
      if (!o.diff) {
        out.push(`- ${label}`);
        continue;
      }
      out.push(
        `<details><summary>${label}</summary>`,
        '',
        '```diff',
        o.diff.trimEnd(),
        '```',
        '',
        '</details>',
        '',
      );
    }
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

/** JSON for tools: `{ equal, before, after, changes, targets? }`. */
export function formatJson(report: DiffReport): string {
  return JSON.stringify({ equal: isEqual(report), ...report }, null, 2) + '\n';
}
