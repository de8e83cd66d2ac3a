/**
 * Every string a mesh document can hold, found by walking schemas/mesh.schema.json: string-typed
 * properties, string array items, string map values, and map keys (`propertyNames`, or any map
 * given by `additionalProperties`). Fields fixed by `enum` or `const` are left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './meshes.js';

/** A step from a value to a part of it: a property, any item of an array, any key or value of a map. */
export type Step = { prop: string } | { item: true } | { key: true } | { value: true };

export interface StringField {
  /** `spec.routes[].headers.request.set{key}` */
  readonly id: string;
  readonly steps: readonly Step[];
  /** The field's own schema (after $ref), for reporting. */
  readonly schema: Schema;
}

export type Schema = Record<string, unknown>;

function loadMeshSchema(): Schema {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'mesh.schema.json'), 'utf8')) as Schema;
}

function fieldId(steps: readonly Step[]): string {
  return steps
    .map((s, n) =>
      'prop' in s ? `${n ? '.' : ''}${s.prop}` : 'item' in s ? '[]' : 'key' in s ? '{key}' : '{value}',
    )
    .join('');
}

function resolve(root: Schema, s: Schema): Schema {
  let out = s;
  const seen = new Set<string>();
  while (typeof out['$ref'] === 'string') {
    const ref = out['$ref'];
    if (seen.has(ref)) throw new Error(`circular $ref ${ref}`);
    seen.add(ref);
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root) as Schema;
    const { $ref: _ref, ...rest } = out;
    out = { ...target, ...rest };
  }
  return out;
}

const isFixed = (s: Schema) => 'enum' in s || 'const' in s;
const types = (s: Schema): string[] =>
  Array.isArray(s['type']) ? (s['type'] as string[]) : typeof s['type'] === 'string' ? [s['type']] : [];

/** Walks the schema from its root; returns every string field, in schema order. */
export function stringFields(root: Schema = loadMeshSchema()): StringField[] {
  const out: StringField[] = [];
  const seen = new Set<string>();
  const add = (steps: Step[], schema: Schema) => {
    const id = fieldId(steps);
    if (!seen.has(id)) {
      seen.add(id);
      out.push({ id, steps, schema });
    }
  };
  const walk = (raw: Schema, steps: Step[]) => {
    if (steps.length > 30) throw new Error(`schema too deep at ${fieldId(steps)}`);
    const s = resolve(root, raw);
    for (const branch of ['anyOf', 'oneOf', 'allOf'] as const)
      for (const b of (s[branch] as Schema[] | undefined) ?? []) walk(b, steps);
    if (isFixed(s)) return;
    const t = types(s);
    if (t.includes('string')) add(steps, s);
    if (t.includes('object') || s['properties'] || s['additionalProperties']) {
      for (const [k, v] of Object.entries((s['properties'] as Record<string, Schema> | undefined) ?? {}))
        walk(v, [...steps, { prop: k }]);
      const extra = s['additionalProperties'];
      const names = s['propertyNames'] as Schema | undefined;
      if (extra && typeof extra === 'object') {
        // a map: its keys are strings the user writes too
        if (!names || !isFixed(resolve(root, names)))
          add([...steps, { key: true }], names ?? { type: 'string' });
        walk(extra as Schema, [...steps, { value: true }]);
      } else if (names && !isFixed(resolve(root, names))) add([...steps, { key: true }], names);
    }
    if (t.includes('array') || s['items']) {
      const items = s['items'];
      if (items && typeof items === 'object') walk(items as Schema, [...steps, { item: true }]);
    }
  };
  walk(root, []);
  return out;
}
