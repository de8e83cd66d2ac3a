/**
 * Strict HTTP/1.1 message parsing for the proxy's hot path: request heads and bodies (downstream),
 * response heads and bodies (upstream). Requests that are malformed or ambiguous to frame
 * (request smuggling: Content-Length with Transfer-Encoding, differing Content-Lengths) are errors.
 */

export type Headers = [string, string][];

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedRequest {
  method: string;
  path: string;
  /** 0: HTTP/1.0, 1: HTTP/1.1, 2: HTTP/2 (a stream, src/dataplane/codec/h2.ts). */
  version: 0 | 1 | 2;
  /** Lower-case names, in order, with values trimmed. */
  headers: Headers;
  /** The whole body, when it came with the head (else empty, and bodyStream carries it). */
  body: Buffer;
  /** A body still arriving when the request was handed over (codec/body.ts). */
  bodyStream: RequestBody | undefined;
  keepAlive: boolean;
}

/** The request body's bytes received so far (%BYTES_RECEIVED%). */
export function bodyBytes(req: ParsedRequest): number {
  return req.bodyStream ? req.bodyStream.received : req.body.length;
}

import { RequestBody, type BodySource } from './body.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

export const MAX_HEADER_BYTES = 60 * 1024;
/** Envoy's per_connection_buffer_limit_bytes default (1 MiB). */
export const DEFAULT_BUFFER_LIMIT = 1024 * 1024;

/** RFC 9110 tchar: 1 for the characters a token (method, header name) may hold. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

/**
 * What a head (without its final CRLFCRLF) may not hold: a control character other than HTAB, or a
 * CR or LF that is not part of a CRLF. RFC 9110 5.5 allows only HTAB, SP, VCHAR and obs-text in a
 * field value, RFC 9112 2.2 only CRLF as a line ending; NGINX and HAProxy refuse the rest too.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BAD_HEAD_BYTE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
/** The same for one line (a chunk-size line, a trailer): any control character other than HTAB. */
// eslint-disable-next-line no-control-regex -- likewise
const BAD_LINE_BYTE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** RFC 9110 Host: uri-host [":" port], where uri-host is an IP literal or a reg-name (no userinfo). */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?$/;

let dateSec = 0;
let dateStr = '';
/** The Date header's value, made once a second. */
export function httpDate(): string {
  const now = Date.now();
  const s = (now / 1000) | 0;
  if (s !== dateSec) {
    dateSec = s;
    dateStr = new Date(now).toUTCString();
  }
  return dateStr;
}

export function getHeader(h: Headers, name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < h.length; i++) {
    const kv = h[i]!;
    if (kv[0] === name) out = out === undefined ? kv[1] : `${out},${kv[1]}`;
  }
  return out;
}

function isToken(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Optional whitespace (RFC 9110 OWS) is SP and HTAB only: String.trim would also take VT, FF, NBSP. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Refuses a head holding a control character or a bare CR or LF (one native scan). */
function checkHeadBytes(head: string, status: number): void {
  const m = BAD_HEAD_BYTE.exec(head);
  if (!m) return;
  const c = m[0].charCodeAt(0);
  throw new HttpError(
    status,
    c === 10 || c === 13 ? 'bare CR or LF in the head' : `control character 0x${c.toString(16)} in the head`,
  );
}

/**
 * Header lines of a head (latin1 text without its final CRLFCRLF, checked by checkHeadBytes), from
 * offset `from` (the start of the first header line). Names lower-cased, values trimmed of SP and
 * HTAB. Obsolete line folding, bad names and more than `maxCount` lines are errors (`status`, or
 * 431 for the count of a request).
 */
function parseHeaderLines(head: string, from: number, maxCount: number, status: number): Headers {
  const headers: Headers = [];
  const n = head.length;
  let i = from;
  while (i < n) {
    let eol = head.indexOf('\r\n', i);
    if (eol < 0) eol = n;
    const c0 = head.charCodeAt(i);
    if (c0 === 32 || c0 === 9) throw new HttpError(status, 'obsolete line folding');
    const colon = head.indexOf(':', i);
    if (colon <= i || colon >= eol) throw new HttpError(status, 'header line without a name');
    if (!isToken(head, i, colon)) throw new HttpError(status, 'invalid header name');
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (head.charCodeAt(ve - 1) === 32 || head.charCodeAt(ve - 1) === 9)) ve--;
    if (headers.length === maxCount) throw new HttpError(status === 400 ? 431 : status, 'too many headers');
    headers.push([head.slice(i, colon).toLowerCase(), head.slice(vs, ve)]);
    i = eol + 2;
  }
  return headers;
}

