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
  /** 0: HTTP/1.0, 1: HTTP/1.1, 2: HTTP/2 (a stream, src/dataplane/h2.ts). */
  version: 0 | 1 | 2;
  /** Lower-case names, in order, with values trimmed. */
  headers: Headers;
  body: Buffer;
  keepAlive: boolean;
  /** Bytes on the wire (head + body). */
  wireBytes: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

export const MAX_HEADER_BYTES = 60 * 1024;
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** RFC 9110 tchar: 1 for the characters a token (method, header name) may hold. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

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

/**
 * Header lines of a head (latin1 text without its final CRLFCRLF), from offset `from` (the start of
 * the first header line). Names lower-cased, values trimmed. Bare CR or LF, obsolete line folding,
 * bad names and NUL/DEL/CR/LF in values are errors.
 */
function parseHeaderLines(head: string, from: number): Headers {
  const suspect = !cleanHead(head);
  const headers: Headers = [];
  const n = head.length;
  let i = from;
  while (i < n) {
    let eol = head.indexOf('\r\n', i);
    if (eol < 0) eol = n;
    if (eol === i) {
      i += 2;
      continue;
    }
    const c0 = head.charCodeAt(i);
    if (c0 === 32 || c0 === 9) throw new HttpError(400, 'obsolete line folding');
    const colon = head.indexOf(':', i);
    if (colon < 0 || colon >= eol) {
      if (head.indexOf('\n', i) < eol || head.indexOf('\r', i) < eol)
        throw new HttpError(400, 'bare CR or LF in the head');
      throw new HttpError(400, 'header line without a name');
    }
    if (colon === i) throw new HttpError(400, 'header line without a name');
    if (!isToken(head, i, colon)) {
      for (let k = i; k < colon; k++) {
        const c = head.charCodeAt(k);
        if (c === 10 || c === 13) throw new HttpError(400, 'bare CR or LF in the head');
      }
      throw new HttpError(400, 'invalid header name');
    }
    // value: trimmed of spaces and tabs; NUL, CR, LF and DEL refused (checkHead found none, or this
    // line is where it is)
    let vs = colon + 1;
    let ve = eol;
    if (suspect)
      for (let k = vs; k < ve; k++) {
        const c = head.charCodeAt(k);
        if (c === 0 || c === 127) throw new HttpError(400, 'invalid header value');
        if (c === 10 || c === 13) throw new HttpError(400, 'bare CR or LF in the head');
      }
    while (vs < ve && (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (head.charCodeAt(ve - 1) === 32 || head.charCodeAt(ve - 1) === 9)) ve--;
    headers.push([head.slice(i, colon).toLowerCase(), head.slice(vs, ve)]);
    i = eol + 2;
  }
  return headers;
}

/**
 * True when a head has no bare CR or LF and no NUL or DEL (native scans: the common case costs no
 * per-character loop); false sends the parser through its per-line checks, which say where.
 */
function cleanHead(head: string): boolean {
  let p = -1;
  while ((p = head.indexOf('\n', p + 1)) >= 0) if (p === 0 || head.charCodeAt(p - 1) !== 13) return false;
  p = -1;
  while ((p = head.indexOf('\r', p + 1)) >= 0) if (head.charCodeAt(p + 1) !== 10) return false;
  return head.indexOf('\0') < 0 && head.indexOf('\x7f') < 0;
}

/** The first line of a head: up to the first CRLF; a bare CR or LF in it is an error. */
function firstLine(head: string): string {
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  for (let k = 0; k < eol; k++) {
    const c = head.charCodeAt(k);
    if (c === 10 || c === 13) throw new HttpError(400, 'bare CR or LF in the head');
  }
  return eol === head.length ? head : head.slice(0, eol);
}

/** `connection` header values: does the comma-separated list hold `token` (case-insensitive)? */
function connectionHas(h: Headers, token: string): boolean {
  for (let i = 0; i < h.length; i++) {
    const kv = h[i]!;
    if (kv[0] === 'connection' && kv[1].toLowerCase().includes(token)) return true;
  }
  return false;
}

/** Framing of a message body from its headers. */
function bodyFraming(headers: Headers, isRequest: boolean): { chunked: boolean; length: number } {
  let te: string | undefined;
  let cl: string | undefined;
  for (const [k, v] of headers) {
    if (k === 'transfer-encoding') te = te === undefined ? v : `${te},${v}`;
    else if (k === 'content-length') {
      if (cl !== undefined && cl !== v) throw new HttpError(400, 'differing Content-Length headers');
      cl = v;
    }
  }
  if (te !== undefined) {
    if (cl !== undefined && isRequest) throw new HttpError(400, 'both Content-Length and Transfer-Encoding');
    const codings = te.split(',').map((s) => s.trim().toLowerCase());
    if (codings[codings.length - 1] !== 'chunked')
      throw new HttpError(isRequest ? 400 : 502, 'Transfer-Encoding must end with chunked');
    if (codings.length > 1) throw new HttpError(501, 'only the chunked transfer coding is implemented');
    return { chunked: true, length: -1 };
  }
  if (cl !== undefined) {
    if (cl.includes(',')) {
      const parts = cl.split(',').map((s) => s.trim());
      if (parts.some((x) => x !== parts[0])) throw new HttpError(400, 'differing Content-Length values');
      cl = parts[0]!;
    }
    if (!/^\d{1,15}$/.test(cl)) throw new HttpError(400, 'invalid Content-Length');
    return { chunked: false, length: Number(cl) };
  }
  return { chunked: false, length: isRequest ? 0 : -1 };
}

/**
 * A chunked-body decoder over a growing buffer. `decode` returns the bytes it consumed, pushes data
 * into `out`, and sets `done` after the last chunk and trailers.
 */
export class ChunkedDecoder {
  done = false;
  private remaining = 0; // data bytes left in the current chunk
  private needCrlf = false;
  private inTrailers = false;
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
      const eol = buf.indexOf('\r\n', i, 'latin1');
      if (eol < 0) {
        if (buf.length - i > 4096) throw new HttpError(400, 'chunk size line too long');
        break;
      }
      const line = buf.toString('latin1', i, eol);
      i = eol + 2;
      if (this.inTrailers) {
        if (line === '') this.done = true;
        else if (line.indexOf(':') <= 0) throw new HttpError(400, 'invalid trailer');
        continue;
      }
      const semi = line.indexOf(';');
      const size = semi < 0 ? line : line.slice(0, semi);
      if (!/^[0-9A-Fa-f]{1,8}$/.test(size)) throw new HttpError(400, 'invalid chunk size');
      const n = parseInt(size, 16);
      if (n === 0) this.inTrailers = true;
      else this.remaining = n;
    }
    return i - start;
  }
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
  /** Set when a head with `Expect: 100-continue` waits for its body: the proxy answers 100 itself, as Envoy. */
  expectContinue = false;

  push(data: Buffer): void {
    this.buf = this.buf && this.buf.length ? Buffer.concat([this.buf, data]) : data;
  }

  get buffered(): number {
    return this.buf ? this.buf.length : 0;
  }

  /** Hands over the bytes not parsed yet (the first tunnel bytes of an upgraded connection). */
  take(): Buffer | null {
    const b = this.buf;
    this.buf = null;
    return b && b.length ? b : null;
  }

  /** The next complete request, or null if more bytes are needed. Throws HttpError on bad input. */
  next(): ParsedRequest | null {
    const buf = this.buf;
    if (!buf || buf.length === 0) return null;
    if (!this.pending) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > MAX_HEADER_BYTES) throw new HttpError(431, 'request headers too large');
        return null;
      }
      if (end > MAX_HEADER_BYTES) throw new HttpError(431, 'request headers too large');
      const head = buf.toString('latin1', 0, end);
      const rl = firstLine(head);
      const s1 = rl.indexOf(' ');
      const s2 = rl.lastIndexOf(' ');
      if (s1 <= 0 || s2 === s1) throw new HttpError(400, 'malformed request line');
      const method = rl.slice(0, s1);
      const path = rl.slice(s1 + 1, s2);
      if (!isToken(method, 0, method.length)) throw new HttpError(400, 'invalid method');
      if (!path) throw new HttpError(400, 'invalid request target');
      for (let k = 0; k < path.length; k++) {
        const c = path.charCodeAt(k);
        if (c <= 32 || c === 127) throw new HttpError(400, 'invalid request target');
      }
      let version: 0 | 1;
      if (rl.length - s2 === 9 && rl.startsWith('HTTP/1.', s2 + 1)) {
        const v = rl.charCodeAt(s2 + 8);
        if (v === 49) version = 1;
        else if (v === 48) version = 0;
        else throw new HttpError(505, 'unsupported HTTP version');
      } else throw new HttpError(rl.startsWith('HTTP/', s2 + 1) ? 505 : 400, 'unsupported HTTP version');
      const headers = parseHeaderLines(head, rl.length + 2);
      const framing = bodyFraming(headers, true);
      if (framing.length > MAX_BODY_BYTES) throw new HttpError(413, 'payload too large');
      const keepAlive =
        version === 1 ? !connectionHas(headers, 'close') : connectionHas(headers, 'keep-alive');
      if (version === 1 && getHeader(headers, 'host') === undefined)
        throw new HttpError(400, 'missing Host header');
      const req: ParsedRequest = { method, path, version, headers, body: EMPTY, keepAlive, wireBytes: 0 };
      this.pending = { req, framing, headEnd: end + 4 };
      if (framing.chunked) this.decoder = new ChunkedDecoder();
      this.expectContinue =
        version === 1 &&
        (framing.chunked || framing.length > 0) &&
        getHeader(headers, 'expect')?.toLowerCase() === '100-continue';
    }
    const p = this.pending;
    if (p.framing.chunked) {
      const used = this.decoder!.decode(buf, p.headEnd, this.chunks, MAX_BODY_BYTES);
      const at = p.headEnd + used;
      if (!this.decoder!.done) {
        // keep undecoded bytes only
        this.buf = buf.subarray(at);
        p.req.wireBytes += at;
        p.headEnd = 0;
        return null;
      }
      p.req.body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      p.req.wireBytes += at;
      this.finish(buf, at);
      return p.req;
    }
    const total = p.headEnd + p.framing.length;
    if (buf.length < total) return null;
    p.req.body = p.framing.length ? buf.subarray(p.headEnd, total) : EMPTY;
    p.req.wireBytes = total;
    this.finish(buf, total);
    return p.req;
  }

  private finish(buf: Buffer, at: number): void {
    this.buf = at >= buf.length ? null : buf.subarray(at);
    this.pending = null;
    this.chunks = [];
    this.decoder = null;
  }
}

