import jsyaml from 'js-yaml';
import { fitted } from './lists.js';

/**
 * A fast loader for the YAML that mesh files are made of, giving exactly the value js-yaml's
 * `loadAll(text, null, { schema: CORE_SCHEMA })` gives for the single document, or undefined when the
 * text uses anything outside the subset it reads, so that the caller falls back to js-yaml (which
 * also gives every error message and position).
 *
 * The subset: one document, optionally after a `---` line; block mappings and block sequences
 * indented with spaces (compact `- key: value` items, nested `- - x`, a sequence at its key's
 * indent); flow mappings and sequences that open and close on one line, nested; plain,
 * single-quoted and double-quoted scalars on one line; comments and blank lines; LF or CRLF line
 * ends. Plain scalars are typed by js-yaml's own core-schema resolvers (null, bool, int, float, in
 * that order), and non-string keys are turned into strings as js-yaml does.
 *
 * It gives up on tabs outside quoted scalars and comments, anchors, aliases, tags, block scalars,
 * explicit `?` keys, directives, a second document or `...`, any scalar or flow collection that goes
 * on to another line, duplicate keys, a `__proto__` key, characters js-yaml rejects, deep nesting,
 * and anything else it does not follow to the letter. It never throws.
 *
 * `dialect` reads the same subset as another parser would: its own scalar resolution and the
 * errors it adds to js-yaml's (see `FastDialect`).
 */
export function fastLoad(text: string, dialect: FastDialect = JS_YAML): { value: unknown } | undefined {
  try {
    const value = new Parser(text, dialect).document();
    return { value };
  } catch {
    // Bail, or anything unexpected (a stack overflow included): js-yaml decides
    return undefined;
  }
}

interface Resolver {
  resolve(data: string): boolean;
  construct(data: string): unknown;
}
const TYPES = (jsyaml as unknown as { types: Record<'null' | 'bool' | 'int' | 'float', Resolver> }).types;
const NULL_TYPE = TYPES.null;
const BOOL_TYPE = TYPES.bool;
const INT_TYPE = TYPES.int;
const FLOAT_TYPE = TYPES.float;

/**
 * First characters of a plain scalar that may resolve to something other than a string: 1 where
 * only null or bool can match (`~ n N t T f F`), 2 where only int or float can (`- + . 0-9`).
 */
const CANDIDATE = new Uint8Array(128);
for (const c of '~nNtTfF') CANDIDATE[c.charCodeAt(0)] = 1;
for (const c of '-+.0123456789') CANDIDATE[c.charCodeAt(0)] = 2;

/** The value of a plain scalar under the core schema, as js-yaml's implicit resolvers give it. */
export function resolvePlain(raw: string): unknown {
  const c = raw.charCodeAt(0);
  const kind = c < 128 ? CANDIDATE[c] : 0;
  if (kind === 0) return raw;
  if (kind === 1) {
    if (NULL_TYPE.resolve(raw)) return NULL_TYPE.construct(raw);
    if (BOOL_TYPE.resolve(raw)) return BOOL_TYPE.construct(raw);
    return raw;
  }
  if (INT_TYPE.resolve(raw)) return INT_TYPE.construct(raw);
  if (FLOAT_TYPE.resolve(raw)) return FLOAT_TYPE.construct(raw);
  return raw;
}

/** A plain mapping key: resolved like a value, then turned into a string, as js-yaml stores keys. */
function plainKey(raw: string): string {
  const c = raw.charCodeAt(0);
  if (c >= 128 || CANDIDATE[c] === 0) return raw;
  const v = resolvePlain(raw);
  return typeof v === 'string' ? v : String(v);
}

/**
 * How another parser reads the subset: the value of a plain scalar, a plain key's property name,
 * and, when `strict`, what the `yaml` package refuses where js-yaml does not (a comment right after
 * a quoted scalar or a flow collection, a `:` inside a plain scalar of a flow collection, an
 * implicit key of more than 1,024 characters): the parse gives up on them.
 */
