import type protobuf from 'protobufjs';
import { envoyRoot, protobufjs } from './protos.js';

/**
 * A strict checker of Envoy v3 configuration in proto3 JSON form (a bootstrap parsed from YAML or
 * JSON), walking the protobufjs reflection tree as Envoy's own parser would: unknown fields, JSON
 * types, enum names, oneof exclusivity, `Any` packing by `@type` (recursing into the packed type),
 * well-known types (Duration as "1.5s"), and the protoc-gen-validate rules Envoy enforces most
 * (required messages and oneofs, string lengths and prefixes, numeric bounds, list and map sizes).
 * A plain `Type.fromObject` would silently drop unknown fields and unknown enum names.
 *
 * Not checked here: cross-references (a route naming a missing cluster), regex syntax, CEL.
 */
export interface EnvoyCheckResult {
  ok: boolean;
  /** `path: message`, path as a JSON pointer into the checked object. */
  errors: string[];
  warnings: string[];
}

export interface EnvoyCheckOptions {
  /** The message type; default the Bootstrap. */
  type?: string;
  /** Also reject the forms Envoy tolerates: lower-case enum names, one value for a repeated field. */
  canonical?: boolean;
}

type Rules = Record<string, Record<string, unknown> | undefined>;

const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WRAPPER: Record<string, string> = {
  DoubleValue: 'double',
  FloatValue: 'float',
  Int64Value: 'int64',
  UInt64Value: 'uint64',
  Int32Value: 'int32',
  UInt32Value: 'uint32',
  BoolValue: 'bool',
  StringValue: 'string',
  BytesValue: 'bytes',
};
const SPECIAL_WKT = new Set([
  'Duration',
  'Timestamp',
  'Struct',
  'Value',
  'ListValue',
  'FieldMask',
  ...Object.keys(WRAPPER),
]);
const DURATION_RE = /^-?\d+(\.\d{1,9})?s$/;

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * protoc-gen-validate's well-known string rules that Envoy's protos use for headers: strict is RFC
 * 7230 (names are tokens, values have no control characters but tab); `strict: false` refuses only
 * NUL, CR and LF, as Envoy does for header values to add.
 */
/* eslint-disable no-control-regex */
const WELL_KNOWN: Record<string, { what: string; strict: RegExp; loose: RegExp }> = {
  HTTP_HEADER_NAME: {
    what: 'header name',
    strict: /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/,
    loose: /^[^\0\r\n]+$/,
  },
  HTTP_HEADER_VALUE: {
    what: 'header value',
    strict: /^[^\0-\x08\n-\x1f\x7f]*$/,
    loose: /^[^\0\r\n]*$/,
  },
};
/* eslint-enable no-control-regex */

const fieldRules = new WeakMap<protobuf.Field, Rules>();
/** A field's protoc-gen-validate rules (read once per field: the checks of a large file ask often). */
function rulesOf(f: protobuf.Field): Rules {
  let r = fieldRules.get(f);
  if (!r) {
    const parsed = (f as unknown as { parsedOptions?: Record<string, unknown>[] }).parsedOptions ?? [];
    r = Object.assign(
      {},
      ...parsed.filter((o) => o['(validate.rules)']).map((o) => o['(validate.rules)']),
    ) as Rules;
    fieldRules.set(f, r);
  }
  return r;
}

/**
 * A reflection object's full name without the leading dot, kept per object: protobufjs computes
 * `fullName` by walking up to the root on each read, once per message of the document checked.
 */
const fullNames = new WeakMap<protobuf.ReflectionObject, string>();
export function nameOf(t: protobuf.ReflectionObject): string {
  let n = fullNames.get(t);
  if (n === undefined) fullNames.set(t, (n = t.fullName.slice(1)));
  return n;
}

/** What a message requires of a field it leaves unset: present, or a zero its rules accept. */
interface UnsetCheck {
  readonly field: string;
  /** Required (a message, duration, Any or timestamp rule, or a string of a minimum length). */
  readonly required: boolean;
  /** The numeric rules a proto3 scalar's zero must meet (protoc-gen-validate checks unset scalars). */
  readonly zero?: Record<string, unknown>;
}

