import type protobuf from 'protobufjs';
import { lookupType } from '../../envoy/check.js';
import { protobufjs } from '../../envoy/protos.js';

/**
 * Envoy's MessageUtil::redact (source/common/protobuf/utility.cc), which /config_dump applies to
 * everything it prints: a field marked `[(udpa.annotations.sensitive) = true]` in Envoy's protos
 * (a TlsCertificate's private_key, password and pkcs12, a generic secret, session ticket keys, a
 * private key provider's config, …), and every field inside it, loses its value: strings and bytes
 * become "[redacted]", other scalars are cleared. `Any` and TypedStruct are opened by their type
 * URL, so a secret inside a transport socket's typed_config is found too. The marks are read from
 * the same protos the bootstrap was checked against, so no list here can fall behind them.
 */

const REDACTED = '[redacted]';
/** bytes print as base64 in proto3 JSON: Envoy's "[redacted]" bytes read so in its config dump. */
const REDACTED_BYTES = Buffer.from(REDACTED).toString('base64');
const TYPED_STRUCT = new Set(['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A copy of a bootstrap (proto3 JSON or YAML as written) with its sensitive fields redacted. */
export function redactBootstrap(raw: unknown): unknown {
  return redactMessage('envoy.config.bootstrap.v3.Bootstrap', raw);
}

/** A copy of a message of the type named (a Listener, a Cluster...) with its sensitive fields redacted. */
export function redactMessage(type: string, raw: unknown): unknown {
  const T = lookupType(type);
  return T ? message(T, raw, false) : raw;
}

function isSensitive(f: protobuf.Field): boolean {
  return f.options?.['(udpa.annotations.sensitive)'] === true;
}

function typeOfUrl(url: unknown): protobuf.Type | undefined {
  return typeof url === 'string' ? lookupType(url.slice(url.lastIndexOf('/') + 1)) : undefined;
}

/** A message's JSON value, redacted below a sensitive field (or everywhere under `sensitive`). */
function message(T: protobuf.Type, v: unknown, sensitive: boolean): unknown {
  if (!isObj(v)) return sensitive ? scalar('string', v) : v;
  const name = T.fullName.slice(1);
  if (name === 'google.protobuf.Any') {
    const inner = typeOfUrl(v['@type']);
    if (!inner) return v;
    // a well-known type packed in an Any keeps its JSON under "value"
    if (inner.fullName.startsWith('.google.protobuf.') && 'value' in v)
      return { ...v, value: message(inner, v.value, sensitive) };
    const { '@type': url, ...rest } = v;
    return { '@type': url, ...(message(inner, rest, sensitive) as Obj) };
  }
  if (TYPED_STRUCT.has(name)) {
    const inner = typeOfUrl(v.type_url ?? v.typeUrl);
    if (inner && isObj(v.value)) return { ...v, value: message(inner, v.value, sensitive) };
  }
  if (
    name === 'google.protobuf.Struct' ||
    name === 'google.protobuf.Value' ||
    name === 'google.protobuf.ListValue'
  )
    return sensitive ? json(v) : v;
  const fields = byName(T);
  const out: Obj = {};
  for (const [k, fv] of Object.entries(v)) {
    const f = fields[k];
    if (!f) {
      out[k] = fv; // nothing unknown gets past the proto check; kept rather than dropped
      continue;
    }
    const r = field(f, fv, sensitive || isSensitive(f));
    if (r !== undefined) out[k] = r;
  }
  return out;
}

/** A field's value; undefined when it is cleared. */
function field(f: protobuf.Field, v: unknown, sensitive: boolean): unknown {
  f.resolve();
  const T = f.resolvedType instanceof protobufjs().Type ? f.resolvedType : undefined;
  const one = (x: unknown) => (T ? message(T, x, sensitive) : sensitive ? scalar(f.type, x) : x);
  if (f.map && isObj(v)) {
    // as Envoy: the values of a map are redacted, its keys kept
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      const r = one(x);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  if (Array.isArray(v)) {
    const out = v.map(one);
    return out.some((x) => x === undefined) ? undefined : out;
  }
  return one(v);
}

/** A sensitive scalar: strings and bytes become "[redacted]", anything else is cleared. */
function scalar(type: string, v: unknown): unknown {
  if (type === 'bytes') return REDACTED_BYTES;
  if (type === 'string' || typeof v === 'string') return REDACTED;
  return undefined;
}

/** Struct, Value and ListValue under a sensitive field: every string redacted, other leaves cleared. */
function json(v: unknown): unknown {
  if (typeof v === 'string') return REDACTED;
  if (Array.isArray(v)) return v.map(json);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]));
  return null;
}

const names = new WeakMap<protobuf.Type, Record<string, protobuf.Field>>();
/** A message's fields by proto name and by JSON (lowerCamelCase) name, as a bootstrap may use either. */
function byName(T: protobuf.Type): Record<string, protobuf.Field> {
  let m = names.get(T);
  if (!m) {
    m = {};
    for (const f of T.fieldsArray) {
      m[f.name] = f;
      m[protobufjs().util.camelCase(f.name)] = f;
    }
    names.set(T, m);
  }
  return m;
}
