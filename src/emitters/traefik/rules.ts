import type { PathPattern, ResolvedMatch, StringMatch, HttpMethod } from '../../model/types.js';
import { matcher, quoteMeta } from './syntax.js';

/**
 * Mesh matches as Traefik v3 rules (pkg/muxer/http/matcher.go). What each matcher does:
 * - `Path` and `PathPrefix` compare the routing path as a plain string (`strings.HasPrefix`), the
 *   mesh's prefix semantics; `PathRegexp`, `HeaderRegexp` and `QueryRegexp` are Go regexps (RE2, the
 *   mesh's dialect) matched anywhere, so the emitter anchors them.
 * - `Header` compares each value of the (canonicalised) header exactly; `Query(k, v)` accepts a
 *   request where one value of `k` is `v` (`Query(k)` alone means the empty value, not presence).
 * - Traefik refuses an empty argument: an empty expected value is `^$`, presence is `.*`.
 */

function valueRule(kind: 'Header' | 'Query', name: string, m: StringMatch): string {
  const re = `${kind}Regexp`;
  switch (m.kind) {
    case 'present':
      return matcher(re, name, '.*');
    case 'exact':
      return m.value === '' ? matcher(re, name, '^$') : matcher(kind, name, m.value);
    case 'prefix':
      return m.value === '' ? matcher(re, name, '.*') : matcher(re, name, `^${quoteMeta(m.value)}`);
    case 'regex':
      return matcher(re, name, `^(?:${m.value})$`);
  }
}

/** The rule of one match entry; undefined when it accepts every request. */
export function matchRule(m: ResolvedMatch): string | undefined {
  const parts: string[] = [];
  if (m.path) {
    const p = m.path;
    if (p.kind === 'exact') parts.push(matcher('Path', p.value));
    else if (p.kind === 'prefix') parts.push(matcher('PathPrefix', p.value));
    else parts.push(matcher('PathRegexp', `^(?:${p.value})$`));
  }
  if (m.method) parts.push(matcher('Method', m.method));
  for (const h of m.headers) parts.push(valueRule('Header', h.name, h.match));
  for (const q of m.queryParams) parts.push(valueRule('Query', q.name, q.match));
  return parts.length ? parts.join(' && ') : undefined;
}

/** `Host(...) || ...` for a route's hosts (`*.example.com` as a HostRegexp). */
export function hostRule(hosts: readonly string[], sni = false): string {
  const exact = sni ? 'HostSNI' : 'Host';
  const terms = hosts.map((h) =>
    h.startsWith('*.') ? matcher(`${exact}Regexp`, `^.+${quoteMeta(h.slice(1))}$`) : matcher(exact, h),
  );
  return terms.join(' || ');
}

/** The requests some access entry accepts: any of its paths, and any of its methods. */
export function accessRule(
  entries: readonly { readonly paths?: readonly PathPattern[]; readonly methods?: readonly HttpMethod[] }[],
): string {
  const terms = entries.map((e) => {
    const parts: string[] = [];
    if (e.paths)
      parts.push(
        e.paths.map((p) => matcher(p.kind === 'exact' ? 'Path' : 'PathPrefix', p.value)).join(' || '),
      );
    if (e.methods) parts.push(e.methods.map((m) => matcher('Method', m)).join(' || '));
    return allOf(parts);
  });
  return terms.join(' || ');
}

/** True when `rule` has an `||` outside parentheses and quoted strings. */
function topLevelOr(rule: string): boolean {
  let depth = 0;
  for (let i = 0; i < rule.length; i++) {
    const c = rule[i]!;
    if (c === '`') i = rule.indexOf('`', i + 1);
    else if (c === '"') {
      for (i++; rule[i] !== '"'; i++) if (rule[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && rule.startsWith('||', i)) return true;
  }
  return false;
}

/** Parenthesised when it has an `||` at its top level, as an operand of `&&` (which binds tighter). */
function group(rule: string): string {
  return topLevelOr(rule) ? `(${rule})` : rule;
}

/** Joins conditions with `&&`; none at all: every request (`PathPrefix(`/`)`). */
export function allOf(parts: readonly (string | undefined)[]): string {
  const present = parts.filter((p): p is string => p !== undefined && p !== '');
  if (!present.length) return matcher('PathPrefix', '/');
  if (present.length === 1) return present[0]!;
  return present.map(group).join(' && ');
}