const unsetChecks = new WeakMap<protobuf.Type, UnsetCheck[]>();
/** A type's checks of unset fields (those outside a oneof that can fail), computed once per type. */
function unsetChecksOf(T: protobuf.Type): UnsetCheck[] {
  let checks = unsetChecks.get(T);
  if (checks) return checks;
  checks = [];
  for (const f of T.fieldsArray) {
    if (f.partOf) continue;
    const r = rulesOf(f);
    const req = (k: string) => (r[k] as { required?: boolean } | undefined)?.required;
    const requiredMessage = Boolean(req('message') || req('duration') || req('any') || req('timestamp'));
    f.resolve();
    let requiredScalar = false;
    let zero: Record<string, unknown> | undefined;
    if (!(f.repeated || f.map || f.resolvedType || r.ignore_empty)) {
      // protoc-gen-validate applies scalar rules to unset proto3 scalars too ("" / 0)
      const sr = r.string as { min_len?: number; min_bytes?: number } | undefined;
      if (f.type === 'string' && ((sr?.min_len ?? 0) > 0 || (sr?.min_bytes ?? 0) > 0)) requiredScalar = true;
      else {
        const nr = r[f.type];
        if (nr && (nr.gt !== undefined || nr.gte !== undefined)) zero = nr;
      }
    }
    // (a message field has a resolved type: it is never also a scalar required or checked at zero)
    if (requiredMessage || requiredScalar || zero)
      checks.push({ field: f.name, required: requiredMessage || requiredScalar, zero });
  }
  unsetChecks.set(T, checks);
  return checks;
}

/** Enum value names by their lower case, per enum (to tell a non-canonical name from an unknown one). */
const enumNames = new WeakMap<protobuf.Enum, Map<string, string>>();
function canonicalEnumName(e: protobuf.Enum, v: string): string | undefined {
  let m = enumNames.get(e);
  if (!m) {
    m = new Map();
    // the first name of a lower case wins, as a search in declaration order finds it
    for (const k of Object.keys(e.values)) if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), k);
    enumNames.set(e, m);
  }
  return m.get(v.toLowerCase());
}

const jsonNames = new WeakMap<protobuf.Type, Record<string, protobuf.Field>>();
function fieldsByJsonName(t: protobuf.Type): Record<string, protobuf.Field> {
  let m = jsonNames.get(t);
  if (!m) {
    m = {};
    for (const f of t.fieldsArray) m[protobufjs().util.camelCase(f.name)] = f;
    jsonNames.set(t, m);
  }
  return m;
}

/** Looks up a message type by full name (`envoy.config.cluster.v3.Cluster`), or undefined. */
export function lookupType(name: string): protobuf.Type | undefined {
  return lookupTypeIn(envoyRoot(), name);
}