export interface FastDialect {
  readonly plain: (raw: string) => unknown;
  readonly key: (raw: string) => string;
  readonly strict: boolean;
}

const JS_YAML: FastDialect = { plain: resolvePlain, key: plainKey, strict: false };

/** The longest implicit key a strict dialect reads (the `yaml` package allows 1,024 characters to its `:`). */
const MAX_STRICT_KEY = 1000;

class Bail {}
const BAIL = new Bail();
function bail(): never {
  throw BAIL;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const DOT = 0x2e;
const COMMA = 0x2c;
const QUESTION = 0x3f;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const KEY_CACHE_SIZE = 512;
const VALUE_CACHE_SIZE = 1024;

/** Nesting of collections beyond which it gives up (js-yaml's own limit is 100 nodes deep). */
const MAX_DEPTH = 50;

/** Characters that cannot start a plain scalar (js-yaml's readPlainScalar), besides white space. */
const NOT_PLAIN_START = new Uint8Array(128);
for (const c of ',[]{}#&*!|>\'"%@`') NOT_PLAIN_START[c.charCodeAt(0)] = 1;

/**
 * How a plain scalar's scan treats each ASCII character: 0 content, 1 a space, 2 a colon, 3 a `#`,
 * 4 a flow indicator (ending the scalar in a flow collection), 5 give up (tabs, control characters,
 * DEL).
 */
const BLOCK_STOP = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) BLOCK_STOP[c] = 5;
BLOCK_STOP[0x7f] = 5;
BLOCK_STOP[SPACE] = 1;
BLOCK_STOP[COLON] = 2;
BLOCK_STOP[HASH] = 3;
const FLOW_STOP = BLOCK_STOP.slice();
for (const c of ',[]{}') FLOW_STOP[c.charCodeAt(0)] = 4;

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

/** YAML 1.2 double-quoted escapes as js-yaml reads them (x, u and U aside). */
const ESCAPES: (string | undefined)[] = [];
for (const [c, v] of [
  ['0', '\x00'],
  ['a', '\x07'],
  ['b', '\x08'],
  ['t', '\x09'],
  ['\t', '\x09'],
  ['n', '\x0a'],
  ['v', '\x0b'],
  ['f', '\x0c'],
  ['r', '\x0d'],
  ['e', '\x1b'],
  [' ', ' '],
  ['"', '"'],
  ['/', '/'],
  ['\\', '\\'],
  ['N', '\x85'],
  ['_', '\xa0'],
  ['L', '\u2028'],
  ['P', '\u2029'],
] as const)
  ESCAPES[c.charCodeAt(0)] = v;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

const hasOwn = Object.prototype.hasOwnProperty;

function keyHash(s: string, p: number, end: number): number {
  return (s.charCodeAt(p) * 31 + s.charCodeAt(end - 1) * 7 + end - p) & (KEY_CACHE_SIZE - 1);
}

/** Whether s holds the same len characters at p and at q (quicker than slicing and comparing). */
function sameText(s: string, p: number, q: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (s.charCodeAt(p + k) !== s.charCodeAt(q + k)) return false;
  return true;
}

/**
 * Strings read from the text, by a hash of their text: each with where its text stands in the
 * text and its length (0: none), so that a match is checked inside the one large string.
 */
class TextCache<T> {
  readonly items: T[];
  readonly pos: Int32Array;
  readonly len: Int32Array;
  constructor(size: number, empty: T) {
    this.items = new Array<T>(size).fill(empty);
    this.pos = new Int32Array(size);
    this.len = new Int32Array(size);
  }
}

function store(obj: Record<string, unknown>, key: string, value: unknown): void {
  // js-yaml rejects duplicate keys (let it say so) and defines `__proto__` as an own property
  if (key === '__proto__' || hasOwn.call(obj, key)) bail();
  obj[key] = value;
}

