import { Chalk, type ChalkInstance } from 'chalk';
import type { Diagnostic } from '../model/diagnostics.js';
import type { SourceFile } from '../model/source.js';

/** Colour when the stream is a terminal and NO_COLOR is not set (FORCE_COLOR forces it). */
export function colours(stream: NodeJS.WriteStream): ChalkInstance {
  const force = process.env.FORCE_COLOR;
  const on = force !== undefined ? force !== '0' : Boolean(stream.isTTY) && !process.env.NO_COLOR;
  return new Chalk({ level: on ? 1 : 0 });
}

/**
 * Formats a diagnostic like a compiler: `file:line:col: error MG2004: message`, the source line, a
 * caret under the offending text, then the hint.
 */
export function formatDiagnostic(d: Diagnostic, source: SourceFile | undefined, c: ChalkInstance): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}:${d.column ?? 1}` : ''}: ` : '';
  const sev =
    d.severity === 'error'
      ? c.red.bold('error')
      : d.severity === 'warning'
        ? c.yellow.bold('warning')
        : c.cyan.bold('info');
  const target = d.target ? ` [${d.target}]` : '';
  const lines = [`${c.bold(where)}${sev} ${c.dim(d.code)}${target}: ${d.message}`];
  if (source && d.line && source.text) {
    const text = source.lineText(d.line);
    if (text.trim()) {
      const gutter = String(d.line).padStart(5);
      const col = Math.max(1, d.column ?? 1);
      const width = d.endLine === d.line && d.endColumn && d.endColumn > col ? d.endColumn - col : 1;
      const shown = text.length > 200 ? text.slice(0, 200) + '…' : text;
      const prefix = text.slice(0, col - 1).replace(/[^\t]/g, ' ');
      lines.push(`${c.dim(gutter + ' |')} ${shown}`);
      lines.push(
        `${c.dim(' '.repeat(5) + ' |')} ${prefix}${c.green('^' + '~'.repeat(Math.max(0, Math.min(width, 120) - 1)))}`,
      );
    }
  }
  if (d.hint) lines.push(`${' '.repeat(7)}${c.cyan('hint:')} ${d.hint}`);
  return lines.join('\n');
}

export function summary(diagnostics: readonly Diagnostic[]): string {
  const count = (s: Diagnostic['severity']) => diagnostics.filter((d) => d.severity === s).length;
  const parts: string[] = [];
  const e = count('error');
  const w = count('warning');
  if (e) parts.push(`${e} error${e === 1 ? '' : 's'}`);
  if (w) parts.push(`${w} warning${w === 1 ? '' : 's'}`);
  return parts.join(', ');
}