/** `connection` header values: does the comma-separated list hold `token` (case-insensitive)? */
function connectionHas(h: Headers, token: string): boolean {
  for (let i = 0; i < h.length; i++) {
    const kv = h[i]!;
    if (kv[0] === 'connection' && kv[1].toLowerCase().includes(token)) return true;
  }
  return false;
}

/**
 * Framing of a message body from its headers. A request (status 400) or response (502) with both
 * Content-Length and Transfer-Encoding, differing lengths, or codings other than chunked is refused,
 * as Envoy's codec does (its 501 for codings it does not implement).
 */
function bodyFraming(headers: Headers, isRequest: boolean): { chunked: boolean; length: number } {
  const bad = isRequest ? 400 : 502;
  let te: string | undefined;
  let cl: string | undefined;
  for (const [k, v] of headers) {
    if (k === 'transfer-encoding') te = te === undefined ? v : `${te},${v}`;
    else if (k === 'content-length') {
      if (cl !== undefined && cl !== v) throw new HttpError(bad, 'differing Content-Length headers');
      cl = v;
    }
  }
  if (te !== undefined) {
    if (cl !== undefined) throw new HttpError(bad, 'both Content-Length and Transfer-Encoding');
    const codings = te.split(',').map((x) => trimOws(x).toLowerCase());
    if (codings[codings.length - 1] !== 'chunked')
      throw new HttpError(bad, 'Transfer-Encoding must end with chunked');
    if (codings.length > 1)
      throw new HttpError(isRequest ? 501 : 502, 'only the chunked transfer coding is implemented');
    return { chunked: true, length: -1 };
  }
  if (cl !== undefined) {
    if (cl.includes(',')) {
      const parts = cl.split(',').map(trimOws);
      if (parts.some((x) => x !== parts[0])) throw new HttpError(bad, 'differing Content-Length values');
      cl = parts[0]!;
    }
    if (!/^\d{1,15}$/.test(cl)) throw new HttpError(bad, 'invalid Content-Length');
    return { chunked: false, length: Number(cl) };
  }
  return { chunked: false, length: isRequest ? 0 : -1 };
}

/** A trailer line: a field line as in a head (no folding, a token name, a colon). */
function checkTrailer(line: string): void {
  const c0 = line.charCodeAt(0);
  const colon = line.indexOf(':');
  if (c0 === 32 || c0 === 9 || colon <= 0 || !isToken(line, 0, colon))
    throw new HttpError(400, 'invalid trailer');
}

/** A chunk-size line: 1-8 hex digits, then nothing or OWS ";" extensions. */
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/;

/**
 * A chunked-body decoder over a growing buffer. `decode` returns the bytes it consumed, pushes data
 * into `out`, and sets `done` after the last chunk and trailers. Size lines and trailers end with
 * CRLF; a bare LF or CR, or another control character in them, is an error (RFC 9112 7.1).
 */
export class ChunkedDecoder {
  done = false;
  private remaining = 0; // data bytes left in the current chunk
  private needCrlf = false;
  private inTrailers = false;
  private trailers = 0;
  total = 0;

