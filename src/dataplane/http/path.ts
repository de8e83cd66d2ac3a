/**
 * The request path as Envoy's HTTP connection manager normalizes it before any filter or route
 * sees it (ConnectionManagerUtility::maybeNormalizePath, source/common/http/path_utility.cc):
 *
 * 1. a path holding a fragment (`#`) is refused (runtime default http_reject_path_with_fragment);
 * 2. path_with_escaped_slashes_action: `%2F`/`%5C` (any case) are kept, or the request is refused,
 *    or they are decoded and the request redirected to (or forwarded with) the decoded path;
 * 3. normalize_path: RFC 3986 normalization as Chromium's URL canonicalizer does it (canonicalPath);
 * 4. merge_slashes: `//` becomes `/`.
 *
 * The path is rewritten in place: route matching, RBAC and the upstream request all see the
 * normalized path, and, unlike a route's rewrite, no x-envoy-original-path records the old one.
 */
import { getHeader, type Headers } from '../codec/http1.js';

type EscapedSlashesAction =
  'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

/** The HTTP connection manager's path settings. */
export interface PathNormalization {
  /** normalize_path */
  normalize: boolean;
  /** merge_slashes */
  mergeSlashes: boolean;
  /** path_with_escaped_slashes_action (IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED) */
  escapedSlashes: EscapedSlashesAction;
}

type Obj = Record<string, unknown>;

/** The HCM fields as the bootstrap writes them (proto field names; BoolValue as a plain bool). */
export function pathNormalizationConfig(h: Obj): PathNormalization {
  const action = h.path_with_escaped_slashes_action;
  return {
    normalize: Boolean(h.normalize_path),
    mergeSlashes: Boolean(h.merge_slashes),
    escapedSlashes:
      typeof action === 'string' && action !== 'IMPLEMENTATION_SPECIFIC_DEFAULT'
        ? (action as EscapedSlashesAction)
        : 'KEEP_UNCHANGED',
  };
}

/** What the connection manager answers instead of running the request, and the stat it counts. */
export interface PathRefusal {
  status: 400 | 307;
  stat: 'downstream_rq_failed_path_normalization' | 'downstream_rq_redirected_with_normalized_path';
  headers: Headers;
}

const REJECT: PathRefusal = { status: 400, stat: 'downstream_rq_failed_path_normalization', headers: [] };

/** Envoy's Grpc::Common::hasGrpcContentType. */
function hasGrpcContentType(h: Headers): boolean {
  const ct = getHeader(h, 'content-type');
  return (
    ct !== undefined &&
    (ct === 'application/grpc' || ct.startsWith('application/grpc+') || ct.startsWith('application/grpc;'))
  );
}

/**
 * Normalizes req.path in place as configured; returns the local reply that replaces the request
 * (400 for a path that cannot be normalized, 307 to the decoded path), or undefined to go on.
 */
export function admitPath(
  req: { path: string; headers: Headers },
  cfg: PathNormalization,
): PathRefusal | undefined {
  const original = req.path;
  if (original.includes('#')) return REJECT;
  // origin-form only: `*` (OPTIONS) and whatever else the codec let through are left as they are
  if (original.charCodeAt(0) !== 0x2f) return undefined;
  let path = original;
  let redirect = false;
  if (cfg.escapedSlashes !== 'KEEP_UNCHANGED') {
    const unescaped = unescapeSlashes(path);
    if (unescaped !== path) {
      if (cfg.escapedSlashes === 'REJECT_REQUEST') return REJECT;
      redirect = cfg.escapedSlashes === 'UNESCAPE_AND_REDIRECT';
      path = unescaped;
    }
  }
  if (cfg.normalize) {
    const canonical = canonicalPath(path);
    if (canonical === undefined) return REJECT;
    path = canonical;
  }
  // after normalization, to catch what percent-decoding makes of slashes
  if (cfg.mergeSlashes) path = mergeSlashes(path);
  req.path = path;
  if (!redirect) return undefined;
  // gRPC clients do not follow redirects
  if (hasGrpcContentType(req.headers)) return REJECT;
  return {
    status: 307,
    stat: 'downstream_rq_redirected_with_normalized_path',
    headers: [['location', path]],
  };
}

/** The path without its query, and the query with its `?` (or ''). */
function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q < 0 ? [path, ''] : [path.slice(0, q), path.slice(q)];
}

/** Does `s` occur in the path before its query? (no allocation: every request asks) */
function inPath(path: string, s: string): boolean {
  const i = path.indexOf(s);
  if (i < 0) return false;
  const q = path.indexOf('?');
  return q < 0 || i < q;
}

