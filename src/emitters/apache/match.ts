import { escapeRegex } from '../../model/regex.js';
import type { AccessDecision } from '../../smartstack/index.js';
import type { ResolvedMatch, StringMatch } from '../../model/types.js';
import { exprRegex, exprString, literalPattern } from './syntax.js';

/**
 * Matches as ap_expr conditions (`RewriteCond expr`). Every comparison is a regex whose user part is
 * either literal (`literalPattern`) or the mesh's own regex (`exprRegex`), so one escaping rule
 * covers them all.
 */

/** A header or query value against a string match, as the regex body (anchored). */
function valueRegex(m: Exclude<StringMatch, { kind: 'present' }>): string {
  switch (m.kind) {
    case 'exact':
      return `^${literalPattern(m.value)}$`;
    case 'prefix':
      return `^${literalPattern(m.value)}`;
    case 'regex':
      return `^(?:${m.value})$`;
  }
}

function regexOf(body: string, literal: boolean): string {
  // literal bodies are already escaped; the mesh's regexes go through exprRegex whole
  return literal ? `m#${body}#` : exprRegex(body);
}

function headerCondition(name: string, m: StringMatch): string {
  // req() joins repeated headers with ", " (as the mesh reads them); an absent header is "".
  const fetch = `req(${exprString(name)})`;
  if (m.kind === 'present') return `-n ${fetch}`;
  return `${fetch} =~ ${regexOf(valueRegex(m), m.kind !== 'regex')}`;
}

/** A query parameter found in the raw query string (`a=1&b=2`), as NGINX's `$args` form does. */
function queryCondition(name: string, m: StringMatch): string {
  const n = `(?:^|&)${literalPattern(name)}`;
  switch (m.kind) {
    case 'present':
      return `%{QUERY_STRING} =~ m#${n}(?:=|&|$)#`;
    case 'exact':
      return `%{QUERY_STRING} =~ m#${n}=${literalPattern(m.value)}(?:&|$)#`;
    case 'prefix':
      return `%{QUERY_STRING} =~ m#${n}=${literalPattern(m.value)}#`;
    case 'regex':
      return `%{QUERY_STRING} =~ ${exprRegex(`(?:^|&)${escapeRegex(name)}=(?:${m.value})(?:&|$)`)}`;
  }
}

/** The path as httpd decoded and normalized it (REQUEST_URI: no query). */
function pathCondition(kind: 'exact' | 'prefix' | 'regex', value: string): string {
  switch (kind) {
    case 'exact':
      return `%{REQUEST_URI} =~ m#^${literalPattern(value)}$#`;
    case 'prefix':
      return `%{REQUEST_URI} =~ m#^${literalPattern(value)}#`;
    case 'regex':
      return `%{REQUEST_URI} =~ ${exprRegex(`^(?:${value})$`)}`;
  }
}

/** One match entry: every condition (AND); `true` when it has none. */
export function matchExpr(m: ResolvedMatch): string {
  const parts: string[] = [];
  if (m.path) parts.push(pathCondition(m.path.kind, m.path.value));
  for (const h of m.headers) parts.push(headerCondition(h.name, h.match));
  for (const q of m.queryParams) parts.push(queryCondition(q.name, q.match));
  if (m.method) parts.push(`%{REQUEST_METHOD} == '${m.method}'`);
  return parts.length ? parts.join(' && ') : 'true';
}

/** Host names a listener accepts, on the Host header with any port: exact names and `*.suffix`. */
export function hostExpr(hosts: readonly string[]): string {
  const alts = hosts.map((h) => (h.startsWith('*.') ? `.+${literalPattern(h.slice(1))}` : literalPattern(h)));
  return `%{HTTP_HOST} =~ m#^(?:${alts.join('|')})(?::[0-9]+)?$#i`;
}

/** The requests an access decision of kind `some` lets through, as one expression. */
export function allowedExpr(access: Extract<AccessDecision, { kind: 'some' }>): string {
  const terms = access.entries.map((e) => {
    const parts: string[] = [];
    if (e.paths)
      parts.push(
        `(${e.paths.map((p) => pathCondition(p.kind === 'exact' ? 'exact' : 'prefix', p.value)).join(' || ')})`,
      );
    if (e.methods) parts.push(`(${e.methods.map((x) => `%{REQUEST_METHOD} == '${x}'`).join(' || ')})`);
    return parts.length ? parts.join(' && ') : 'true';
  });
  return terms.map((t) => `(${t})`).join(' || ');
}