export function checkEnvoy(
  obj: unknown,
  { type = 'envoy.config.bootstrap.v3.Bootstrap', canonical = false }: EnvoyCheckOptions = {},
): EnvoyCheckResult {
  const root = envoyRoot();
  const errors: string[] = [];
  const warnings: string[] = [];
  const err = (p: string, m: string): void => {
    errors.push(`${p || '/'}: ${m}`);
  };
  const soft = (p: string, m: string): void => {
    (canonical ? errors : warnings).push(`${p || '/'}: ${m}`);
  };

  function numRules(r: Record<string, unknown> | undefined, n: number, p: string) {
    if (!r) return;
    if (r.gt !== undefined && !(n > Number(r.gt))) err(p, `must be > ${String(r.gt)}`);
    if (r.gte !== undefined && !(n >= Number(r.gte))) err(p, `must be >= ${String(r.gte)}`);
    if (r.lt !== undefined && !(n < Number(r.lt))) err(p, `must be < ${String(r.lt)}`);
    if (r.lte !== undefined && !(n <= Number(r.lte))) err(p, `must be <= ${String(r.lte)}`);
    if (Array.isArray(r.in) && !r.in.map(Number).includes(n)) err(p, `must be one of ${r.in.join(', ')}`);
  }
  function strRules(r: Record<string, unknown> | undefined, s: string, p: string) {
    if (!r) return;
    const len = [...s].length;
    if (r.min_len !== undefined && len < Number(r.min_len))
      err(p, `string shorter than min_len ${String(r.min_len)}`);
    if (r.max_len !== undefined && len > Number(r.max_len))
      err(p, `string longer than max_len ${String(r.max_len)}`);
    if (r.min_bytes !== undefined && Buffer.byteLength(s) < Number(r.min_bytes))
      err(p, `string shorter than min_bytes ${String(r.min_bytes)}`);
    if (typeof r.prefix === 'string' && !s.startsWith(r.prefix)) err(p, `must start with ${r.prefix}`);
    if (Array.isArray(r.in) && !r.in.includes(s)) err(p, `must be one of ${r.in.join(', ')}`);
    if (Array.isArray(r.not_in) && r.not_in.includes(s)) err(p, `must not be one of ${r.not_in.join(', ')}`);
    const known = r.well_known_regex === undefined ? undefined : WELL_KNOWN[String(r.well_known_regex)];
    if (known && !(r.strict === false ? known.loose : known.strict).test(s))
      err(p, `${JSON.stringify(s)} is not a valid ${known.what}`);
  }
  function scalar(type: string, v: unknown, p: string, rules: Rules) {
    if (INT32.has(type) || INT64.has(type)) {
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n))
        return err(p, `expected integer (${type}), got ${JSON.stringify(v)}`);
      if ((type.startsWith('u') || type.startsWith('fixed')) && n < 0)
        err(p, `expected non-negative ${type}`);
      numRules(rules[type], n, p);
    } else if (type === 'double' || type === 'float') {
      const ok =
        typeof v === 'number' ||
        (typeof v === 'string' &&
          (['NaN', 'Infinity', '-Infinity'].includes(v) || (v.trim() !== '' && !isNaN(Number(v)))));
      if (!ok) return err(p, `expected number (${type}), got ${JSON.stringify(v)}`);
      numRules(rules[type], Number(v), p);
    } else if (type === 'bool') {
      if (typeof v !== 'boolean') err(p, `expected boolean, got ${JSON.stringify(v)}`);
    } else if (type === 'string') {
      if (typeof v !== 'string') return err(p, `expected string, got ${JSON.stringify(v)}`);
      strRules(rules.string, v, p);
    } else if (type === 'bytes') {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) err(p, 'expected base64 string');
    } else err(p, `unhandled scalar ${type}`);
  }
  function value(
    field: protobuf.Field,
    resolved: protobuf.ReflectionObject | null,
    v: unknown,
    p: string,
    rules: Rules,
  ) {
    if (resolved instanceof protobufjs().Enum) {
      if (typeof v === 'string') {
        const canon = canonicalEnumName(resolved, v);
        if (canon && canon !== v) soft(p, `enum value ${v} is not canonical (${canon})`);
        else if (!canon)
          err(
            p,
            `unknown enum value ${v} for ${nameOf(resolved)} (allowed: ${Object.keys(resolved.values).join(', ')})`,
          );
      } else if (typeof v === 'number' && Number.isInteger(v)) {
        if (
          (rules.enum as { defined_only?: boolean } | undefined)?.defined_only &&
          !Object.values(resolved.values).includes(v)
        )
          err(p, `undefined enum number ${v}`);
      } else err(p, `expected enum name for ${nameOf(resolved)}, got ${JSON.stringify(v)}`);
    } else if (resolved instanceof protobufjs().Type) message(resolved, v, p, rules);
    else scalar(field.type, v, p, rules);
  }
  function message(T: protobuf.Type, v: unknown, p: string, rules: Rules = {}): void {
    const name = nameOf(T);
    switch (name) {
      case 'google.protobuf.Any': {
        if (!isObj(v) || typeof v['@type'] !== 'string') return err(p, 'Any must be an object with "@type"');
        const url = v['@type'];
        const inner = lookupTypeIn(root, url.slice(url.lastIndexOf('/') + 1));
        if (!inner) return err(p, `unknown or unbundled @type ${url}`);
        if (nameOf(inner).startsWith('google.protobuf.') && SPECIAL_WKT.has(inner.name))
          return message(inner, v.value, `${p}/value`);
        const rest = { ...v };
        delete rest['@type'];
        return message(inner, rest, p);
      }
      case 'google.protobuf.Duration': {
        if (typeof v !== 'string' || !DURATION_RE.test(v))
          return err(p, `Duration must be a string like "1.5s", got ${JSON.stringify(v)}`);
        const d = (rules.duration ?? {}) as Record<
          string,
          { seconds?: number | string; nanos?: number } | undefined
        >;
        const s = parseFloat(v.slice(0, -1));
        const sec = (x: { seconds?: number | string; nanos?: number }) =>
          Number(x.seconds ?? 0) + Number(x.nanos ?? 0) / 1e9;
        if (d.gt && !(s > sec(d.gt))) err(p, `duration must be > ${sec(d.gt)}s`);
        if (d.gte && !(s >= sec(d.gte))) err(p, `duration must be >= ${sec(d.gte)}s`);
        if (d.lt && !(s < sec(d.lt))) err(p, `duration must be < ${sec(d.lt)}s`);
        if (d.lte && !(s <= sec(d.lte))) err(p, `duration must be <= ${sec(d.lte)}s`);
        return;
      }
      case 'google.protobuf.Timestamp':
        if (typeof v !== 'string' || isNaN(Date.parse(v))) err(p, 'Timestamp must be an RFC3339 string');
        return;
      case 'google.protobuf.Struct':
        if (!isObj(v)) err(p, 'Struct must be an object');
        return;
      case 'google.protobuf.ListValue':
        if (!Array.isArray(v)) err(p, 'ListValue must be an array');
        return;
      case 'google.protobuf.Value':
        return;
      case 'google.protobuf.FieldMask':
        if (typeof v !== 'string') err(p, 'FieldMask must be a string');
        return;
      case 'google.protobuf.Empty':
        if (!isObj(v) || Object.keys(v).length) err(p, 'Empty must be {}');
        return;
    }
    if (name.startsWith('google.protobuf.') && WRAPPER[T.name]) return scalar(WRAPPER[T.name]!, v, p, rules);
    if (!isObj(v)) return err(p, `expected object for ${name}, got ${JSON.stringify(v)}`);
    const byJson = fieldsByJsonName(T);
    const set = new Set<string>();
    for (const [k, fv] of Object.entries(v)) {
      const f = T.fields[k] ?? byJson[k];
      const fp = `${p}/${k}`;
      if (!f) {
        err(fp, `unknown field "${k}" in ${name}`);
        continue;
      }
      if (fv === null) continue;
      if (set.has(f.name)) err(fp, 'field given twice (proto and json name)');
      set.add(f.name);
      if (f.options?.deprecated) warnings.push(`${fp}: deprecated field ${name}.${f.name}`);
      const r = rulesOf(f);
      f.resolve();
      if (f.map) {
        if (!isObj(fv)) {
          err(fp, 'expected object (map)');
          continue;
        }
        const mr = r.map as { min_pairs?: number; values?: Rules } | undefined;
        if (mr?.min_pairs && Object.keys(fv).length < mr.min_pairs)
          err(fp, `map needs >= ${mr.min_pairs} entries`);
        for (const [mk, mv] of Object.entries(fv))
          value(f, f.resolvedType, mv, `${fp}/${mk}`, mr?.values ?? {});
      } else if (f.repeated) {
        const rr = r.repeated as { min_items?: number; max_items?: number; items?: Rules } | undefined;
        if (!Array.isArray(fv)) {
          soft(fp, `single value given for repeated field ${f.name}`);
          value(f, f.resolvedType, fv, fp, rr?.items ?? {});
          continue;
        }
        if (rr?.min_items !== undefined && fv.length < Number(rr.min_items))
          err(fp, `needs >= ${rr.min_items} items`);
        if (rr?.max_items !== undefined && fv.length > Number(rr.max_items))
          err(fp, `needs <= ${rr.max_items} items`);
        fv.forEach((x, i) => value(f, f.resolvedType, x, `${fp}/${i}`, rr?.items ?? {}));
      } else value(f, f.resolvedType, fv, fp, r);
    }
    for (const u of unsetChecksOf(T)) {
      if (set.has(u.field)) continue;
      if (u.required) err(`${p}/${u.field}`, `required field missing in ${name}`);
      if (u.zero) numRules(u.zero, 0, `${p}/${u.field} (unset = 0)`);
    }
    for (const o of T.oneofsArray) {
      if (!o.oneof.some((n) => set.has(n))) {
        if (o.options?.['(validate.required)'])
          err(p, `oneof ${name}.${o.name} is required: set one of ${o.oneof.join(', ')}`);
        continue;
      }
      const present = o.oneof.filter((n) => set.has(n));
      if (present.length > 1) err(p, `oneof ${name}.${o.name}: only one of ${present.join(', ')} may be set`);
    }
  }
  const T = lookupTypeIn(root, type);
  if (!T) return { ok: false, errors: [`unknown message type ${type}`], warnings };
  message(T, obj, '');
  return { ok: errors.length === 0, errors, warnings };
}

/** Types by the name looked up, per root: an `Any`'s `@type` repeats in every resource of a file. */
const typesByName = new WeakMap<protobuf.Root, Map<string, protobuf.Type | undefined>>();
function lookupTypeIn(root: protobuf.Root, name: string): protobuf.Type | undefined {
  let m = typesByName.get(root);
  if (!m) typesByName.set(root, (m = new Map()));
  if (m.has(name)) return m.get(name);
  let t: protobuf.Type | undefined;
  try {
    t = root.lookupType(name);
  } catch {
    t = undefined;
  }
  m.set(name, t);
  return t;
}
