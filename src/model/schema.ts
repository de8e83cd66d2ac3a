import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type Ajv2020Module from 'ajv/dist/2020.js';
import { diagnostic, joinPointer, splitPointer, type Diagnostic } from './diagnostics.js';
import { describeLocation } from './describe.js';
import { closest } from './nearest.js';

const require = createRequire(import.meta.url);
/** The mesh format's JSON Schema (draft 2020-12): the one source of truth for the shape of a mesh. */
export const meshSchema: Record<string, unknown> = require('../../schemas/mesh.schema.json');

type AjvClass = typeof Ajv2020Module.default;

/** Kept equal to scripts/build-validator.mjs, which precompiles the schema for the built package. */
const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, verbose: true } as const;

// the build precompiles the validator (dist/model/mesh-validator.js); run from sources, ajv compiles it
// (ajv is loaded only then: importing it would cost every run of the built CLI about 50 ms)
let compiled: ValidateFunction | undefined = await import(
  /* @vite-ignore */ new URL('./mesh-validator.js', import.meta.url).href
).then(
  (m: { default: ValidateFunction }) => m.default,
  () => undefined,
);
function validator(): ValidateFunction {
  if (compiled) return compiled;
  const module = require('ajv/dist/2020.js') as { default?: AjvClass };
  const Ajv2020 = (module.default ?? module) as AjvClass;
  return (compiled = new Ajv2020(AJV_OPTIONS).compile(meshSchema));
}

/** Checks the shape of a parsed document against the schema; returns diagnostics with pointers. */
export function checkSchema(value: unknown): Diagnostic[] {
  const notMesh = checkIsMesh(value);
  if (notMesh) return [notMesh];
  const validate = validator();
  if (validate(value)) return [];
  return toDiagnostics(validate.errors ?? [], value);
}

