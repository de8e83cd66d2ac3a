/**
 * httpd.conf's syntax for strings that come from the mesh. Every user string reaches the config
 * through one of these, so that it stays one argument of one directive whatever it holds.
 *
 * - The config reader (`ap_getword_conf`) splits a line into words at blanks; `"..."` keeps blanks,
 *   and inside it a backslash escapes `"` and `\` (other backslashes stay: `\x2e` is read as is). A line ends at a line break:
 *   the schema refuses CR, LF and NUL in every string, and these functions throw on them (a bug).
 * - Before any directive sees its arguments, `${NAME}` is replaced by a `Define`d variable or an
 *   environment variable (`ap_resolve_env`, one pass). There is no escape for it: a literal `${` is
 *   written `${MG_DOLLAR}{`, where the config defines MG_DOLLAR as `$` (the result is not read again).
 * - ap_expr (`<If>`, `RewriteCond expr`): strings are `'...'` with `\'` and `\\`, and expand `%{...}`
 *   and the regex captures `$0`-`$9` inside (`\$` is a literal one); regexes are `m#...#`. Every character of a regex that is not a letter or digit and not one
 *   of its own operators is written `\xHH`, so no user character can end the regex, the quotes or
 *   the word.
 * - mod_headers values are format strings: `%` starts a format (`%%` is a literal one); `\\` is one
 *   backslash and `\r`, `\n`, `\t` are control characters (a user's `\r` would be a CR in the header).
 * - mod_rewrite substitutions expand `$N`, `%N`, `%{...}` and `${map:...}`; `\` escapes the next
 *   character.
 */

/** Defines MG_DOLLAR (see above), once at the top of a config. */
export const DOLLAR_DEFINE = 'Define MG_DOLLAR $';

const LINE_BREAK = /[\r\n\0]/;

function refuseLineBreaks(value: string): void {
  if (LINE_BREAK.test(value))
    throw new Error(`bug: a line break or NUL reached httpd.conf: ${JSON.stringify(value)}`);
}

/** `${` made safe from the config reader's variable expansion. */
function keepDollars(value: string): string {
  return value.replace(/\$\{/g, '${MG_DOLLAR}{');
}

/** One word of the config, double-quoted, holding `value` literally. */
export function quoted(value: string): string {
  refuseLineBreaks(value);
  // a backslash before a backslash, a quote or the closing quote would be read as an escape
  return `"${keepDollars(value.replace(/\\(?=[\\"]|$)/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

/** `\xHH` for each byte of one character (httpd compiles regexes without UTF mode: bytes). */
function hex(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}

const REGEX_OPERATORS = new Set([...'.*+?^$()[]{}|-,:=!<>']);

/**
 * A PCRE pattern as an ap_expr regex (`m#...#`, flags appended), its source kept: an escaped
 * character stays escaped (`\d`, or `\xHH` for a punctuation one), operators stay, and every other
 * character that is not a letter or digit becomes `\xHH`.
 */
export function exprRegex(source: string, flags = ''): string {
  refuseLineBreaks(source);
  let out = '';
  const chars = [...source];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\\' && i + 1 < chars.length) {
      const next = chars[++i]!;
      out += /[A-Za-z0-9]/.test(next) ? `\\${next}` : hex(next);
    } else if (/[A-Za-z0-9]/.test(ch)) out += ch;
    else if (REGEX_OPERATORS.has(ch)) out += ch === '$' && chars[i + 1] === '{' ? '$(?:)' : ch;
    else out += hex(ch);
  }
  return `m#${out}#${flags}`;
}

/** A string matched literally inside a regex (every character not a letter or digit as `\xHH`). */
export function literalPattern(value: string): string {
  refuseLineBreaks(value);
  return [...value].map((ch) => (/[A-Za-z0-9]/.test(ch) ? ch : hex(ch))).join('');
}

/** An ap_expr string literal holding `value` (`%` written `\%`... not needed for names: see below). */
export function exprString(value: string): string {
  refuseLineBreaks(value);
  // `%{` would expand: a header name (a token) never holds `{`; other values go through regexes.
  if (value.includes('%{')) throw new Error(`bug: %{ in an ap_expr string: ${JSON.stringify(value)}`);
  // `$0`-`$9` in a string are the last regex's captures: `$` is escaped as `'` and `\` are
  return `'${value.replace(/[\\'$]/g, '\\$&')}'`;
}

/** A whole ap_expr as one config word. */
export function expr(text: string): string {
  return quoted(text);
}

/** A mod_headers value holding `value` literally, as one config word. */
export function headerValue(value: string): string {
  return quoted(value.replace(/[\\%]/g, (c) => (c === '%' ? '%%' : '\\\\')));
}

/** Literal text inside a mod_rewrite substitution. */
export function substitutionText(value: string): string {
  refuseLineBreaks(value);
  return value.replace(/[\\$%]/g, '\\$&');
}

/** A comment's text: on one line whatever it quotes. */
export function comment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return keepDollars(text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, '?'));
}