/** PathUtil::unescapeSlashes: %2F and %2f become `/`, %5C and %5c `\`, in the path only. */
export function unescapeSlashes(path: string): string {
  if (!inPath(path, '%')) return path;
  const [bare, query] = splitQuery(path);
  return bare.replace(/%2f/gi, '/').replace(/%5c/gi, '\\') + query;
}

/** PathTransformer::mergeSlashes: runs of `/` in the path (not the query) become one. */
export function mergeSlashes(path: string): string {
  if (!inPath(path, '//')) return path;
  const [bare, query] = splitQuery(path);
  const prefix = bare.startsWith('/') ? '/' : '';
  const suffix = bare.endsWith('/') ? '/' : '';
  return (
    prefix +
    bare
      .split('/')
      .filter((s) => s !== '')
      .join('/') +
    suffix +
    query
  );
}

/**
 * PathUtil::canonicalPath: the path (its query kept as is) through Chromium's CanonicalizePath, or
 * undefined when the canonicalizer fails (a NUL, raw or %00).
 */
export function canonicalPath(path: string): string | undefined {
  // most paths: characters the canonicalizer copies, and no dot segment
  if (path.charCodeAt(0) === SLASH && PLAIN.test(path) && !inPath(path, '/.')) return path;
  const [bare, query] = splitQuery(path);
  const canonical = canonicalize(bytesOf(bare));
  return canonical === undefined ? undefined : canonical + query;
}

/** The path's bytes: as received (latin1), or UTF-8 for text beyond latin1. */
function bytesOf(s: string): Uint8Array {
  // eslint-disable-next-line no-control-regex
  return Buffer.from(s, /^[\x00-\xff]*$/.test(s) ? 'latin1' : 'utf8');
}

// Chromium's url_canon_path.cc character classes (the table of Envoy's snapshot).
const SPECIAL = 1;
const ESCAPE = 2 | SPECIAL;
const UNESCAPE = 4;
const INVALID = 8 | SPECIAL;

/** kPathCharLookup: what the canonical path does with each byte (PASS is 0). */
const LOOKUP = ((): Uint8Array => {
  const t = new Uint8Array(256).fill(ESCAPE); // controls, and every byte above 0x7e
  t[0] = INVALID;
  const set = (chars: string, v: number) => {
    for (const c of chars) t[c.charCodeAt(0)] = v;
  };
  set("!$&'()*+,/:;=@[]", 0);
  set('-_~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', UNESCAPE);
  set('.', SPECIAL);
  return t;
})();

