import { describeScope } from './access.js';
import { IMPLICIT_ROUTE } from './traffic-table.js';
import type { Change, ParentKey } from './types.js';

/** The section a change is listed under in text and markdown output. */
export type Section = 'Mesh' | 'Backends' | 'Frontends' | 'Routes' | 'mTLS' | 'Access';

export function sectionOf(c: Change): Section {
  switch (c.kind) {
    case 'mesh-changed':
      return 'Mesh';
    case 'mtls-changed':
      return 'mTLS';
    case 'backend-added':
    case 'backend-removed':
    case 'backend-changed':
    case 'version-added':
    case 'version-removed':
    case 'version-labels-changed':
    case 'endpoint-added':
    case 'endpoint-removed':
      return 'Backends';
    case 'frontend-added':
    case 'frontend-removed':
    case 'frontend-changed':
      return 'Frontends';
    case 'access-gained':
    case 'access-lost':
    case 'access-changed':
      return 'Access';
    default:
      return 'Routes';
  }
}

export const SECTIONS: readonly Section[] = ['Mesh', 'mTLS', 'Backends', 'Frontends', 'Routes', 'Access'];

/** `+` added or gained, `-` removed or lost, `~` changed. */
export function signOf(c: Change): '+' | '-' | '~' {
  if (c.kind.endsWith('-added') || c.kind === 'access-gained') return '+';
  if (c.kind.endsWith('-removed') || c.kind === 'access-lost') return '-';
  return '~';
}

/** A value as people read it: durations and names as written, objects as `key value` pairs. */
function show(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (Array.isArray(value)) return value.length ? value.map(show).join(', ') : 'none';
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) =>
        v && typeof v === 'object' && !Array.isArray(v) ? `${k} {${show(v)}}` : `${k} ${show(v)}`,
      )
      .join(', ');
  return String(value);
}

function showParent(parent: ParentKey): string {
  const [kind, ...rest] = parent.split('/');
  return `${kind} ${rest.join('/')}`;
}

const routeName = (parent: ParentKey, route: string) =>
  route === IMPLICIT_ROUTE
    ? `implicit route (${showParent(parent)})`
    : `route ${route} (${showParent(parent)})`;
const percent = (n: number) => `${Number(n.toFixed(2))}%`;

/** One line per change; details (a shift's destinations) as further lines. */
export function describeChange(c: Change): { line: string; details: string[] } {
  const one = (line: string) => ({ line, details: [] });
  switch (c.kind) {
    case 'mesh-changed':
      return one(`mesh ${c.field}: ${show(c.before)} -> ${show(c.after)}`);
    case 'mtls-changed':
      return one(
        `${c.scope === 'mesh' ? 'mesh' : `backend ${c.backend}`} mTLS mode: ${c.before} -> ${c.after}`,
      );
    case 'backend-added':
      return one(`backend ${c.backend} added (versions ${c.versions.join(', ')})`);
    case 'backend-removed':
      return one(`backend ${c.backend} removed (versions ${c.versions.join(', ')})`);
    case 'backend-changed':
      return one(`backend ${c.backend} ${c.field}: ${show(c.before)} -> ${show(c.after)}`);
    case 'version-added':
      return one(`version ${c.backend}/${c.version} added`);
    case 'version-removed':
      return one(`version ${c.backend}/${c.version} removed`);
    case 'version-labels-changed':
      return one(`version ${c.backend}/${c.version} labels: ${show(c.before)} -> ${show(c.after)}`);
    case 'endpoint-added':
      return one(`endpoint ${c.endpoint} added to ${c.backend}/${c.version}`);
    case 'endpoint-removed':
      return one(`endpoint ${c.endpoint} removed from ${c.backend}/${c.version}`);
    case 'frontend-added':
      return one(`frontend ${c.frontend} added`);
    case 'frontend-removed':
      return one(`frontend ${c.frontend} removed`);
    case 'frontend-changed':
      return one(`frontend ${c.frontend} ${c.field}: ${show(c.before)} -> ${show(c.after)}`);
    case 'route-added':
    case 'route-removed':
      return {
        line: `${routeName(c.parent, c.route)} ${c.kind === 'route-added' ? 'added' : 'removed'} at position ${c.position + 1}`,
        details: [
          `match: ${c.matches.join(' | ')}`,
          `to: ${Object.entries(c.to)
            .map(([d, w]) => `${d} ${percent(w)}`)
            .join(', ')}`,
        ],
      };
    case 'route-order-changed':
      return one(
        `${showParent(c.parent)}: route order changed (first match wins): ${c.before.join(', ')} -> ${c.after.join(', ')}`,
      );
    case 'match-changed':
      return {
        line: `${routeName(c.parent, c.route)} matches changed`,
        details: [...c.removed.map((m) => `- ${m}`), ...c.added.map((m) => `+ ${m}`)],
      };
    case 'traffic-shifted':
      return {
        line: `${routeName(c.parent, c.route)}: ${percent(c.shifted)} of its traffic moves`,
        details: c.destinations.map((d) => `${d.destination}: ${percent(d.before)} -> ${percent(d.after)}`),
      };
    case 'route-policy-changed':
      return one(`${routeName(c.parent, c.route)} ${c.policy}: ${show(c.before)} -> ${show(c.after)}`);
    case 'access-gained':
    case 'access-lost':
    case 'access-changed': {
      const who =
        c.caller === '*'
          ? c.except?.length
            ? `any caller other than ${c.except.join(', ')}`
            : 'any caller'
          : c.caller;
      if (c.kind === 'access-gained')
        return one(`${who} may now call ${c.backend} (${describeScope(c.after)})`);
      if (c.kind === 'access-lost')
        return one(`${who} may no longer call ${c.backend} (was ${describeScope(c.before)})`);
      return one(`${who} may call ${c.backend}: ${describeScope(c.before)} -> ${describeScope(c.after)}`);
    }
  }
}
