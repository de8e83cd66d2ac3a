import type { ResolvedMatch, StringMatch } from '../../model/types.js';

/** Quotes a word for haproxy.cfg: single quotes keep backslashes and `$` literal. */
export function quote(value: string): string {
  if (/^[A-Za-z0-9._/:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** RE2 as the mesh writes it, anchored at both ends as the mesh reads it. */
export function anchored(re: string): string {
  return `^(?:${re})$`;
}

function stringCond(fetch: string, m: StringMatch): string {
  switch (m.kind) {
    case 'present':
      return `{ ${fetch} -m found }`;
    case 'exact':
      return `{ ${fetch} -m str ${quote(m.value)} }`;
    case 'prefix':
      return `{ ${fetch} -m beg ${quote(m.value)} }`;
    case 'regex':
      return `{ ${fetch} -m reg ${quote(anchored(m.value))} }`;
  }
}

/**
 * One match entry as anonymous ACLs, ANDed when written side by side. Header values are the whole
 * header (`req.fhdr`, not split at commas); query values as sent (`urlp` does not decode).
 */
export function matchConditions(m: ResolvedMatch): string[] {
  const out: string[] = [];
  if (m.path) {
    const flag = m.path.kind === 'exact' ? 'str' : m.path.kind === 'prefix' ? 'beg' : 'reg';
    const value = m.path.kind === 'regex' ? anchored(m.path.value) : m.path.value;
    out.push(`{ path -m ${flag} ${quote(value)} }`);
  }
  for (const h of m.headers)
    out.push(
      h.match.kind === 'present'
        ? `{ req.hdr_cnt(${h.name}) gt 0 }`
        : stringCond(`req.fhdr(${h.name})`, h.match),
    );
  for (const q of m.queryParams) out.push(stringCond(`urlp(${q.name})`, q.match));
  if (m.method) out.push(`{ method ${m.method} }`);
  return out;
}

/** Host conditions: exact names and `*.suffix` wildcards, any of them. */
export function hostAcls(
  name: string,
  hosts: readonly string[],
  fetch = 'req.hdr(host),field(1,:),lower',
): string[] {
  const exact = hosts.filter((h) => !h.startsWith('*.'));
  const wild = hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
  const out: string[] = [];
  if (exact.length) out.push(`acl ${name} ${fetch} -m str ${exact.map(quote).join(' ')}`);
  if (wild.length) out.push(`acl ${name} ${fetch} -m end ${wild.map(quote).join(' ')}`);
  return out;
}

/** Regex metacharacters escaped, for a literal inside a PCRE pattern. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
