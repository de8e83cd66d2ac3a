import { readFileSync } from 'node:fs';
import { DEFAULT_BUFFER_LIMIT } from '../codec/http1.js';
import { safeRegex } from '../regex.js';
import type { PathError } from './supported.js';

/** Helpers and types shared by the proto areas: addresses, matchers, header operations, durations. */

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SockAddr {
  host: string;
  port: number;
}

/** A string matcher compiled to a predicate. */
export type StrMatch = (s: string) => boolean;

export interface HeaderMatch {
  name: string;
  /** undefined: present_match. */
  test?: StrMatch;
  present?: boolean;
  invert: boolean;
}

export interface HeaderOps {
  add: {
    key: string;
    value: string;
    action:
      'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
  }[];
  remove: string[];
}

/** The Http2ProtocolOptions the proxy honours (unset: Envoy's defaults). */
export interface Http2Settings {
  maxConcurrentStreams: number;
  initialStreamWindowSize: number;
  initialConnectionWindowSize: number;
  hpackTableSize: number;
}

/** Envoy's defaults for Http2ProtocolOptions. */
export function http2Settings(o: Obj | undefined): Http2Settings {
  return {
    hpackTableSize: Number(o?.hpack_table_size ?? 4096),
    maxConcurrentStreams: Number(o?.max_concurrent_streams ?? 2147483647),
    initialStreamWindowSize: Number(o?.initial_stream_window_size ?? 268435456),
    initialConnectionWindowSize: Number(o?.initial_connection_window_size ?? 268435456),
  };
}

export interface AccessLogConfig {
  /** A file path, or '/dev/stdout' / '/dev/stderr'. */
  path: string;
}

/** per_connection_buffer_limit_bytes (a UInt32Value) of a listener or cluster: 1 MiB when unset, as Envoy. */
export function bufferLimitBytes(v: unknown): number {
  return v === undefined || v === null ? DEFAULT_BUFFER_LIMIT : Number(v);
}

/** Parses "1.5s" (a proto Duration) to milliseconds. */
export function durationMs(d: unknown, dflt: number): number {
  if (typeof d !== 'string') return dflt;
  return Math.round(parseFloat(d.slice(0, -1)) * 1000);
}

const DENOM: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

export function fraction(fp: Obj | undefined, dflt = 1): number {
  if (!fp) return dflt;
  return Number(fp.numerator ?? 0) / (DENOM[fp.denominator ?? 'HUNDRED'] ?? 100);
}

export function sockAddr(a: Obj | undefined, p: string, errors: PathError[]): SockAddr {
  const s = a?.socket_address as Obj | undefined;
  if (!s) {
    errors.push({ path: p, message: 'a socket_address is required' });
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: String(s.address ?? ''), port: Number(s.port_value ?? 0) };
}

