import { RE2JS } from 're2js';
import type { PathError } from './config/supported.js';

/**
 * Regular expressions from a bootstrap or an admin query, with Envoy's engine semantics: Envoy
 * compiles `safe_regex` (route, header and string matchers, `regex_rewrite`) and the admin's
 * `/stats?filter=` with RE2, whose matching time is linear in the input. JavaScript's RegExp
 * backtracks (`^([a-z_.]+)+X` takes exponential time) and accepts what RE2 refuses
 * (backreferences, lookaround), so every such pattern goes through re2js, a JavaScript port of
 * RE2 with its syntax and its linear-time guarantee.
 */

/** A compiled pattern; `test` is what Envoy's matcher asks of it (whole string or anywhere). */
export interface Regex {
  test(s: string): boolean;
}

export type Compiled = { re: RE2JS } | { error: string };

/** Compiles an RE2 pattern, or says why RE2 refuses it. */
export function compileRe2(pattern: string): Compiled {
  try {
    return { re: RE2JS.compile(pattern) };
  } catch (e) {
    return { error: refusal(pattern, e) };
  }
}

function refusal(pattern: string, e: unknown): string {
  const why = e instanceof Error ? e.message : String(e);
  // what people bring from JavaScript or PCRE regexes: name it, the parser's words alone do not
  const perl = /\(\?<?[=!]|\\[1-9]/.test(pattern)
    ? ' (RE2, the engine Envoy uses, has no lookahead, lookbehind or backreferences)'
    : '';
  return `${why}${perl}`;
}

/** RE2::FullMatch, as Envoy's safe_regex matchers: the whole string must match. */
function fullMatcher(c: { re: RE2JS }): Regex {
  const re = c.re;
  return { test: (s) => re.matches(s) };
}

/** RE2::PartialMatch, as the admin's stats filter: a match anywhere in the string. */
export function partialMatcher(c: { re: RE2JS }): Regex {
  const re = c.re;
  return { test: (s) => re.test(s) };
}

/** One piece of an RE2 rewrite string: literal text, or the text of a capture group. */
type Piece = string | number;

/**
 * RE2's rewrite syntax, as Envoy's `regex_rewrite.substitution` uses it: `\0`–`\9` insert a
 * capture group, `\\` a backslash; another character after a backslash is an error, as is a group
 * the pattern does not have.
 */
function parseRewrite(sub: string, groups: number): Piece[] | string {
  const out: Piece[] = [];
  let lit = '';
  for (let i = 0; i < sub.length; i++) {
    const c = sub[i]!;
    if (c !== '\\') {
      lit += c;
      continue;
    }
    const n = sub[++i];
    if (n === '\\') lit += '\\';
    else if (n !== undefined && n >= '0' && n <= '9') {
      if (Number(n) > groups)
        return `substitution uses \\${n} but the pattern has ${groups} capture group${groups === 1 ? '' : 's'}`;
      if (lit) out.push(lit);
      lit = '';
      out.push(Number(n));
    } else
      return `invalid rewrite: a backslash must be followed by a digit or a backslash, not ${JSON.stringify(n ?? '')}`;
  }
  if (lit) out.push(lit);
  return out;
}

/**
 * RE2::GlobalReplace of `regex_rewrite`: every non-overlapping match (anywhere in the string, not
 * anchored) is replaced by the substitution. Returns the rewriting function, or why it is refused.
 */
function compileRewrite(pattern: string, substitution: string): ((s: string) => string) | string {
  const c = compileRe2(pattern);
  if ('error' in c) return c.error;
  const pieces = parseRewrite(substitution, c.re.groupCount());
  if (typeof pieces === 'string') return pieces;
  const re = c.re;
  const replacer = (...args: unknown[]): string => {
    let s = '';
    for (const p of pieces) s += typeof p === 'string' ? p : ((args[p] as string | undefined) ?? '');
    return s;
  };
  return (s) => re.matcher(s).replaceAll(replacer);
}

/**
 * A bootstrap's safe_regex (route, header and string matchers): compiled with RE2 and matched
 * against the whole string, as Envoy does; what RE2 refuses is an error at `p`, as Envoy refuses
 * it at load.
 */
export function safeRegex(src: unknown, p: string, errors: PathError[]): Regex {
  const c = compileRe2(String(src));
  if ('re' in c) return fullMatcher(c);
  errors.push({ path: p, message: `invalid RE2 regex: ${c.error}` });
  return { test: () => false };
}

/** A route's regex_rewrite ({pattern: {regex}, substitution}) as a function of the path, or an error at `p`. */
export function regexRewrite(
  rr: { pattern?: { regex?: unknown }; substitution?: unknown },
  p: string,
  errors: PathError[],
): ((path: string) => string) | undefined {
  const f = compileRewrite(String(rr.pattern?.regex ?? ''), String(rr.substitution ?? ''));
  if (typeof f === 'function') return f;
  errors.push({ path: p, message: `invalid regex_rewrite: ${f}` });
  return undefined;
}