function checkIsMesh(value: unknown): Diagnostic | undefined {
  const hint = 'a mesh file starts with `apiVersion: meshgen.io/v1alpha1` and `kind: Mesh`';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'a list' : `a ${typeof value === 'string' ? 'string' : 'scalar'}`;
    return diagnostic('MG1004', `this is not a meshgen Mesh: the document is ${what}, not a mapping`, {
      pointer: '',
      hint,
    });
  }
  const doc = value as Record<string, unknown>;
  const apiVersion = doc.apiVersion;
  if (doc.kind !== 'Mesh' || typeof apiVersion !== 'string' || !apiVersion.startsWith('meshgen.io/')) {
    const found =
      doc.kind !== undefined || apiVersion !== undefined
        ? ` (found ${[apiVersion, doc.kind].filter((x) => x !== undefined).join(' ')})`
        : '';
    return diagnostic('MG1004', `this is not a meshgen Mesh${found}`, {
      pointer: doc.kind !== undefined ? '/kind' : doc.apiVersion !== undefined ? '/apiVersion' : '',
      hint,
    });
  }
  return undefined;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function toDiagnostics(errors: ErrorObject[], doc: unknown): Diagnostic[] {
  // anyOf branches report their own errors too: keep the anyOf error alone for its path
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  // a wrong type says everything about its path: drop what else is said about it and below it
  const typePaths = errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath)) continue;
    if (
      e.keyword !== 'type' &&
      typePaths.some((p) => e.instancePath === p || e.instancePath.startsWith(p + '/'))
    )
      continue;
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    const d = e.propertyName !== undefined ? keyDiagnostic(e, doc) : toDiagnostic(e, doc);
    const key = `${d.code}|${d.pointer}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** A mapping key that its field's `propertyNames` refuses (a header name, a label key...): at the key. */
function keyDiagnostic(e: ErrorObject, doc: unknown): Diagnostic {
  const key = e.propertyName!;
  const where = describeLocation(doc, e.instancePath);
  const description = (e.parentSchema as { description?: string })?.description;
  const problem =
    e.keyword === 'maxLength'
      ? `is longer than ${String((e.params as { limit: number }).limit)} characters`
      : 'is not a valid key';
  return diagnostic('MG1015', `${where}: the key ${JSON.stringify(key)} ${problem}`, {
    pointer: joinPointer(e.instancePath, key),
    hint: description,
  });
}

/**
 * A field the schema does not know (ajv's `additionalProperties`), at the field, with the nearest
 * known name or the list of them: for meshes (MG1010) and test files (MG6002) alike.
 */
export function unknownFieldDiagnostic(code: 'MG1010' | 'MG6002', e: ErrorObject, where: string): Diagnostic {
  const field = String((e.params as { additionalProperty?: unknown }).additionalProperty);
  const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
  const near = closest(field, allowed);
  return diagnostic(code, `unknown field "${field}" in ${where}`, {
    pointer: joinPointer(e.instancePath, field),
    hint: near
      ? `did you mean "${near}"?`
      : allowed.length
        ? `known fields: ${allowed.join(', ')}`
        : undefined,
  });
}

function toDiagnostic(e: ErrorObject, doc: unknown): Diagnostic {
  const at = e.instancePath;
  const where = describeLocation(doc, at);
  const value = valueAt(doc, at);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownFieldDiagnostic('MG1010', e, where);
    case 'required':
      return diagnostic(
        'MG1011',
        `${where} is missing the required field "${String(params.missingProperty)}"`,
        {
          pointer: at,
        },
      );
    case 'type':
      return diagnostic(
        'MG1012',
        `${where} must be ${String(params.type)
          .split(',')
          .map((t) => TYPE_NAMES[t] ?? t)
          .join(' or ')}, not ${describeValue(value)}`,
        { pointer: at },
      );
    case 'enum':
      return diagnostic(
        'MG1013',
        `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(value)}`,
        { pointer: at },
      );
    case 'const':
      return diagnostic(
        'MG1013',
        `${where} must be ${JSON.stringify(params.allowedValue)}, not ${describeValue(value)}`,
        {
          pointer: at,
        },
      );
    case 'anyOf':
      return diagnostic('MG1013', `${where}: ${describeValue(value)} is not allowed`, {
        pointer: at,
        hint: anyOfHint(e),
      });
    case 'pattern':
      return patternDiagnostic(e, where, value);
    case 'minItems':
      return diagnostic('MG1014', `${where} needs at least ${String(params.limit)} item(s)`, { pointer: at });
    case 'minProperties':
    case 'maxProperties':
      return diagnostic('MG1014', `${where} ${exactlyOneText(e)}`, { pointer: at });
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return diagnostic(
        'MG1014',
        `${where} must be ${String(params.comparison)} ${String(params.limit)}, not ${describeValue(value)}`,
        {
          pointer: at,
        },
      );
    case 'minLength':
      return diagnostic('MG1014', `${where} must not be empty`, { pointer: at });
    case 'maxLength':
      return diagnostic('MG1014', `${where} must be at most ${String(params.limit)} characters long`, {
        pointer: at,
      });
    default:
      return diagnostic('MG1014', `${where} ${e.message ?? 'is invalid'}`, { pointer: at });
  }
}

function patternDiagnostic(e: ErrorObject, where: string, value: unknown): Diagnostic {
  const at = e.instancePath;
  const ref = e.schemaPath;
  if (ref.includes('/duration/'))
    return diagnostic('MG2006', `${where}: ${describeValue(value)} is not a duration`, {
      pointer: at,
      hint: 'write <number><unit> in decreasing units h, m, s, ms: 250ms, 1.5s, 1m30s',
    });
  if (ref.includes('/name/'))
    return diagnostic('MG1014', `${where}: ${describeValue(value)} is not a DNS-1123 label`, {
      pointer: at,
      hint: "use lower-case letters, digits and '-', starting and ending with a letter or digit",
    });
  if (ref.includes('/endpoint/'))
    return diagnostic('MG2019', `${where}: ${describeValue(value)} is not an endpoint`, {
      pointer: at,
      hint: 'write ipv4:port, [ipv6]:port or hostname:port',
    });
  const description = (e.parentSchema as { description?: string })?.description;
  return diagnostic('MG1014', `${where}: ${describeValue(value)} is not valid`, {
    pointer: at,
    hint: description,
  });
}

function exactlyOneText(e: ErrorObject): string {
  const props = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
  if (e.keyword === 'maxProperties' && (e.params as { limit: number }).limit === 1)
    return `takes exactly one of ${props.join(', ')}`;
  return props.length ? `needs one of ${props.join(', ')}` : 'must not be empty';
}

function anyOfHint(e: ErrorObject): string | undefined {
  const branches = (e.schema as { enum?: unknown[]; description?: string }[]) ?? [];
  const parts = branches.map((b) => (b.enum ? b.enum.join(', ') : (b.description ?? '')));
  return parts.length ? `allowed: ${parts.filter(Boolean).join('; or ')}` : undefined;
}

function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const token of splitPointer(pointer)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[token];
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}