export function accessLogs(list: Obj[] | undefined, p: string, errors: PathError[]): AccessLogConfig[] {
  return (list ?? []).map((a, i) => {
    const t = a.typed_config?.['@type'] as string | undefined;
    if (t === 'envoy.extensions.access_loggers.file.v3.FileAccessLog')
      return { path: String(a.typed_config.path) };
    if (t === 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog') return { path: '/dev/stdout' };
    if (t === 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog') return { path: '/dev/stderr' };
    errors.push({ path: `${p}/${i}`, message: 'an access log needs a typed_config' });
    return { path: '/dev/null' };
  });
}

export function stringMatcher(m: Obj, p: string, errors: PathError[]): StrMatch {
  const ic = Boolean(m.ignore_case);
  const norm = ic ? (s: string) => s.toLowerCase() : (s: string) => s;
  if (m.exact !== undefined) {
    const v = norm(String(m.exact));
    return (s) => norm(s) === v;
  }
  if (m.prefix !== undefined) {
    const v = norm(String(m.prefix));
    return (s) => norm(s).startsWith(v);
  }
  if (m.suffix !== undefined) {
    const v = norm(String(m.suffix));
    return (s) => norm(s).endsWith(v);
  }
  if (m.contains !== undefined) {
    const v = norm(String(m.contains));
    return (s) => norm(s).includes(v);
  }
  if (m.safe_regex) {
    const re = safeRegex(m.safe_regex.regex, `${p}/safe_regex/regex`, errors);
    return (s) => re.test(s);
  }
  errors.push({ path: p, message: 'a string matcher needs exact, prefix, suffix, contains or safe_regex' });
  return () => false;
}

/**
 * A configured string as the codecs read header bytes: each byte of its UTF-8 form as one latin1
 * character. Envoy compares and writes header values as bytes; a value with non-ASCII characters
 * must match, and reach the upstream as, the same bytes.
 */
function wireString(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

const STRING_MATCH_LITERALS = ['exact', 'prefix', 'suffix', 'contains'] as const;

export function headerMatcher(h: Obj, p: string, errors: PathError[]): HeaderMatch {
  const name = String(h.name).toLowerCase();
  const invert = Boolean(h.invert_match);
  const lit = (v: unknown) => wireString(String(v));
  if (h.present_match !== undefined) return { name, present: Boolean(h.present_match), invert };
  if (h.exact_match !== undefined) {
    const v = lit(h.exact_match);
    return { name, test: (s) => s === v, invert };
  }
  if (h.prefix_match !== undefined) {
    const v = lit(h.prefix_match);
    return { name, test: (s) => s.startsWith(v), invert };
  }
  if (h.suffix_match !== undefined) {
    const v = lit(h.suffix_match);
    return { name, test: (s) => s.endsWith(v), invert };
  }
  if (h.contains_match !== undefined) {
    const v = lit(h.contains_match);
    return { name, test: (s) => s.includes(v), invert };
  }
  if (h.safe_regex_match) {
    const re = safeRegex(h.safe_regex_match.regex, `${p}/safe_regex_match/regex`, errors);
    return { name, test: (s) => re.test(s), invert };
  }
  if (h.string_match) {
    const m = { ...(h.string_match as Obj) };
    for (const k of STRING_MATCH_LITERALS) if (m[k] !== undefined) m[k] = lit(m[k]);
    return { name, test: stringMatcher(m, `${p}/string_match`, errors), invert };
  }
  // no match specifier: Envoy treats the header as present_match
  return { name, present: true, invert };
}

function headerOps(o: Obj, p: string, errors: PathError[]): HeaderOps {
  const add = ((o.request_headers_to_add ?? o.response_headers_to_add ?? []) as Obj[]).map((hv, i) => {
    const key = String(hv.header?.key ?? '').toLowerCase();
    if (!key) errors.push({ path: `${p}/${i}/header/key`, message: 'header key is required' });
    let action = (hv.append_action ?? 'APPEND_IF_EXISTS_OR_ADD') as HeaderOps['add'][number]['action'];
    if (hv.append === false) action = 'OVERWRITE_IF_EXISTS_OR_ADD';
    return { key, value: wireString(String(hv.header?.value ?? '')), action };
  });
  const remove = ((o.request_headers_to_remove ?? o.response_headers_to_remove ?? []) as string[]).map((s) =>
    s.toLowerCase(),
  );
  return { add, remove };
}

export function opsPair(o: Obj, p: string, errors: PathError[]): { request: HeaderOps; response: HeaderOps } {
  return {
    request: headerOps(
      {
        request_headers_to_add: o.request_headers_to_add,
        request_headers_to_remove: o.request_headers_to_remove,
      },
      `${p}/request_headers_to_add`,
      errors,
    ),
    response: headerOps(
      {
        response_headers_to_add: o.response_headers_to_add,
        response_headers_to_remove: o.response_headers_to_remove,
      },
      `${p}/response_headers_to_add`,
      errors,
    ),
  };
}

/** The files read during one conversion, by name: each is read once (every cluster names the CA). */
let filesRead: Map<string, string | Error> | undefined;

/**
 * Runs one conversion (synchronous) reading each file a DataSource names once: 10,000 clusters
 * that name the same CA read it once, as the same text.
 */
export function readingEachFileOnce<T>(convert: () => T): T {
  const outer = filesRead;
  filesRead ??= new Map();
  try {
    return convert();
  } finally {
    filesRead = outer;
  }
}

function readOnce(file: string): string | Error {
  let got = filesRead?.get(file);
  if (got === undefined) {
    try {
      got = readFileSync(file, 'utf8');
    } catch (e) {
      got = e as Error;
    }
    filesRead?.set(file, got);
  }
  return got;
}

export function dataSource(d: Obj | undefined, p: string, errors: PathError[]): string | undefined {
  if (!d) return undefined;
  if (d.inline_string !== undefined) return String(d.inline_string);
  if (d.inline_bytes !== undefined) return Buffer.from(String(d.inline_bytes), 'base64').toString();
  if (d.filename !== undefined) {
    const got = readOnce(String(d.filename));
    if (typeof got === 'string') return got;
    errors.push({ path: `${p}/filename`, message: `cannot read ${d.filename}: ${got.message}` });
  }
  return undefined;
}