class Parser {
  private readonly s: string;
  private readonly n: number;
  /** Start of the next line not yet read. */
  private next = 0;
  /** The current content line: its start, indent (-1 past the end), first non-space and end (before CR LF). */
  private ls = 0;
  private ind = -1;
  private cs = 0;
  private le = 0;
  /** Where the last scalar or flow collection ended (for a plain scalar: where the scan stopped). */
  private end = 0;
  /** Just past the colon of the key last read by `keyAt`. */
  private afterColon = 0;
  private depth = 0;
  /** Plain keys read in block and in flow context (a block key may hold flow indicators). */
  private readonly keys = new TextCache<string>(KEY_CACHE_SIZE, '');
  private readonly flowKeys = new TextCache<string>(KEY_CACHE_SIZE, '');
  private readonly values = new TextCache<unknown>(VALUE_CACHE_SIZE, null);

  private readonly plainOf: (raw: string) => unknown;
  private readonly keyOf: (raw: string) => string;
  private readonly strict: boolean;

  constructor(text: string, dialect: FastDialect) {
    this.s = text;
    this.n = text.length;
    this.plainOf = dialect.plain;
    this.keyOf = dialect.key;
    this.strict = dialect.strict;
  }

  document(): unknown {
    const s = this.s;
    if (s.charCodeAt(0) === 0xfeff || s.indexOf('\u0000') !== -1) bail();
    // a CR is a line break of its own for js-yaml: only CR LF line ends are read here
    for (let r = s.indexOf('\r'); r !== -1; r = s.indexOf('\r', r + 2))
      if (s.charCodeAt(r + 1) !== LF) bail();
    this.advance(true);
    if (this.ind === 0 && s.startsWith('---', this.cs)) {
      // `---` opening the document, alone on its line (a comment may follow); js-yaml takes any line
      // starting with `---` here as the marker, whatever follows
      if (!this.isMarker(this.cs, DASH)) bail();
      const q = this.skipSpaces(this.cs + 3);
      if (q < this.le && !(q > this.cs + 3 && this.s.charCodeAt(q) === HASH)) bail();
      this.advance(false);
    }
    if (this.ind < 0) bail();
    const value = this.rootNode(this.cs);
    if (this.ind !== -1) bail(); // more after the root node: an error or another document
    return value;
  }

  private rootNode(p: number): unknown {
    const s = this.s;
    if (this.isSeqItem(p)) return this.blockSeq(p);
    const c = s.charCodeAt(p);
    if (c === DQUOTE || c === SQUOTE) {
      const key = this.quoted(p);
      const q = this.skipSpaces(this.end);
      if (q < this.le && s.charCodeAt(q) === COLON && this.isSpaceOrEnd(q + 1)) {
        if (this.strict && q - p > MAX_STRICT_KEY) bail();
        return this.blockMap(p, key, q + 1);
      }
      bail();
    }
    if (c === LBRACKET || c === LBRACE) bail();
    const last = this.plain(p, false);
    if (this.end < this.le && s.charCodeAt(this.end) === COLON)
      return this.blockMap(p, this.key(p, last, false), this.end + 1);
    return bail(); // a scalar document
  }

  /** `---` or `...` at position p, followed by white space or the end of the line. */
  private isMarker(p: number, c: number): boolean {
    const s = this.s;
    return (
      s.charCodeAt(p) === c &&
      s.charCodeAt(p + 1) === c &&
      s.charCodeAt(p + 2) === c &&
      (p + 3 >= this.le || s.charCodeAt(p + 3) === SPACE || s.charCodeAt(p + 3) === TAB)
    );
  }