const EMPTY = Buffer.alloc(0);

export interface ResponseHead {
  status: number;
  reason: string;
  version: 0 | 1;
  headers: Headers;
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
        const head = buf.toString('latin1', 0, end);
        const sl = firstLine(head);
        // HTTP/1.x NNN[ reason]
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
        const status = (c9 - 48) * 100 + (c10 - 48) * 10 + (c11 - 48);
        const headers = parseHeaderLines(head, sl.length + 2);
        buf = buf.subarray(end + 4);
        if (status >= 100 && status < 200) continue; // 100 Continue and friends
        const version = sl.charCodeAt(7) === 49 ? 1 : 0;
        this.keepAlive =
          version === 1 ? !connectionHas(headers, 'close') : connectionHas(headers, 'keep-alive');
        const reason = sl.length > 13 ? sl.slice(13) : '';
        this.onHead({ status, reason, version, headers });
        if (this.noBody || status === 204 || status === 304) {
          this.state = 'done';
        } else {
          const f = bodyFraming(headers, false);
          if (f.chunked) {
            this.state = 'chunked';
            this.decoder = new ChunkedDecoder();
          } else if (f.length >= 0) {
            this.state = f.length ? 'length' : 'done';
            this.remaining = f.length;
          } else {
            this.state = 'eof';
            this.keepAlive = false;
          }
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
