import { joinPointer } from './diagnostics.js';

/**
 * How much of a parsed document YAML aliases make: js-yaml gives an alias the anchored value itself
 * (one object, referenced again), so a few kilobytes of nested aliases ("billion laughs") load
 * quickly and then expand into billions of nodes for whatever walks the value next (the schema
 * check, normalize). This counts the nodes a full walk would visit without making that walk: each
 * distinct object is measured once (memoized on its identity), so the count takes time linear in
 * the document's own size.
 */
export interface AliasUse {
  /** Nodes a walk of the expanded document visits (values and mapping keys). */
  decodeCount: number;
  /** Of those, the nodes reached through an alias. */
  aliasCount: number;
  /** The anchored value whose aliases add the most nodes: its first occurrence, and how much. */
  worst?: { pointer: string; aliases: number; nodes: number };
  /** Set when an anchored value holds an alias of itself (an endless expansion). */
  cycle?: string;
}

/**
 * Whether aliasing is excessive, by go-yaml's rule (gopkg.in/yaml.v3 decode.go, which kubectl uses):
 * more than 100 aliased nodes, more than 1,000 nodes in all, and a share of aliased nodes above
 * `allowedAliasRatio`.
 */
export function excessiveAliasing(use: AliasUse): boolean {
  if (use.cycle !== undefined) return true;
  const { aliasCount, decodeCount } = use;
  return aliasCount > 100 && decodeCount > 1000 && aliasCount / decodeCount > allowedAliasRatio(decodeCount);
}

/**
 * The share of a document's nodes that may come from alias expansion: 99% up to 400,000 nodes, 10% from
 * 4,000,000, scaled linearly in between (so at most about 400,000 aliased nodes in a large document).
 */
export function allowedAliasRatio(decodeCount: number): number {
  const low = 400_000;
  const high = 4_000_000;
  if (decodeCount <= low) return 0.99;
  if (decodeCount >= high) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - low) / (high - low));
}

interface Measured {
  /** Nodes in the value once expanded, itself included; -1 while it is being measured. */
  size: number;
  pointer: string;
  /** Times it was met again (as an alias) and the nodes those meetings added. */
  aliases: number;
  aliasNodes: number;
}

/** Counts the nodes of `value` expanded, and those reached through aliases (repeated objects). */
export function measureAliases(value: unknown): AliasUse {
  const seen = new Map<object, Measured>();
  let aliasCount = 0;
  let cycle: string | undefined;

  // a walk with its own stack: a deep document must not overflow the call stack
  const size = (root: unknown): number => {
    if (root === null || typeof root !== 'object') return 1;
    interface Frame {
      node: object;
      entry: Measured;
      keys: string[];
      at: number;
      total: number;
    }
    const enter = (node: object, pointer: string): Frame => {
      const entry: Measured = { size: -1, pointer, aliases: 0, aliasNodes: 0 };
      seen.set(node, entry);
      return { node, entry, keys: Object.keys(node), at: 0, total: 1 };
    };
    const stack: Frame[] = [enter(root, '')];
    let result = 0;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.at === top.keys.length) {
        top.entry.size = top.total;
        stack.pop();
        if (stack.length === 0) result = top.total;
        else stack[stack.length - 1]!.total += top.total;
        continue;
      }
      const k = top.keys[top.at++]!;
      const child = (top.node as Record<string, unknown>)[k];
      // a mapping key is a node of its own
      if (!Array.isArray(top.node)) top.total++;
      if (child === null || typeof child !== 'object') {
        top.total++;
        continue;
      }
      const met = seen.get(child);
      if (met === undefined) {
        stack.push(enter(child, joinPointer(top.entry.pointer, k)));
        continue;
      }
      if (met.size < 0) {
        // an alias inside its own anchored value
        cycle ??= met.pointer;
        top.total += 1;
        continue;
      }
      met.aliases++;
      met.aliasNodes += met.size;
      aliasCount += met.size;
      top.total += met.size;
    }
    return result;
  };

  const decodeCount = size(value);
  let worst: Measured | undefined;
  for (const m of seen.values()) if (m.aliases > 0 && (!worst || m.aliasNodes > worst.aliasNodes)) worst = m;
  return {
    decodeCount,
    aliasCount,
    ...(worst && { worst: { pointer: worst.pointer, aliases: worst.aliases, nodes: worst.size } }),
    ...(cycle !== undefined && { cycle }),
  };
}