  /** Moves to the next line holding content (not blank, not only a comment). */
  private advance(first: boolean): void {
    const s = this.s;
    const n = this.n;
    let p = this.next;
    while (p < n) {
      let nl = s.indexOf('\n', p);
      if (nl === -1) nl = n;
      let q = p;
      while (s.charCodeAt(q) === SPACE) q++;
      let le = nl;
      if (le > q && s.charCodeAt(le - 1) === CR) le--;
      if (q >= le) {
        p = nl + 1;
        continue;
      }
      const c = s.charCodeAt(q);
      if (c === HASH) {
        p = nl + 1;
        continue;
      }
      if (c === TAB) bail();
      this.ls = p;
      this.ind = q - p;
      this.cs = q;
      this.le = le;
      this.next = nl + 1;
      // a document marker, or a plain scalar starting like one: not read here
      if (q === p && (c === DASH || c === DOT) && s.charCodeAt(q + 1) === c && s.charCodeAt(q + 2) === c) {
        if (!(first && c === DASH)) bail();
      }
      return;
    }
    this.ind = -1;
    this.ls = this.cs = this.le = this.next = n;
  }

  private skipSpaces(p: number): number {
    const s = this.s;
    const le = this.le;
    while (p < le && s.charCodeAt(p) === SPACE) p++;
    return p;
  }

  private isSpaceOrEnd(p: number): boolean {
    return p >= this.le || this.s.charCodeAt(p) === SPACE;
  }

  private isSeqItem(p: number): boolean {
    return this.s.charCodeAt(p) === DASH && this.isSpaceOrEnd(p + 1);
  }

  /**
   * The node that starts at p on the current line, inside a block collection: a block sequence or
   * mapping that starts here (compact, or on its own line), or a scalar or flow collection that ends
   * on this line. Leaves the current line at the first content line after the node.
   */
  private blockNode(p: number): unknown {
    const s = this.s;
    const c = s.charCodeAt(p);
    if (c === DASH && this.isSpaceOrEnd(p + 1)) return this.blockSeq(p);
    if (c === LBRACKET || c === LBRACE) {
      const v = this.flow(p);
      this.endLine(this.end);
      return v;
    }
    if (c === DQUOTE || c === SQUOTE) {
      const str = this.quoted(p);
      const q = this.skipSpaces(this.end);
      if (q < this.le && s.charCodeAt(q) === COLON && this.isSpaceOrEnd(q + 1)) {
        if (this.strict && q - p > MAX_STRICT_KEY) bail();
        return this.blockMap(p, str, q + 1);
      }
      this.endLine(q);
      return str;
    }
    const known = this.knownKey(p, false);
    if (known !== undefined) return this.blockMap(p, known, this.end + 1);
    const last = this.plain(p, false);
    if (this.end < this.le && s.charCodeAt(this.end) === COLON)
      return this.blockMap(p, this.key(p, last, false), this.end + 1);
    this.endLine(this.end);
    return this.plainValue(p, last);
  }

  /** A value on its key's line: a scalar or a flow collection, and nothing more but a comment. */
  private inlineValue(p: number): unknown {
    const c = this.s.charCodeAt(p);
    let v: unknown;
    if (c === LBRACKET || c === LBRACE) v = this.flow(p);
    else if (c === DQUOTE || c === SQUOTE) v = this.quoted(p);
    else v = this.plainValue(p, this.plain(p, false));
    this.endLine(this.end);
    return v;
  }

  /** Only spaces and a comment may follow position p on the line; then moves to the next line. */
  private endLine(p: number): void {
    const q = this.skipSpaces(p);
    // after a quoted scalar or a flow collection js-yaml takes `#` as a comment even without a space
    if (q < this.le && this.s.charCodeAt(q) !== HASH) bail();
    if (this.strict && q < this.le && this.s.charCodeAt(q - 1) !== SPACE) bail();
    this.advance(false);
  }

  /**
   * The plain key from p to end, as a string. Keys repeat (every backend has a `name`), so the
   * string is taken from a small cache when the text matches: a string already used as a property
   * name is stored again without being hashed and looked up.
   */
  private key(p: number, end: number, inFlow: boolean): string {
    const s = this.s;
    const len = end - p;
    const cache = inFlow ? this.flowKeys : this.keys;
    const h = keyHash(s, p, end);
    if (cache.len[h] === len && sameText(s, p, cache.pos[h]!, len)) return cache.items[h]!;
    if (this.strict && this.end - p > MAX_STRICT_KEY) bail();
    const raw = s.slice(p, end);
    const key = this.keyOf(raw);
    if (key === raw) {
      cache.items[h] = key;
      cache.pos[h] = p;
      cache.len[h] = len;
    }
    return key;
  }

