import type { ResolvedMatch, StringMatch } from '../../model/types.js';
import { fetch, word } from './syntax.js';

/** RE2 as the mesh writes it, anchored at both ends as the mesh reads it. */
function anchored(re: string): string {
  return `^(?:${re})$`;
}

/**
 * A literal pattern of an inline condition: after `--` when it starts with `-` (else it reads as a
 * flag). A lone `}` ends the inline condition even quoted: such a value is matched as a regex. The
 * empty value (exact only: a prefix is never empty) is the value of length 0.
 */
function pattern(flag: 'str' | 'beg', value: string): string {
  // an empty word is no word at all to HAProxy: the empty value is the value of length 0
  if (value === '') return '-m len 0';
  if (value === '}') return `-m reg ${word(flag === 'str' ? '^\\}$' : '^\\}')}`;
  return `-m ${flag} ${value.startsWith('-') ? '-- ' : ''}${word(value)}`;
}

function stringCond(sample: string, m: StringMatch): string {
  switch (m.kind) {
    case 'present':
      return `{ ${sample} -m found }`;
    case 'exact':
      return `{ ${sample} ${pattern('str', m.value)} }`;
    case 'prefix':
      return `{ ${sample} ${pattern('beg', m.value)} }`;
    case 'regex':
      return `{ ${sample} -m reg ${word(anchored(m.value))} }`;
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
    out.push(`{ path -m ${flag} ${word(value)} }`);
  }
  for (const h of m.headers)
    out.push(
      h.match.kind === 'present'
        ? `{ ${fetch('req.hdr_cnt', h.name)} gt 0 }`
        : stringCond(fetch('req.fhdr', h.name), h.match),
    );
  for (const q of m.queryParams) out.push(stringCond(fetch('urlp', q.name), q.match));
  if (m.method) out.push(`{ method ${m.method} }`);
  return out;
}

/** Host conditions: exact names and `*.suffix` wildcards, any of them. */
export function hostAcls(
  name: string,
  hosts: readonly string[],
  sample = 'req.hdr(host),field(1,:),lower',
): string[] {
  const exact = hosts.filter((h) => !h.startsWith('*.'));
  const wild = hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
  const out: string[] = [];
  if (exact.length) out.push(`acl ${name} ${sample} -m str ${exact.map(word).join(' ')}`);
  if (wild.length) out.push(`acl ${name} ${sample} -m end ${wild.map(word).join(' ')}`);
  return out;
}
