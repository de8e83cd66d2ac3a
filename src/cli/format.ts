import type { ChalkInstance } from 'chalk';
import type { Diagnostic } from '../model/diagnostics.js';
import type { SourceFile } from '../model/source.js';

/** Colour when the stream is a terminal and NO_COLOR is not set (FORCE_COLOR forces it). */
function colourOn(stream: NodeJS.WriteStream): boolean {
  const force = process.env.FORCE_COLOR;
  return force !== undefined ? force !== '0' : Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/** chalk's Chalk, once `loadColours` has loaded it. */
let Chalk: typeof import('chalk').Chalk | undefined;

/**
 * Loads chalk when stdout or stderr is to be coloured. The CLI calls it before running a command:
 * output to pipes and files (scripts, CI, `| kubectl apply -f -`) is never coloured, and then
 * skips chalk's import (about 15 ms of start-up).
 */
export async function loadColours(): Promise<void> {
  if (Chalk === undefined && (colourOn(process.stdout) || colourOn(process.stderr)))
    Chalk = (await import('chalk')).Chalk;
}

/**
 * Text unchanged, whatever style is asked for, as chalk at level 0 gives it: every style (`c.red`,
 * `c.bold.underline`) is this same function, and `level` is 0. Other properties are the function's
 * own (`then` among them: it is not taken for a promise).
 */
const plain: ChalkInstance = new Proxy(((...text: unknown[]) => text.join(' ')) as ChalkInstance, {
  get: (target, key) =>
    key === 'level' ? 0 : typeof key === 'string' && key !== 'then' ? plain : Reflect.get(target, key),
});

/** The styles for text written to `stream`: chalk's when it is coloured (see `loadColours`). */
export function colours(stream: NodeJS.WriteStream): ChalkInstance {
  return colourOn(stream) && Chalk !== undefined ? new Chalk({ level: 1 }) : plain;
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
      const { shown, prefix, underline } = excerpt(text, col - 1, Math.min(width, EXCERPT_WIDTH));
      lines.push(`${c.dim(gutter + ' |')} ${shown}`);
      lines.push(`${c.dim(' '.repeat(5) + ' |')} ${prefix}${c.green('^' + '~'.repeat(underline - 1))}`);
    }
  }
  if (d.hint) lines.push(`${' '.repeat(7)}${c.cyan('hint:')} ${d.hint}`);
  return lines.join('\n');
}

/** The most characters of a source line a diagnostic shows, and of them the most before its column. */
const EXCERPT_WIDTH = 120;
const EXCERPT_BEFORE = 40;
const CUT = '…';

/**
 * The part of a source line shown under a diagnostic: the whole line when it fits in
 * `EXCERPT_WIDTH`, else a window of that many characters around `at` (0-based), marked `…` where it
 * is cut, so that a long line with many diagnostics is not printed whole for each. `prefix` is the
 * padding before the caret: a space for each character (UTF-16 unit) of the window before `at`,
 * tabs kept as tabs, so that the caret lands under the same character; `underline` counts the caret
 * and its tildes (`width`, at least 1), and ends where a cut line is cut.
 */
function excerpt(
  text: string,
  at: number,
  width: number,
): { shown: string; prefix: string; underline: number } {
  let start = 0;
  let end = text.length;
  if (text.length > EXCERPT_WIDTH) {
    // keep the start of the line when the column and its underline fit in the first window
    if (at + width > EXCERPT_WIDTH)
      start = Math.max(0, Math.min(at - EXCERPT_BEFORE, text.length - EXCERPT_WIDTH));
    end = Math.min(text.length, start + EXCERPT_WIDTH);
    // never split a surrogate pair
    if (start > 0 && isLowSurrogate(text.charCodeAt(start))) start++;
    if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end--;
  }
  const head = start > 0 ? CUT : '';
  const tail = end < text.length ? CUT : '';
  const shown = head + text.slice(start, end) + tail;
  const prefix = (start > 0 ? ' ' : '') + text.slice(start, Math.max(start, at)).replace(/[^\t]/g, ' ');
  // a cut line's underline stops at the cut
  const underline = tail ? Math.max(1, Math.min(width, end - at)) : width;
  return { shown, prefix, underline };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

export function summary(diagnostics: readonly Diagnostic[]): string {
  let e = 0;
  let w = 0;
  for (const d of diagnostics)
    if (d.severity === 'error') e++;
    else if (d.severity === 'warning') w++;
  const parts: string[] = [];
  if (e) parts.push(`${e} error${e === 1 ? '' : 's'}`);
  if (w) parts.push(`${w} warning${w === 1 ? '' : 's'}`);
  return parts.join(', ');
}
