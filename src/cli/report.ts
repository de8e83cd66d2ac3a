import { Option } from 'commander';
import { sortDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import type { SourceFile } from '../model/source.js';
import { colours, formatDiagnostic, summary } from './format.js';
import { groupDiagnostics, moreLine, perCodeSummary } from './digest.js';

/** Diagnostics to print, and the sources their files name (for the lines under them). */
export interface Printed {
  diagnostics: Diagnostic[];
  sources: Map<string, SourceFile>;
}

/**
 * Prints diagnostics in one stable order: as JSON on stdout, or as text on stderr (each located
 * one with its source line and a caret), then a summary line. Every command that checks input
 * (`validate`, `render`, `proxy`) prints through here.
 */
export function report({ diagnostics, sources }: Printed, format: string): void {
  const sorted = sortDiagnostics(diagnostics);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(sorted, null, 2) + '\n');
    return;
  }
  const c = colours(process.stderr);
  for (const d of sorted)
    process.stderr.write(formatDiagnostic(d, d.file ? sources.get(d.file) : undefined, c) + '\n');
  const line = summary(sorted);
  if (line) process.stderr.write(`${line}\n`);
}

/** `--format text|json`: how diagnostics are printed. */
export function formatOption(): Option {
  return new Option('--format <format>', 'diagnostics as text or json')
    .choices(['text', 'json'])
    .default('text');
}

/**
 * Prints a command's diagnostics on stderr, whatever the format, so that stdout holds only the
 * command's output. Text: one line per code, target and message shape with its first location and
 * a count (`--verbose`: every one), errors first, then the totals and a count per code. JSON: every
 * diagnostic, located, errors first. `locate` places the ones printed in their source.
 */
export function reportScaled(
  diagnostics: readonly Diagnostic[],
  options: {
    sources: Map<string, SourceFile>;
    locate: (ds: readonly Diagnostic[]) => Diagnostic[];
    format: string;
    verbose?: boolean;
  },
): void {
  if (!diagnostics.length) return;
  const { sources, locate, format, verbose } = options;
  const groups = groupDiagnostics(diagnostics, locate, verbose || format === 'json');
  if (format === 'json') {
    process.stderr.write(
      JSON.stringify(
        groups.map((g) => g.first),
        null,
        2,
      ) + '\n',
    );
    return;
  }
  const c = colours(process.stderr);
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(formatDiagnostic(g.first, g.first.file ? sources.get(g.first.file) : undefined, c));
    if (g.count > 1) lines.push(c.dim(moreLine(g)));
  }
  const total = summary(diagnostics);
  if (total) lines.push(total);
  if (total && diagnostics.length > 1) lines.push(...perCodeSummary(diagnostics));
  process.stderr.write(lines.join('\n') + '\n');
}
