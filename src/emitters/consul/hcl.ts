/**
 * A small deterministic HCL writer for Consul config entries (`consul config write entry.hcl`).
 * It writes the subset of HCL that Consul's decoder reads into its config-entry structs: top-level
 * attributes, nested objects as `Key = { ... }`, lists as `[ ... ]` with trailing commas, strings
 * in double quotes, numbers and booleans. Key order is kept as built, so output is byte-stable.
 */
export function toHcl(entry: Readonly<Record<string, unknown>>): string {
  const out: string[] = [];
  for (const key of definedKeys(entry)) out.push(`${hclKey(key)} = ${hclValue(entry[key], '')}\n`);
  return out.join('');
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Keys that are not plain identifiers (header names with dots, say) are quoted. */
function hclKey(key: string): string {
  return IDENTIFIER.test(key) ? key : hclString(key);
}

/**
 * HCL strings share JSON's escapes (`\"`, `\\`, `\n`, `\uXXXX`); `${` would start an interpolation
 * and `%{` a template directive, so their `$` and `%` are written as `\u0024` and `\u0025`, which the
 * decoder turns back into the characters.
 */
function hclString(s: string): string {
  return JSON.stringify(s).replace(/\$\{/g, '\\u0024{').replace(/%\{/g, '\\u0025{');
}

function definedKeys(o: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

function hclValue(v: unknown, indent: string): string {
  if (typeof v === 'string') return hclString(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`bug: non-finite number in HCL output`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => `${inner}${hclValue(x, inner)},\n`).join('')}${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = definedKeys(o);
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${inner}${hclKey(k)} = ${hclValue(o[k], inner)}\n`).join('')}${indent}}`;
  }
  throw new Error(`bug: cannot write ${String(v)} as HCL`);
}