  decode(buf: Buffer, start: number, out: Buffer[], limit = Infinity): number {
    let i = start;
    while (i < buf.length && !this.done) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, buf.length - i);
        out.push(buf.subarray(i, i + n));
        this.remaining -= n;
        this.total += n;
        if (this.total > limit) throw new HttpError(413, 'body too large');
        i += n;
        if (this.remaining === 0) this.needCrlf = true;
        continue;
      }
      if (this.needCrlf) {
        if (buf.length - i < 2) break;
        if (buf[i] !== 13 || buf[i + 1] !== 10) throw new HttpError(400, 'chunk data not followed by CRLF');
        i += 2;
        this.needCrlf = false;
        continue;
      }
      const lf = buf.indexOf(10, i);
      if (lf < 0) {
        if (buf.length - i > 4096) throw new HttpError(400, 'chunk size line too long');
        break;
      }
      if (lf === i || buf[lf - 1] !== 13) throw new HttpError(400, 'bare LF in a chunked body');
      const line = buf.toString('latin1', i, lf - 1);
      i = lf + 1;
      if (BAD_LINE_BYTE.test(line)) throw new HttpError(400, 'control character in a chunked body');
      if (this.inTrailers) this.trailer(line);
      else this.size(line);
    }
    return i - start;
  }

  private size(line: string): void {
    const m = CHUNK_SIZE.exec(line);
    if (!m) throw new HttpError(400, 'invalid chunk size');
    const n = parseInt(m[1]!, 16);
    if (n === 0) this.inTrailers = true;
    else this.remaining = n;
  }

  private trailer(line: string): void {
    if (line === '') {
      this.done = true;
      return;
    }
    checkTrailer(line);
    if (++this.trailers > 100) throw new HttpError(431, 'too many trailers');
  }
}

/**
 * Limits and timeouts of a downstream connection (HTTP/1; HTTP/2 in codec/h2.ts), from the connection manager's
 * configuration (Envoy's defaults when unset).
 */
export interface CodecLimits {
  /** common_http_protocol_options.max_headers_count: more header lines are refused with 431. */
  maxHeadersCount: number;
  /** max_request_headers_kb, in bytes: a larger request head is refused with 431. */
  maxHeadersBytes: number;
  /** common_http_protocol_options.idle_timeout: a connection with no request for this long is closed (0: never). */
  idleTimeoutMs: number;
  /** request_headers_timeout: from the first byte of a request head to its end, else 408 (0: none). */
  requestHeadersTimeoutMs: number;
  /**
   * drain_timeout: HTTP/2 only, from the shutdown notice (a drain, an idle timeout) to the final
   * GOAWAY (codec/h2-shutdown.ts).
   */
  drainTimeoutMs: number;
  /**
   * The listener's per_connection_buffer_limit_bytes: what a connection holds of a request body
   * before it stops reading (codec/body.ts), and the largest body an upgrade request may carry.
   */
  bufferLimitBytes: number;
}

export const DEFAULT_LIMITS: CodecLimits = {
  maxHeadersCount: 100,
  maxHeadersBytes: 60 * 1024,
  idleTimeoutMs: 3_600_000,
  requestHeadersTimeoutMs: 0,
  drainTimeoutMs: 5000,
  bufferLimitBytes: DEFAULT_BUFFER_LIMIT,
};

interface RequestLine {
  method: string;
  path: string;
  version: 0 | 1;
  /** The authority of an absolute-form target: it replaces the Host header (RFC 9112 3.2.2). */
  authority: string | undefined;
}

