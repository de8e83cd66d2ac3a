/**
 * haproxy.cfg's syntax for strings that come from the mesh. Every user string reaches the config
 * through one of these, so that it stays one argument of one directive whatever it holds.
 *
 * - The config tokenizer (HAProxy 2.6, `parse_line`) splits a line into words at blanks; `#` starts a
 *   comment; `"..."` expands `${VAR}` and backslash escapes; `'...'` keeps everything literal. A line
 *   ends at a line break whatever the quotes, so no word may hold one: the schema refuses CR, LF and
 *   NUL in every string, and these functions throw on them (a bug, not a user's mistake).
 * - Log-format arguments (`set-header` values, `replace-path` replacements) expand `%` after the
 *   tokenizer: a literal `%` is written `%%`.
 * - Sample fetch arguments (`req.fhdr(name)`, `urlp(name)`) are split at `,` and `)` by the
 *   argument parser, which reads `"..."` with backslash escapes as one argument.
 */

const PLAIN = /^[A-Za-z0-9._/:@%+=,-]+$/;
const LINE_BREAK = /[\r\n\0]/;

function refuseLineBreaks(value: string): void {
  if (LINE_BREAK.test(value))
    throw new Error(`bug: a line break or NUL reached haproxy.cfg: ${JSON.stringify(value)}`);
}

/** One word of the config: as is when plain, else in single quotes (`'` written `'\''`). */
export function word(value: string): string {
  refuseLineBreaks(value);
  if (PLAIN.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The text of a log-format string with every `%` literal, before it is made a word. */
export function logFormatText(value: string): string {
  return value.replace(/%/g, '%%');
}

/**
 * A log-format argument holding `value` literally. An empty word is no argument at all to HAProxy
 * (`set-header x ''` has one), so the empty value is the expression of an empty string.
 */
export function logFormat(value: string): string {
  return value === '' ? '%[str()]' : word(logFormatText(value));
}

/** A sample fetch with one literal argument (`req.fhdr`, `urlp`, `hdr`, `req.cook`), as one word. */
export function fetch(name: string, arg: string): string {
  if (/^[A-Za-z0-9._-]+$/.test(arg)) return `${name}(${arg})`;
  return word(`${name}("${arg.replace(/[\\"]/g, '\\$&')}")`);
}

/** A comment's text: on one line whatever it quotes. */
export function comment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, '?');
}
