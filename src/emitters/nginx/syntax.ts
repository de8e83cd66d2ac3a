/**
 * nginx.conf's syntax for strings that come from the mesh. Every user string reaches the config
 * through one of these, so that it stays one argument of one directive whatever it holds.
 *
 * - The tokenizer (`ngx_conf_read_token`) ends a directive at `;`, opens and closes blocks at `{` and
 *   `}`, starts a comment at `#`, and reads `"..."` with `\"`, `\\`, `\t`, `\r`, `\n` escapes: a
 *   double-quoted string keeps all of that literal. Strings are written double-quoted; the schema
 *   refuses CR, LF and NUL in every string, and these functions throw on them (a bug).
 * - Where nginx expands variables (header values, map values, `return` text, rewrite replacements),
 *   `$` starts one and has no escape: a literal `$` is written `${mg_dollar}`, a variable the config
 *   defines as "$" (a `geo` value is never expanded) whenever it is used.
 */

/** A variable whose value is a literal `$` (see DOLLAR_VARIABLE). */
export const DOLLAR = '${mg_dollar}';
/** Defines DOLLAR, in the http block of a config that uses it. */
export const DOLLAR_VARIABLE = 'geo $mg_dollar { default "$"; }';

const LINE_BREAK = /[\r\n\0]/;

function refuseLineBreaks(value: string): void {
  if (LINE_BREAK.test(value))
    throw new Error(`bug: a line break or NUL reached nginx.conf: ${JSON.stringify(value)}`);
}

function escapeQuoted(value: string): string {
  refuseLineBreaks(value);
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** A double-quoted string, for places nginx reads literally (regexes, map keys, file names). */
export function q(value: string): string {
  return `"${escapeQuoted(value)}"`;
}

/** The inside of a double-quoted string where nginx expands variables, holding `value` literally. */
export function literalText(value: string): string {
  return escapeQuoted(value).replace(/\$/g, DOLLAR);
}

/** A word as is when it holds only characters nginx reads literally, else double-quoted. */
export function word(value: string): string {
  return /^[A-Za-z0-9._/:@+=,[\]-]+$/.test(value) ? value : q(value);
}

/** A double-quoted string where nginx expands variables, holding `value` literally. */
export function literal(value: string): string {
  return `"${literalText(value)}"`;
}

/** A comment's text: on one line whatever it quotes. */
export function comment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, '?');
}

/**
 * The variable holding a request header: `x-user` -> `$http_x_user`. nginx keeps only headers whose
 * names are letters, digits and `-` (ignore_invalid_headers on, underscores_in_headers off), and a
 * variable name holds letters, digits and `_` only: for other names, no variable can read the
 * header, and this gives undefined.
 */
export function headerVar(name: string): string | undefined {
  return /^[A-Za-z0-9-]+$/.test(name) ? `$http_${name.toLowerCase().replace(/-/g, '_')}` : undefined;
}

/** The variable holding a cookie (`$cookie_session`), or undefined when no variable can name it. */
export function cookieVar(name: string): string | undefined {
  return /^[A-Za-z0-9_]+$/.test(name) ? `$cookie_${name}` : undefined;
}

/**
 * A server's fail_timeout: nginx reads it in whole seconds only (`fail_timeout=500ms` fails
 * `nginx -t`), so a time is rounded up, to at least 1s.
 */
export function failTimeout(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}