/** Parses and checks a request line (without its CRLF). */
function parseRequestLine(rl: string): RequestLine {
  const s1 = rl.indexOf(' ');
  const s2 = rl.lastIndexOf(' ');
  if (s1 <= 0 || s2 === s1) throw new HttpError(400, 'malformed request line');
  const method = rl.slice(0, s1);
  if (!isToken(method, 0, method.length)) throw new HttpError(400, 'invalid method');
  const target = rl.slice(s1 + 1, s2);
  for (let k = 0; k < target.length; k++) {
    const c = target.charCodeAt(k);
    if (c <= 32 || c === 127) throw new HttpError(400, 'invalid request target');
  }
  let version: 0 | 1;
  if (rl.length - s2 === 9 && rl.startsWith('HTTP/1.', s2 + 1) && (rl.endsWith('1') || rl.endsWith('0')))
    version = rl.endsWith('1') ? 1 : 0;
  else throw new HttpError(/^HTTP\/\d\.\d$/.test(rl.slice(s2 + 1)) ? 505 : 400, 'unsupported HTTP version');
  return { method, version, ...requestTarget(method, target) };
}

/**
 * The four forms of RFC 9112 3.2: origin-form (`/path`), absolute-form (`http://host/path`: its
 * path, and its authority for Host), authority-form (`host:port`, CONNECT only) and asterisk-form
 * (`*`, OPTIONS only). Anything else, as Envoy's codec, is a 400.
 */
function requestTarget(method: string, target: string): { path: string; authority: string | undefined } {
  if (method === 'CONNECT') {
    if (!AUTHORITY.test(target) || !/:\d+$/.test(target))
      throw new HttpError(400, 'CONNECT needs an authority-form target');
    return { path: target, authority: undefined };
  }
  if (target.charCodeAt(0) === 47) return { path: target, authority: undefined };
  if (target === '*' && method === 'OPTIONS') return { path: target, authority: undefined };
  const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(target);
  if (!m || !m[1] || !AUTHORITY.test(m[1])) throw new HttpError(400, 'invalid request target');
  const rest = m[2]!;
  return { path: rest.startsWith('/') ? rest : `/${rest}`, authority: m[1] };
}

/**
 * The Host header of a request (RFC 9112 3.2): exactly one, a valid authority; none is refused on
 * HTTP/1.1 unless the target is in absolute form, whose authority replaces it.
 */
function checkHost(headers: Headers, line: RequestLine): void {
  let hosts = 0;
  for (let i = 0; i < headers.length; i++) {
    const kv = headers[i]!;
    if (kv[0] !== 'host') continue;
    if (++hosts > 1) throw new HttpError(400, 'more than one Host header');
    if (!AUTHORITY.test(kv[1])) throw new HttpError(400, 'invalid Host header');
  }
  if (line.authority !== undefined) {
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === 'host') headers.splice(i, 1);
    headers.push(['host', line.authority]);
  } else if (hosts === 0 && line.version === 1) throw new HttpError(400, 'missing Host header');
}

/** The request head ending at `end` (its CRLFCRLF), checked: its line, headers and framing. */
function parseRequestHead(
  buf: Buffer,
  end: number,
  limits: CodecLimits,
): { req: ParsedRequest; framing: { chunked: boolean; length: number } } {
  const head = buf.toString('latin1', 0, end);
  checkHeadBytes(head, 400);
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  const line = parseRequestLine(head.slice(0, eol));
  const headers = parseHeaderLines(head, eol + 2, limits.maxHeadersCount, 400);
  checkHost(headers, line);
  const framing = bodyFraming(headers, true);
  // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing
  if (framing.chunked && line.version === 0) throw new HttpError(400, 'Transfer-Encoding on HTTP/1.0');
  if (line.method === 'CONNECT' && (framing.chunked || framing.length > 0))
    throw new HttpError(400, 'CONNECT with a body');
  const keepAlive =
    line.version === 1 ? !connectionHas(headers, 'close') : connectionHas(headers, 'keep-alive');
  const { method, path, version } = line;
  return { req: { method, path, version, headers, body: EMPTY, bodyStream: undefined, keepAlive }, framing };
}

/**
 * The start of a request head that has not ended yet, checked as far as it goes so that a head that
 * can never be valid is refused at once rather than waited for: its size, bare LFs (LF-only line
 * endings), the method's characters, the request line once it is whole. Returns the request line's
 * state: true once it was checked whole.
 */