  /**
   * A plain key read before, taken without scanning: when the text from p up to the next `:` on the
   * line is a key the cache holds, and white space (or in a flow collection, a flow indicator)
   * follows the colon. A cached key was scanned in the same context, so nothing in it would have
   * stopped the scan earlier, and it resolves to itself. Sets `end` at the colon.
   */
  private knownKey(p: number, inFlow: boolean): string | undefined {
    const s = this.s;
    const colon = s.indexOf(':', p);
    if (colon <= p || colon >= this.le) return undefined;
    const len = colon - p;
    const cache = inFlow ? this.flowKeys : this.keys;
    const h = keyHash(s, p, colon);
    if (cache.len[h] !== len || !sameText(s, p, cache.pos[h]!, len)) return undefined;
    const d = colon + 1 < this.le ? s.charCodeAt(colon + 1) : SPACE;
    if (!(d === SPACE || (inFlow && isFlowIndicator(d)))) return undefined;
    this.end = colon;
    return cache.items[h];
  }

  /** The value of the plain scalar from p to end; from a small cache too (values repeat as well). */
  private plainValue(p: number, end: number): unknown {
    const s = this.s;
    const len = end - p;
    const h =
      (s.charCodeAt(p) * 31 + s.charCodeAt(end - 1) * 7 + s.charCodeAt((p + end) >> 1) * 3 + len) &
      (VALUE_CACHE_SIZE - 1);
    const cache = this.values;
    if (cache.len[h] === len && sameText(s, p, cache.pos[h]!, len)) return cache.items[h];
    const v = this.plainOf(s.slice(p, end));
    cache.items[h] = v;
    cache.pos[h] = p;
    cache.len[h] = len;
    return v;
  }

  /** A block mapping whose first key starts at column `p - ls` and has been read up to its colon. */
  private blockMap(p: number, firstKey: string, afterColon: number): Record<string, unknown> {
    if (++this.depth > MAX_DEPTH) bail();
    const s = this.s;
    const ind = p - this.ls;
    const obj: Record<string, unknown> = {};
    let key = firstKey;
    let after = afterColon;
    for (;;) {
      const q = this.skipSpaces(after);
      let v: unknown;
      if (q >= this.le || s.charCodeAt(q) === HASH) {
        // nothing on the key's line: a node below it, a sequence at the key's indent, or null
        this.advance(false);
        if (this.ind > ind) v = this.blockNode(this.cs);
        else if (this.ind === ind && this.isSeqItem(this.cs)) v = this.blockSeq(this.cs);
        else v = null;
      } else {
        v = this.inlineValue(q);
      }
      store(obj, key, v);
      if (this.ind !== ind) {
        if (this.ind > ind) bail();
        this.depth--;
        return obj;
      }
      key = this.keyAt(this.cs);
      after = this.afterColon;
    }
  }

  /** A mapping key at p, up to and past its colon (`afterColon`). */
  private keyAt(p: number): string {
    const s = this.s;
    const c = s.charCodeAt(p);
    if (c === DQUOTE || c === SQUOTE) {
      const key = this.quoted(p);
      const q = this.skipSpaces(this.end);
      if (!(q < this.le && s.charCodeAt(q) === COLON && this.isSpaceOrEnd(q + 1))) bail();
      if (this.strict && q - p > MAX_STRICT_KEY) bail();
      this.afterColon = q + 1;
      return key;
    }
    if (c === LBRACKET || c === LBRACE) bail();
    const known = this.knownKey(p, false);
    if (known !== undefined) {
      this.afterColon = this.end + 1;
      return known;
    }
    const last = this.plain(p, false);
    if (!(this.end < this.le && s.charCodeAt(this.end) === COLON)) bail();
    this.afterColon = this.end + 1;
    return this.key(p, last, false);
  }

