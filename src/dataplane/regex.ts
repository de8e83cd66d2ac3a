import { RE2JS } from 're2js';

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

/** RE2::PartialMatch, as the admin's stats filter: a match anywhere in the string. */
export function partialMatcher(c: { re: RE2JS }): Regex {
  const re = c.re;
  return { test: (s) => re.test(s) };
}