function checkPartialHead(buf: Buffer, from: number, lineChecked: boolean, limits: CodecLimits): boolean {
  if (buf.length > limits.maxHeadersBytes) throw new HttpError(431, 'request headers too large');
  for (let p = buf.indexOf(10, from); p >= 0; p = buf.indexOf(10, p + 1))
    if (p === 0 || buf[p - 1] !== 13) throw new HttpError(400, 'bare LF in the head');
  if (lineChecked) return true;
  const eol = buf.indexOf(CRLF);
  if (eol >= 0) {
    const rl = buf.toString('latin1', 0, eol);
    checkHeadBytes(rl, 400);
    parseRequestLine(rl);
    return true;
  }
  for (let k = 0; k < buf.length && buf[k] !== 32; k++)
    if (TCHAR[buf[k]!] === 0) throw new HttpError(400, 'invalid method');
  return false;
}

/**
 * Downstream request parser. Feed it bytes; it returns complete requests one at a time (the
 * connection handles one before asking for the next: pipelined requests wait in the buffer).
 */
export class RequestParser {
  private buf: Buffer | null = null;
  private pending: {
    req: ParsedRequest;
    framing: { chunked: boolean; length: number };
    headEnd: number;
  } | null = null;
  private chunks: Buffer[] = [];
  private decoder: ChunkedDecoder | null = null;
  /** The body of the request handed over at its head, still arriving: the bytes are fed to it. */
  private streaming: RequestBody | null = null;
  /** Of a streamed body with a Content-Length: the bytes still to come. */
  private remaining = 0;
  /** Of a head not ended yet: the bytes checked for bare LFs, and whether its request line was. */
  private scanned = 0;
  private lineChecked = false;
  /** Set when a head with `Expect: 100-continue` waits for its body: the proxy answers 100 itself, as Envoy. */
  expectContinue = false;

  /** `source`: what a streamed body pauses above the buffer limit (the connection's socket). */
  constructor(
    private readonly limits: CodecLimits = DEFAULT_LIMITS,
    private readonly source: BodySource | null = null,
  ) {}

  /** Bytes from the connection: a streamed body's go to it at once, the rest wait in the buffer. */
  push(data: Buffer): void {
    if (this.streaming !== null) {
      data = this.feed(data);
      if (data.length === 0) return;
    }
    this.buf = this.buf && this.buf.length ? Buffer.concat([this.buf, data]) : data;
  }

  get buffered(): number {
    return this.buf ? this.buf.length : 0;
  }

  /** A request was handed over before its body ended, and the body is still arriving. */
  get bodyInProgress(): boolean {
    return this.streaming !== null;
  }

  /** What the connection waits for: a request (nothing buffered), the rest of a head, or a body. */
  get phase(): 'idle' | 'head' | 'body' {
    return this.pending ? 'body' : this.buf && this.buf.length ? 'head' : 'idle';
  }

  /** Hands over the bytes not parsed yet (the first tunnel bytes of an upgraded connection). */
  take(): Buffer | null {
    const b = this.buf;
    this.buf = null;
    return b && b.length ? b : null;
  }

