import { splitPointer } from './diagnostics.js';
import type { ResolvedRoute } from './types.js';

const LISTS: Record<string, string> = {
  backends: 'backend',
  frontends: 'frontend',
  routes: 'route',
  versions: 'version',
  access: 'access rule for',
};

/**
 * Says where a JSON pointer is in the mesh's own terms: `/spec/routes/2/retries/attempts` becomes
 * `route "catalog-api": retries.attempts`.
 */
export function describeLocation(doc: unknown, pointer: string): string {
  const tokens = splitPointer(pointer);
  let v: unknown = doc;
  let owner = '';
  let field: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const parentKey = tokens[i - 1];
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[t] : undefined;
    const kind = parentKey !== undefined ? LISTS[parentKey] : undefined;
    if (kind && /^\d+$/.test(t) && (parentKey !== 'access' || tokens[i - 2] === 'spec')) {
      const rec = v as Record<string, unknown> | undefined;
      const name = rec && typeof rec === 'object' ? (rec.name ?? rec.backend) : undefined;
      const label = typeof name === 'string' ? `${kind} "${name}"` : `${kind} #${Number(t) + 1}`;
      owner = owner && kind === 'version' ? `${owner}, ${label}` : label;
      field = [];
    } else if (
      !(t === 'spec' && i === 0) &&
      !(LISTS[t] && tokens[i + 1] !== undefined && /^\d+$/.test(tokens[i + 1]!))
    ) {
      field.push(/^\d+$/.test(t) ? `[${t}]` : t);
    }
  }
  const path = field.join('.').replace(/\.\[/g, '[');
  if (!owner) return path ? `field "${path}"` : 'the document';
  return path ? `${owner}: ${path}` : owner;
}

/** A route in messages and comments: `route "name"`, or the implicit route of a backend. */
export function routeSubject(route: ResolvedRoute): string {
  return route.implicit ? `the implicit route of backend "${route.parent.name}"` : `route "${route.name}"`;
}
