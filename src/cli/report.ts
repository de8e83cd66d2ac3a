import { Option } from 'commander';
import { sortDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import type { SourceFile } from '../model/source.js';
import { colours, formatDiagnostic, summary } from './format.js';

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