  /**
   * The next request, or null if more bytes are needed. A request whose body has not all arrived
   * comes with a RequestBody (bodyStream) the rest is fed to; an upgrade request waits for its body
   * (up to the buffer limit). Throws HttpError on bad input.
   */
  next(): ParsedRequest | null {
    if (this.streaming !== null) return null;
    if (!this.pending && !this.head()) return null;
    const p = this.pending!;
    const buf = this.buf!;
    const stream = this.source !== null && !isUpgrade(p.req.headers);
    if (p.framing.chunked) {
      const limit = stream ? Infinity : this.limits.bufferLimitBytes;
      const used = this.decoder!.decode(buf, p.headEnd, this.chunks, limit);
      const at = p.headEnd + used;
      if (!this.decoder!.done) {
        // keep undecoded bytes only
        this.buf = buf.subarray(at);
        p.headEnd = 0;
        return stream ? this.startStream(p.req, undefined) : null;
      }
      p.req.body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.finish(buf, at);
      return p.req;
    }
    const total = p.headEnd + p.framing.length;
    if (buf.length < total) {
      if (stream) {
        this.chunks.push(buf.subarray(p.headEnd));
        this.remaining = total - buf.length;
        this.buf = null;
        return this.startStream(p.req, p.framing.length);
      }
      if (p.framing.length > this.limits.bufferLimitBytes) throw new HttpError(413, 'payload too large');
      return null;
    }
    p.req.body = p.framing.length ? buf.subarray(p.headEnd, total) : EMPTY;
    this.finish(buf, total);
    return p.req;
  }

  /** The request, handed over with its body to come: what arrived of it so far goes first. */
  private startStream(req: ParsedRequest, length: number | undefined): ParsedRequest {
    const body = new RequestBody(this.source!, this.limits.bufferLimitBytes, length);
    req.bodyStream = body;
    this.streaming = body;
    this.pending = null;
    for (const c of this.chunks) body.push(c);
    this.chunks = [];
    return req;
  }

  /** Feeds a streamed body; returns the bytes after its end (the next request's). */
  private feed(data: Buffer): Buffer {
    const body = this.streaming!;
    if (this.decoder === null) {
      const n = Math.min(this.remaining, data.length);
      this.remaining -= n;
      body.push(n === data.length ? data : data.subarray(0, n));
      if (this.remaining > 0) return EMPTY;
      this.endStream();
      return data.subarray(n);
    }
    const buf = this.buf && this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const out: Buffer[] = [];
    const used = this.decoder.decode(buf, 0, out);
    this.buf = null;
    for (const c of out) body.push(c);
    if (!this.decoder.done) {
      if (used < buf.length) this.buf = buf.subarray(used);
      return EMPTY;
    }
    this.endStream();
    return buf.subarray(used);
  }

  private endStream(): void {
    const body = this.streaming!;
    this.streaming = null;
    this.finish(null, 0);
    body.end();
  }

  /** Parses the next head once it has ended (true), else checks what came of it (false). */
  private head(): boolean {
    let buf = this.buf;
    if (!buf || buf.length === 0) return false;
    // RFC 9112 2.2: empty lines before a request line are ignored
    let skip = 0;
    while (buf[skip] === 13 && buf[skip + 1] === 10) skip += 2;
    if (skip) {
      this.buf = buf = buf.subarray(skip);
      this.scanned = 0;
      if (buf.length === 0) return false;
    }
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0 || end > this.limits.maxHeadersBytes) {
      this.lineChecked = checkPartialHead(buf, this.scanned, this.lineChecked, this.limits);
      this.scanned = buf.length;
      return false;
    }
    const { req, framing } = parseRequestHead(buf, end, this.limits);
    this.pending = { req, framing, headEnd: end + 4 };
    if (framing.chunked) this.decoder = new ChunkedDecoder();
    this.expectContinue =
      req.version === 1 &&
      (framing.chunked || framing.length > 0) &&
      getHeader(req.headers, 'expect')?.toLowerCase() === '100-continue';
    return true;
  }

  /** The request is whole: the buffer keeps what follows it from `at` (null: already done). */
  private finish(buf: Buffer | null, at: number): void {
    if (buf !== null) this.buf = at >= buf.length ? null : buf.subarray(at);
    this.pending = null;
    this.chunks = [];
    this.decoder = null;
    this.scanned = 0;
    this.lineChecked = false;
  }
}

/** An upgrade request (Connection: upgrade with Upgrade): its body is read whole before the tunnel. */
function isUpgrade(headers: Headers): boolean {
  return getHeader(headers, 'upgrade') !== undefined && connectionHas(headers, 'upgrade');
}