/** A path (up to its query) of bytes copied as they are (PASS and UNESCAPE), and dots. */
const PLAIN = /^[A-Za-z0-9\-._~!$&'()*+,/:;=@[\]]*(?:\?|$)/;

const SLASH = 0x2f;
const DOT = 0x2e;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const HEX = '0123456789ABCDEF';

const isSlash = (c: number | undefined): boolean => c === SLASH || c === BACKSLASH;

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** DecodeEscaped: the byte a `%XX` at `at` stands for, or -1. */
function decodeEscaped(s: Uint8Array, at: number, end: number): number {
  if (at + 3 > end) return -1;
  const hi = hexValue(s[at + 1]);
  const lo = hexValue(s[at + 2]);
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** IsDot: the length of a dot at `at` (1 for `.`, 3 for `%2e`/`%2E`), or 0. */
function isDot(s: Uint8Array, at: number, end: number): number {
  if (s[at] === DOT) return 1;
  if (s[at] === PERCENT && at + 3 <= end && s[at + 1] === 0x32 && (s[at + 2]! | 0x20) === 0x65) return 3;
  return 0;
}

const NOT_A_DIRECTORY = 0;
const DIRECTORY_CUR = 1;
const DIRECTORY_UP = 2;

/** ClassifyAfterDot: what the dot before `after` is, and how many more input bytes it takes. */
function classifyAfterDot(s: Uint8Array, after: number, end: number): [number, number] {
  if (after === end) return [DIRECTORY_CUR, 0];
  if (isSlash(s[after])) return [DIRECTORY_CUR, 1];
  const second = isDot(s, after, end);
  if (second) {
    const next = after + second;
    if (next === end) return [DIRECTORY_UP, second];
    if (isSlash(s[next])) return [DIRECTORY_UP, second + 1];
  }
  return [NOT_A_DIRECTORY, 0];
}

/** The canonical output so far: bytes and their count, cut back by `..`. */
interface Output {
  b: Uint8Array;
  n: number;
}

/** BackUpToPreviousSlash: drops the last segment (the output ends with `/`), never the first slash. */
function backUp(o: Output): void {
  let i = o.n - 1;
  if (i === 0) return;
  do i--;
  while (o.b[i] !== SLASH && i > 0);
  o.n = i + 1;
}

function appendEscaped(o: Output, c: number): void {
  o.b[o.n++] = PERCENT;
  o.b[o.n++] = HEX.charCodeAt(c >> 4);
  o.b[o.n++] = HEX.charCodeAt(c & 15);
}

/**
 * CheckForNestedEscapes: a byte just unescaped next to an earlier `%` that began no escape must not
 * make that `%` begin one (`%%30%30` would become `%00` when read again): that `%` becomes `%25`.
 */
function checkNestedEscapes(s: Uint8Array, next: number, end: number, percentAt: number, o: Output): void {
  const length = o.n;
  const last = o.b[length - 1]!;
  const appendNext = percentAt === length - 2;
  if (appendNext) {
    if (next === end || s[next]! >= 0x80) return;
    o.b[o.n++] = s[next]!;
  }
  if (decodeEscaped(o.b, percentAt, o.n) >= 0) {
    if (!appendNext) o.b[o.n++] = o.b[percentAt + 1]!;
    o.b[percentAt + 1] = 0x32;
    o.b[percentAt + 2] = 0x35;
    o.b[o.n++] = last;
  } else if (appendNext) o.n = length;
}

/** A `%` at `i`: decoded, kept, or (not an escape) copied; returns the index of its last byte, or -1 on failure. */
function percent(s: Uint8Array, i: number, end: number, o: Output, invalidAt: { at: number }): number {
  const v = decodeEscaped(s, i, end);
  if (v < 0) {
    // not an escape: kept as is (the permissive behaviour), remembered for nested escapes
    invalidAt.at = o.n;
    o.b[o.n++] = PERCENT;
    return i;
  }
  const flags = LOOKUP[v]!;
  if (flags & UNESCAPE) {
    o.b[o.n++] = v;
    if (invalidAt.at >= o.n - 3) checkNestedEscapes(s, i + 3, end, invalidAt.at, o);
    return i + 2;
  }
  // kept escaped, hex digits as sent (a server may tell their case apart)
  o.b[o.n++] = PERCENT;
  o.b[o.n++] = s[i + 1]!;
  o.b[o.n++] = s[i + 2]!;
  return flags === INVALID ? -1 : i + 2;
}

/** A dot at `i` (`dotlen` bytes): a segment `.` or `..`, or part of a name; returns the last index taken. */
function dot(
  s: Uint8Array,
  i: number,
  dotlen: number,
  end: number,
  o: Output,
  invalidAt: { at: number },
): number {
  if (o.n > 0 && o.b[o.n - 1] === SLASH) {
    const [kind, consumed] = classifyAfterDot(s, i + dotlen, end);
    if (kind === NOT_A_DIRECTORY) {
      o.b[o.n++] = DOT;
      return i + dotlen - 1;
    }
    if (kind === DIRECTORY_UP) {
      backUp(o);
      // as Chromium since: a `%` cut off with its segment is no longer there to check
      if (invalidAt.at >= o.n) invalidAt.at = Number.MIN_SAFE_INTEGER;
    }
    return i + dotlen + consumed - 1;
  }
  o.b[o.n++] = DOT;
  return i + dotlen - 1;
}

/** DoPath: the canonical form of a path (without query), or undefined when it holds a NUL. */
function canonicalize(s: Uint8Array): string | undefined {
  const end = s.length;
  if (end === 0) return '/';
  // every input byte gives at most 3 output bytes; a nested-escape check looks one byte ahead
  const o: Output = { b: new Uint8Array(end * 3 + 2), n: 0 };
  if (!isSlash(s[0])) o.b[o.n++] = SLASH;
  const invalidAt = { at: Number.MIN_SAFE_INTEGER };
  let ok = true;
  for (let i = 0; i < end; i++) {
    const c = s[i]!;
    const flags = LOOKUP[c]!;
    if (!(flags & SPECIAL)) {
      o.b[o.n++] = c;
      continue;
    }
    const dotlen = isDot(s, i, end);
    if (dotlen > 0) i = dot(s, i, dotlen, end, o, invalidAt);
    else if (c === BACKSLASH) o.b[o.n++] = SLASH;
    else if (c === PERCENT) {
      const last = percent(s, i, end, o, invalidAt);
      if (last < 0) {
        ok = false;
        i += 2;
      } else i = last;
    } else {
      appendEscaped(o, c);
      if (flags === INVALID) ok = false;
    }
  }
  return ok ? Buffer.from(o.b.buffer, 0, o.n).toString('latin1') : undefined;
}