  /** A block sequence whose first `-` is at p. */
  private blockSeq(p: number): unknown[] {
    if (++this.depth > MAX_DEPTH) bail();
    const s = this.s;
    const ind = p - this.ls;
    const arr: unknown[] = [];
    let dash = p;
    for (;;) {
      const q = this.skipSpaces(dash + 1);
      let v: unknown;
      if (q >= this.le || s.charCodeAt(q) === HASH) {
        this.advance(false);
        if (this.ind > ind) v = this.blockNode(this.cs);
        else {
          v = null;
          // js-yaml goes on with this sequence at the next `- ` even when it is less indented
          if (this.ind >= 0 && this.ind < ind && this.isSeqItem(this.cs)) bail();
        }
      } else {
        v = this.blockNode(q);
      }
      arr.push(v);
      if (this.ind !== ind) {
        if (this.ind > ind) bail();
        break;
      }
      if (!this.isSeqItem(this.cs)) break; // the mapping around a sequence at its key's indent goes on
      dash = this.cs;
    }
    this.depth--;
    return fitted(arr);
  }

  /** A flow sequence or mapping opening at p and closing on the same line; `end` is set past it. */
  private flow(p: number): unknown {
    if (++this.depth > MAX_DEPTH) bail();
    const s = this.s;
    let i = p + 1;
    if (s.charCodeAt(p) === LBRACKET) {
      const arr: unknown[] = [];
      for (;;) {
        i = this.skipSpaces(i);
        if (i >= this.le) bail();
        let c = s.charCodeAt(i);
        if (c === RBRACKET) break;
        if (c === COMMA) bail();
        arr.push(this.flowNode(i));
        i = this.skipSpaces(this.end);
        if (i >= this.le) bail();
        c = s.charCodeAt(i);
        if (c === COMMA) i++;
        else if (c !== RBRACKET) bail(); // a `key: value` pair in a sequence among others
      }
      this.end = i + 1;
      this.depth--;
      return fitted(arr);
    }
    const obj: Record<string, unknown> = {};
    for (;;) {
      i = this.skipSpaces(i);
      if (i >= this.le) bail();
      let c = s.charCodeAt(i);
      if (c === RBRACE) break;
      if (c === COMMA || c === LBRACKET || c === LBRACE) bail();
      const key =
        c === DQUOTE || c === SQUOTE
          ? this.quoted(i)
          : (this.knownKey(i, true) ?? this.key(i, this.plain(i, true), true));
      i = this.skipSpaces(this.end);
      if (i >= this.le) bail();
      let v: unknown = null;
      if (s.charCodeAt(i) === COLON) {
        i = this.skipSpaces(i + 1);
        if (i >= this.le) bail();
        c = s.charCodeAt(i);
        if (c !== COMMA && c !== RBRACE) {
          v = this.flowNode(i);
          i = this.skipSpaces(this.end);
          if (i >= this.le) bail();
        }
      }
      store(obj, key, v);
      c = s.charCodeAt(i);
      if (c === COMMA) i++;
      else if (c !== RBRACE) bail();
    }
    this.end = i + 1;
    this.depth--;
    return obj;
  }

  private flowNode(p: number): unknown {
    const c = this.s.charCodeAt(p);
    if (c === LBRACKET || c === LBRACE) return this.flow(p);
    if (c === DQUOTE || c === SQUOTE) return this.quoted(p);
    return this.plainValue(p, this.plain(p, true));
  }