const CODEC_REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/** The response to a request the codec refuses (or a head not received in time), closing the connection. */
export function codecErrorResponse(err: HttpError): string {
  const body = err.status === 431 ? '' : err.status === 408 ? err.message : 'Bad Request';
  return (
    `HTTP/1.1 ${err.status} ${CODEC_REASONS[err.status] ?? 'Bad Request'}\r\ncontent-length: ${body.length}\r\n` +
    `content-type: text/plain\r\nconnection: close\r\n\r\n${body}`
  );
}

/**
 * The timeouts of a downstream HTTP/1 connection, as Envoy's connection manager runs them:
 * `idle_timeout` while no request is in progress (then the connection is closed), and
 * `request_headers_timeout` from the first byte of a request head until the head is whole (then a
 * 408). The connection reports each change of phase; the idle timer is made once per idle period
 * and checked when it fires, so requests on a busy connection cost no timer operations.
 */
export class ConnTimeouts {
  private idleTimer: NodeJS.Timeout | undefined = undefined;
  private idleSince = 0;
  private headTimer: NodeJS.Timeout | undefined = undefined;
  private phase: 'idle' | 'head' | 'body' | 'serving' = 'idle';

  constructor(
    private readonly limits: CodecLimits,
    /** `idle`: close the connection; `head`: answer 408. */
    private readonly onTimeout: (kind: 'idle' | 'head') => void,
  ) {
    this.update('idle');
  }

  update(phase: 'idle' | 'head' | 'body' | 'serving'): void {
    const was = this.phase;
    this.phase = phase;
    if (phase === 'idle') {
      if (was !== 'idle' || this.idleSince === 0) this.idleSince = Date.now();
      if (this.idleTimer === undefined && this.limits.idleTimeoutMs > 0)
        this.idleTimer = setTimeout(this.idleCheck, this.limits.idleTimeoutMs);
    }
    if (phase === 'head') {
      if (this.headTimer === undefined && this.limits.requestHeadersTimeoutMs > 0)
        this.headTimer = setTimeout(this.onTimeout, this.limits.requestHeadersTimeoutMs, 'head');
    } else if (this.headTimer !== undefined) {
      clearTimeout(this.headTimer);
      this.headTimer = undefined;
    }
  }

  clear(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.headTimer);
    this.idleTimer = this.headTimer = undefined;
    this.phase = 'serving';
  }

  private readonly idleCheck = (): void => {
    this.idleTimer = undefined;
    if (this.phase !== 'idle') return; // armed again when the connection is next idle
    const left = this.idleSince + this.limits.idleTimeoutMs - Date.now();
    if (left > 0) this.idleTimer = setTimeout(this.idleCheck, left);
    else this.onTimeout('idle');
  };
}

export interface ResponseHead {
  status: number;
  reason: string;
  version: 0 | 1;
  headers: Headers;
}

/** The most header lines a response may have (Envoy's default max_headers_count upstream). */
const MAX_RESPONSE_HEADERS = 100;

/** A response head (without its CRLFCRLF): `HTTP/1.x NNN[ reason]` and header lines; errors are 502. */
function parseResponseHead(head: string): ResponseHead {
  checkHeadBytes(head, 502);
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  const sl = head.slice(0, eol);
  const c9 = sl.charCodeAt(9);
  const c10 = sl.charCodeAt(10);
  const c11 = sl.charCodeAt(11);
  if (
    !sl.startsWith('HTTP/1.') ||
    (sl.charCodeAt(7) !== 48 && sl.charCodeAt(7) !== 49) ||
    sl.charCodeAt(8) !== 32 ||
    !(c9 >= 48 && c9 <= 57 && c10 >= 48 && c10 <= 57 && c11 >= 48 && c11 <= 57) ||
    (sl.length > 12 && sl.charCodeAt(12) !== 32)
  )
    throw new HttpError(502, 'malformed upstream status line');
  return {
    status: (c9 - 48) * 100 + (c10 - 48) * 10 + (c11 - 48),
    reason: sl.length > 13 ? sl.slice(13) : '',
    version: sl.charCodeAt(7) === 49 ? 1 : 0,
    headers: parseHeaderLines(head, eol + 2, MAX_RESPONSE_HEADERS, 502),
  };
}

