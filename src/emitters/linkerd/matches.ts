import type { HeaderOps, PathMatch, ResolvedMatch, StringMatch } from '../../model/types.js';
import { escapeRegex } from '../../model/regex.js';

/** A Gateway API HTTPRouteMatch as plain data. */
export interface GatewayMatch {
  path?: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  headers?: { type: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  queryParams?: { type: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  method?: string;
}

/**
 * Linkerd and the Gateway API anchor header and query regexes at both ends (linkerd2-proxy
 * `MatchHeader::is_match` checks the match spans the whole value), so a prefix is `<literal>.*` and
 * `present` is `.*`.
 */
function stringMatch(
  name: string,
  m: StringMatch,
): { type: 'Exact' | 'RegularExpression'; name: string; value: string } {
  switch (m.kind) {
    case 'exact':
      return { type: 'Exact', name, value: m.value };
    case 'prefix':
      return { type: 'RegularExpression', name, value: `${escapeRegex(m.value)}.*` };
    case 'regex':
      return { type: 'RegularExpression', name, value: m.value };
    case 'present':
      return { type: 'RegularExpression', name, value: '.*' };
  }
}

function pathMatch(p: PathMatch): NonNullable<GatewayMatch['path']> {
  if (p.kind === 'exact') return { type: 'Exact', value: p.value };
  if (p.kind === 'regex') return { type: 'RegularExpression', value: p.value };
  return { type: 'PathPrefix', value: p.value };
}

export function toGatewayMatch(m: ResolvedMatch): GatewayMatch {
  const out: GatewayMatch = {};
  if (m.path) out.path = pathMatch(m.path);
  if (m.headers.length) out.headers = m.headers.map((h) => stringMatch(h.name, h.match));
  if (m.queryParams.length) out.queryParams = m.queryParams.map((q) => stringMatch(q.name, q.match));
  if (m.method) out.method = m.method;
  return out;
}

/**
 * How a mesh prefix differs once written as a Gateway API PathPrefix, which matches whole path
 * segments and ignores a trailing slash (linkerd2-proxy `MatchPath::match_length`); undefined when
 * it does not differ.
 */
export function prefixDifference(prefix: string): string | undefined {
  if (prefix === '/') return undefined;
  if (prefix.endsWith('/')) {
    const bare = prefix.replace(/\/+$/, '');
    return `PathPrefix "${prefix}" also accepts "${bare}" itself`;
  }
  return `PathPrefix "${prefix}" matches whole path segments: it accepts "${prefix}" and "${prefix}/..." but not "${prefix}x"`;
}

/**
 * The family (see `FAMILY` in src/model/diagnostics.ts) of `prefixDifference(prefix)`'s text: its two
 * texts are two families.
 */
export function prefixFamily(prefix: string): string {
  return prefix.endsWith('/')
    ? 'linkerd: PathPrefix accepts the bare prefix'
    : 'linkerd: PathPrefix matches segments';
}

type HeaderModifier = {
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
};

function headerModifier(h: HeaderOps): HeaderModifier | undefined {
  if (!h.set.length && !h.add.length && !h.remove.length) return undefined;
  const out: HeaderModifier = {};
  if (h.set.length) out.set = h.set.map(([name, value]) => ({ name, value }));
  if (h.add.length) out.add = h.add.map(([name, value]) => ({ name, value }));
  if (h.remove.length) out.remove = [...h.remove];
  return out;
}

/** RequestHeaderModifier and ResponseHeaderModifier filters, in that order. */
export function headerFilters(request: HeaderOps, response: HeaderOps): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const req = headerModifier(request);
  if (req) out.push({ type: 'RequestHeaderModifier', requestHeaderModifier: req });
  const res = headerModifier(response);
  if (res) out.push({ type: 'ResponseHeaderModifier', responseHeaderModifier: res });
  return out;
}

/**
 * A duration as one integer and one unit (`90s`, `1500ms`, `2h`): Linkerd's own parser
 * (policy-controller `parse_duration`) takes no compound or fractional values, and the Gateway API
 * format (GEP-2257) allows at most five digits a unit. Undefined when no single unit fits in five
 * digits (the caller then uses an annotation, which Linkerd parses without that limit).
 */
export function gatewayDuration(ms: number): string | undefined {
  const s = linkerdDuration(ms);
  return /^\d{1,5}(h|m|s|ms)$/.test(s) ? s : undefined;
}

/** A duration in the form Linkerd's annotations take: one integer, one unit. */
export function linkerdDuration(ms: number): string {
  const whole = Math.round(ms);
  if (whole % 3_600_000 === 0) return `${whole / 3_600_000}h`;
  if (whole % 60_000 === 0) return `${whole / 60_000}m`;
  if (whole % 1000 === 0) return `${whole / 1000}s`;
  return `${whole}ms`;
}
