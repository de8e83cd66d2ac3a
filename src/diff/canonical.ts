/** Helpers that turn model values into canonical, comparable, JSON-ready values. */

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorted, without duplicates: for lists whose order means nothing. */
export function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(byString);
}

/** An object with keys sorted and undefined values dropped, recursively. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(byString)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/** Equality of canonical values (both already canonical, so key order agrees). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export { byString };