/**
 * Upstream response parser: calls onHead, onData (decoded body bytes) and onEnd. A response
 * without framing ends when the connection closes (`eof()`).
 */
export class ResponseParser {
  private buf: Buffer | null = null;
  private state: 'head' | 'length' | 'chunked' | 'eof' | 'done' = 'head';
  private remaining = 0;
  private decoder: ChunkedDecoder | null = null;
  noBody = false; // set for HEAD requests
  keepAlive = true;

  constructor(
    private readonly onHead: (h: ResponseHead) => void,
    private readonly onData: (b: Buffer) => void,
    private readonly onEnd: () => void,
    /** Pushed bytes are only valid during push: what stays buffered is copied. */
    private readonly transient = false,
  ) {}

  reset(noBody: boolean): void {
    this.state = 'head';
    this.noBody = noBody;
    this.buf = null;
    this.keepAlive = true;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  push(data: Buffer): void {
    this.buf = this.buf && this.buf.length ? Buffer.concat([this.buf, data]) : data;
    this.run();
  }

  /** The connection closed: ends a body delimited by close; true if the message was complete. */
  eof(): boolean {
    if (this.state === 'eof') {
      this.state = 'done';
      this.onEnd();
      return true;
    }
    return this.state === 'done';
  }

  private run(): void {
    if (this.state === 'done') {
      this.keepAlive = false;
      this.buf = null;
      return;
    }
    let buf = this.buf!;
    while (buf.length && this.state !== 'done') {
      if (this.state === 'head') {
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (buf.length > MAX_HEADER_BYTES) throw new HttpError(502, 'upstream response headers too large');
          break;
        }
        const h = parseResponseHead(buf.toString('latin1', 0, end));
        buf = buf.subarray(end + 4);
        if (h.status >= 100 && h.status < 200) continue; // 100 Continue and friends
        this.keepAlive =
          h.version === 1 ? !connectionHas(h.headers, 'close') : connectionHas(h.headers, 'keep-alive');
        // framing is checked before the head is passed on: a bad one is a protocol error (502),
        // not a response cut short after its head went downstream
        const f = bodyFraming(h.headers, false);
        this.onHead(h);
        if (this.noBody || h.status === 204 || h.status === 304) {
          this.state = 'done';
        } else if (f.chunked) {
          this.state = 'chunked';
          this.decoder = new ChunkedDecoder();
        } else if (f.length >= 0) {
          this.state = f.length ? 'length' : 'done';
          this.remaining = f.length;
        } else {
          this.state = 'eof';
          this.keepAlive = false;
        }
        if (this.state === 'done') break;
      } else if (this.state === 'length') {
        const n = Math.min(this.remaining, buf.length);
        this.onData(n === buf.length ? buf : buf.subarray(0, n));
        this.remaining -= n;
        buf = buf.subarray(n);
        if (this.remaining === 0) this.state = 'done';
      } else if (this.state === 'chunked') {
        const out: Buffer[] = [];
        const used = this.decoder!.decode(buf, 0, out);
        for (const b of out) this.onData(b);
        buf = buf.subarray(used);
        if (this.decoder!.done) this.state = 'done';
        else if (used === 0) break;
      } else if (this.state === 'eof') {
        this.onData(buf);
        buf = buf.subarray(buf.length);
      }
    }
    this.buf = buf.length ? (this.transient ? Buffer.from(buf) : buf) : null;
    if (this.state === 'done') {
      if (this.buf) this.keepAlive = false; // unexpected extra bytes: do not reuse
      this.buf = null;
      this.onEnd();
    }
  }
}
