import type { ResolvedMatch, StringMatch } from '../../model/types.js';
import { escapeRegex } from '../../model/regex.js';
import { headerVar, q } from './syntax.js';
import type { MapView } from './view.js';

/**
 * First-match routing without location precedence: each distinct condition (a variable against a
 * regex) becomes a map yielding 1 or 0; a listener's route map reads the string of its condition flags
 * against one regex per match entry, in route order: nginx tries map regexes in the order written and
 * takes the first that matches.
 */
export class Conditions {
  private readonly index = new Map<string, string>();
  readonly maps: MapView[] = [];

  /** The flag variable for `variable ~ regex`, made once for the whole config. */
  flag(variable: string, regex: string, comment: string): string {
    const key = `${variable} ${regex}`;
    let name = this.index.get(key);
    if (!name) {
      name = `$mg_c${this.index.size}`;
      this.index.set(key, name);
      this.maps.push({
        comment,
        source: variable,
        variable: name,
        entries: [
          { key: q(`~${regex}`), value: '1' },
          { key: 'default', value: '0' },
        ],
      });
    }
    return name;
  }
}

function stringRegex(m: StringMatch): string {
  switch (m.kind) {
    case 'present':
      return '.';
    case 'exact':
      return `^${escapeRegex(m.value)}$`;
    case 'prefix':
      return `^${escapeRegex(m.value)}`;
    case 'regex':
      return `^(?:${m.value})$`;
  }
}

/** The flags one match entry needs, all of them (AND). */
export function matchFlags(m: ResolvedMatch, c: Conditions, where: string): string[] {
  const out: string[] = [];
  if (m.path) {
    const re =
      m.path.kind === 'exact'
        ? `^${escapeRegex(m.path.value)}$`
        : m.path.kind === 'prefix'
          ? `^${escapeRegex(m.path.value)}`
          : `^(?:${m.path.value})$`;
    out.push(c.flag('$uri', re, `${where}: path ${m.path.kind} ${m.path.value}`));
  }
  for (const h of m.headers) {
    // a header nginx drops never matches (the route's emitter says so): an empty string never has a character
    const variable = headerVar(h.name);
    out.push(
      variable
        ? c.flag(variable, stringRegex(h.match), `${where}: header ${h.name}`)
        : c.flag(q(''), '.', `${where}: header ${h.name}, which nginx drops`),
    );
  }
  for (const p of m.queryParams)
    out.push(
      /^[A-Za-z0-9_]+$/.test(p.name)
        ? c.flag(`$arg_${p.name}`, stringRegex(p.match), `${where}: query ${p.name}`)
        : // $arg_ takes letters, digits and _ only: other names are found in the whole query string.
          c.flag('$args', argsRegex(p.name, p.match), `${where}: query ${p.name}`),
    );
  if (m.method) out.push(c.flag('$request_method', `^${m.method}$`, `${where}: method ${m.method}`));
  return out;
}

/** Host names as a regex on `$host` (lower-cased, without port): exact names and `*.suffix`. */
export function hostRegex(hosts: readonly string[]): string {
  const alts = hosts.map((h) => (h.startsWith('*.') ? `.+${escapeRegex(h.slice(1))}` : escapeRegex(h)));
  return `^(?:${alts.join('|')})$`;
}

/**
 * The route map of one listener: `terms` are, in route order, the flag sets of each match entry and
 * the value to choose. Returns the map reading the listener's flags.
 */
export function routeMap(
  variable: string,
  comment: string,
  terms: { flags: string[]; value: string }[],
  fallback: string,
): MapView {
  const all: string[] = [];
  for (const t of terms) for (const f of t.flags) if (!all.includes(f)) all.push(f);
  const entries = terms.map((t) => ({
    key: q(`~^${all.map((f) => (t.flags.includes(f) ? '1' : '.')).join('')}`),
    value: t.value,
  }));
  return {
    comment,
    source: q(all.join('') || 'any'),
    variable,
    entries: [...entries, { key: 'default', value: fallback }],
  };
}

/** A query parameter in `$args` (`a=1&b=2`), for names `$arg_` cannot spell. */
function argsRegex(name: string, m: StringMatch): string {
  const n = `(?:^|&)${escapeRegex(name)}`;
  switch (m.kind) {
    case 'present':
      return `${n}(?:=|&|$)`;
    case 'exact':
      return `${n}=${escapeRegex(m.value)}(?:&|$)`;
    case 'prefix':
      return `${n}=${escapeRegex(m.value)}`;
    case 'regex':
      return `${n}=(?:${m.value})(?:&|$)`;
  }
}
