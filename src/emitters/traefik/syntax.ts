/**
 * Traefik's rule language for strings that come from the mesh. Every user string reaches a rule
 * through `ruleString`, so that it stays one argument of one matcher whatever it holds.
 *
 * Traefik parses a rule as a Go expression (github.com/vulcand/predicate over go/parser) and reads
 * each argument with strconv.Unquote: a string is a Go string literal, raw between backticks or
 * interpreted between double quotes. A raw string ends at the next backtick and has no escapes, and
 * Go's scanner refuses NUL and the byte-order mark anywhere in the source and drops carriage returns
 * from raw strings; so a value holding any of those is written double-quoted, with `\\`, `\"` and
 * `\u` escapes. The schema refuses control characters in every string; these functions throw on
 * them (a bug). Traefik refuses an empty argument (rules.CheckRule): the callers never pass one.
 */

// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const CONTROL = /[\0-\x08\n-\x1f\x7f]/;

function refuseControl(value: string): void {
  if (CONTROL.test(value))
    throw new Error(`bug: a control character reached a Traefik rule: ${JSON.stringify(value)}`);
  if (value === '') throw new Error('bug: an empty argument reached a Traefik rule');
}

/** A Go string literal holding `value`: backtick-quoted when it can be, else double-quoted. */
export function ruleString(value: string): string {
  refuseControl(value);
  if (!/[`\uFEFF]/.test(value)) return '`' + value + '`';
  return (
    '"' +
    value
      .replace(/[\\"]/g, (c) => '\\' + c)
      .replace(/\t/g, '\\t')
      .replace(/\uFEFF/g, '\\uFEFF') +
    '"'
  );
}

/** `Name(`a`, `b`)`: a matcher call with its arguments quoted. */
export function matcher(name: string, ...args: string[]): string {
  return `${name}(${args.map(ruleString).join(', ')})`;
}

/** Go's regexp.QuoteMeta: a regular expression matching `value` literally. */
export function quoteMeta(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** A replacement for Go's Regexp.ReplaceAllString holding `value` literally (`$` is written `$$`). */
export function literalReplacement(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/** A Go duration: `1500ms`, `2s`. */
export function goDuration(ms: number): string {
  const whole = Math.round(ms);
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}
