/**
 * Checks that a regular expression is valid RE2 (what Envoy, Istio, Linkerd and Consul accept) and
 * means the same in JavaScript, which tests and the data plane use: RE2 has no lookaround, no
 * backreferences and no possessive quantifiers. Returns a reason, or undefined when it is fine.
 */
export function checkRe2(source: string): string | undefined {
  if (/\(\?<?[=!]/.test(source)) return 'lookaround is not supported';
  if (/(^|[^\\])(\\\\)*\\[1-9]/.test(source)) return 'backreferences are not supported';
  if (/\\k</.test(source)) return 'named backreferences are not supported';
  if (/[*+?}]\+/.test(source)) return 'possessive quantifiers are not supported';
  try {
    new RegExp(source, 'u');
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '');
  }
  return undefined;
}

/** Regex metacharacters escaped: a literal string inside an RE2 or PCRE pattern. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