  /**
   * A plain scalar starting at p, on this line: its text, white space at the end trimmed. `end` is
   * set where the scan stopped: the end of the line, a `#` starting a comment, a `:` ending a key,
   * or (in a flow collection) a flow indicator.
   */
  private plain(p: number, inFlow: boolean): number {
    const s = this.s;
    const le = this.le;
    const c0 = s.charCodeAt(p);
    if (c0 < 128 && NOT_PLAIN_START[c0] === 1) bail();
    if (c0 === DASH || c0 === QUESTION || c0 === COLON) {
      // `- ` is a sequence entry, `? ` an explicit key, `: ` an empty key: not plain scalars
      const d = p + 1 < le ? s.charCodeAt(p + 1) : SPACE;
      if (d === SPACE || d === TAB || (inFlow && isFlowIndicator(d))) bail();
    }
    const stops = inFlow ? FLOW_STOP : BLOCK_STOP;
    let i = p;
    let last = p;
    for (; i < le; i++) {
      const c = s.charCodeAt(i);
      if (c < 128) {
        const k = stops[c];
        if (k === 0) {
          last = i + 1;
          continue;
        }
        if (k === 1) continue; // a space
        if (k === 2) {
          // `:` ends the scalar before white space (or, in a flow collection, a flow indicator)
          const d = i + 1 < le ? s.charCodeAt(i + 1) : SPACE;
          if (d === SPACE || (inFlow && isFlowIndicator(d))) break;
          if (d === TAB || (inFlow && this.strict)) bail();
        } else if (k === 3) {
          // `#` starts a comment after white space
          if (s.charCodeAt(i - 1) === SPACE) break;
        } else if (k === 4) {
          break; // a flow indicator, in a flow collection
        } else {
          bail(); // tabs and control characters, which js-yaml rejects in a plain scalar (or reads otherwise)
        }
      } else if ((c <= 0x9f && c !== 0x85) || c === 0xfffe || c === 0xffff) {
        bail();
      } else if (c >= 0xd800 && c <= 0xdfff) {
        // a surrogate pair, nothing unpaired
        const d = s.charCodeAt(i + 1);
        if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff) || i + 1 >= le) bail();
        i++;
      }
      last = i + 1;
    }
    this.end = i;
    if (last === p) bail();
    return last;
  }

  /** A single- or double-quoted scalar starting at p and closing on this line; `end` is set past it. */
  private quoted(p: number): string {
    const s = this.s;
    const le = this.le;
    let out = '';
    let start = p + 1;
    let i = start;
    if (s.charCodeAt(p) === SQUOTE) {
      for (;;) {
        if (i >= le) bail();
        const c = s.charCodeAt(i);
        if (c === SQUOTE) {
          if (i + 1 < le && s.charCodeAt(i + 1) === SQUOTE) {
            out += s.slice(start, i + 1);
            i += 2;
            start = i;
            continue;
          }
          break;
        }
        if (c < 0x20 && c !== TAB) bail();
        i++;
      }
    } else {
      for (;;) {
        if (i >= le) bail();
        const c = s.charCodeAt(i);
        if (c === DQUOTE) break;
        if (c === BACKSLASH) {
          out += s.slice(start, i);
          i++;
          if (i >= le) bail(); // an escaped line break: the scalar goes on
          const e = s.charCodeAt(i);
          const simple = e < 128 ? ESCAPES[e] : undefined;
          if (simple !== undefined) {
            out += simple;
            i++;
          } else {
            const len = e === 0x78 ? 2 : e === 0x75 ? 4 : e === 0x55 ? 8 : 0;
            if (len === 0) bail();
            let cp = 0;
            for (let k = 0; k < len; k++) {
              i++;
              const h = i < le ? hexValue(s.charCodeAt(i)) : -1;
              if (h < 0) bail();
              cp = cp * 16 + h;
            }
            if (cp > 0x10ffff) bail();
            out +=
              cp <= 0xffff
                ? String.fromCharCode(cp)
                : String.fromCharCode(((cp - 0x10000) >> 10) + 0xd800, ((cp - 0x10000) & 0x3ff) + 0xdc00);
            i++;
          }
          start = i;
          continue;
        }
        if (c < 0x20 && c !== TAB) bail();
        i++;
      }
    }
    this.end = i + 1;
    return out + s.slice(start, i);
  }
}
