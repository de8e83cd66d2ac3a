/**
 * A small, fast YAML writer for the plain data Kubernetes targets build (objects, arrays, strings,
 * numbers, booleans, null). Key order is kept as built, so output is byte-identical for the same
 * input. It is many times faster than general-purpose YAML stringifiers on large meshes, which is
 * what the render benchmark needs: strings that could be read back as anything but themselves are
 * double-quoted in JSON's escaping, which YAML's double-quoted scalars accept, with the few characters
 * JSON leaves raw and YAML does not escaped too (see `quote`).
 *
 * The text is written byte by byte into a buffer (`YamlBuffer`) rather than concatenated: string
 * concatenation allocated several times the output in short-lived strings, and garbage collection
 * dominated large renders. Text with a character beyond Latin-1 (which one byte cannot hold) is
 * written by the string writer below instead, with the same result.
 */
export function toYaml(value: unknown): string {
  scratch.reset();
  if (scratch.write(value)) return scratch.text(0, scratch.length);
  return toYamlString(value);
}

/**
 * Whether a string would read back as a boolean or null in YAML 1.1 or 1.2, in any letter case:
 * true, false, yes, no, on, off, y, n, null (`~` is never plain). Compared by character code: keys
 * such as `name` and `on` are checked for every object written.
 */
export function reserved(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 5) return false;
  // lower case: | 32 maps A-Z to a-z and leaves the other characters of a plain string outside a-z
  const a = s.charCodeAt(0) | 32;
  const b = n > 1 ? s.charCodeAt(1) | 32 : 0;
  const c = n > 2 ? s.charCodeAt(2) | 32 : 0;
  switch (n) {
    case 1:
      return a === 121 || a === 110; // y n
    case 2:
      return (a === 110 && b === 111) || (a === 111 && b === 110); // no on
    case 3:
      return (a === 121 && b === 101 && c === 115) || (a === 111 && b === 102 && c === 102); // yes off
    case 4: {
      const d = s.charCodeAt(3) | 32;
      return (
        (a === 116 && b === 114 && c === 117 && d === 101) ||
        (a === 110 && b === 117 && c === 108 && d === 108)
      ); // true null
    }
    default:
      return (
        a === 102 && b === 97 && c === 108 && (s.charCodeAt(3) | 32) === 115 && (s.charCodeAt(4) | 32) === 101
      ); // false
  }
}

/** Characters a plain string may start with ([A-Za-z_/.]) and hold ([\w./@-]), by code (ASCII). */
const FIRST = new Uint8Array(128);
const REST = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  FIRST[c] = letter || c === 95 || c === 47 || c === 46 ? 1 : 0;
  REST[c] =
    letter || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 47 || c === 64 || c === 45 ? 1 : 0;
}

/** Whether a string reads back as itself unquoted: [A-Za-z_/.] then [\w./@-]*, not a YAML keyword. */
function plain(s: string): boolean {
  const n = s.length;
  // the empty string is quoted; asked before charCodeAt(0), whose read past the end would throw
  // the optimised writer back to the interpreter the first time a render writes one
  if (n === 0) return false;
  const c0 = s.charCodeAt(0);
  if (!(c0 < 128 && FIRST[c0] === 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!(c < 128 && REST[c] === 1)) return false;
  }
  return s.charCodeAt(n - 1) !== 46 && !reserved(s) && ((c0 !== DOT && (c0 | 32) !== 101) || !numberLike(s));
}

const DOT = 46;

/**
 * Whether a string of plain characters that starts with a dot or an `e` could read back as a float:
 * `.5`, `.5e3`, `.inf` and `.NaN` are floats in YAML 1.1 and 1.2, and YAML 1.1 readers take `._5`,
 * `.e5`, `._` and `e5` or `E-3` (an exponent without digits before it) too. A dotted string is quoted
 * when all it holds after its dot is [0-9_.eE-], or when it is `.inf` or `.nan` in any case
 * (`.well-known` stays plain); an `e` string when the rest is digits, after an optional minus.
 */
function numberLike(s: string): boolean {
  const n = s.length;
  if (s.charCodeAt(0) !== DOT) {
    let i = n > 2 && s.charCodeAt(1) === DASH ? 2 : 1;
    if (i >= n) return false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
    return true;
  }
  if (n === 4) {
    const a = s.charCodeAt(1) | 32;
    const b = s.charCodeAt(2) | 32;
    const c = s.charCodeAt(3) | 32;
    // i n f, n a n
    if ((a === 105 && b === 110 && c === 102) || (a === 110 && b === 97 && c === 110)) return true;
  }
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (!(digit || c === 95 || c === DOT || c === 101 || c === 69 || c === DASH)) return false;
  }
  return true;
}

/**
 * Characters JSON.stringify leaves as they are that YAML readers do not read back as themselves in a
 * double-quoted scalar: DEL and the C1 controls (not printable in YAML; U+0085 is a line break in
 * YAML 1.1), U+2028 and U+2029 (line breaks in YAML 1.1, which folds them into spaces), the byte order
 * mark and U+FFFE/U+FFFF (not printable).
 */
const RAW_IN_JSON = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
const RAW_IN_JSON_ALL = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g;

function escapeRaw(c: string): string {
  const code = c.charCodeAt(0);
  return code < 256 ? '\\x' + code.toString(16) : '\\u' + code.toString(16);
}

/**
 * A string as a double-quoted YAML scalar: JSON's escaping (which escapes C0 controls, quotes,
 * backslashes and lone surrogates with escapes YAML shares), plus `\x`/`\u` escapes for `RAW_IN_JSON`.
 */
function quote(s: string): string {
  const q = JSON.stringify(s);
  return RAW_IN_JSON.test(q) ? q.replace(RAW_IN_JSON_ALL, escapeRaw) : q;
}

/** Short values that need quotes repeat (durations such as `"2s"`, `"5xx"`, `"true"`): kept quoted. */
const quotedShort = new Map<string, string>();

/** `quote(s)`, kept for a short `s`. */
function quoteShort(s: string): string {
  if (s.length > 16) return quote(s);
  let q = quotedShort.get(s);
  if (q === undefined) {
    q = quote(s);
    if (quotedShort.size < 10_000) quotedShort.set(s, q);
  }
  return q;
}

/**
 * Copies s into b at `at` when it is `plain`, checking it on the way: the position after it, or -1
 * (part of it copied) when it needs quotes.
 */
function copyPlain(b: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n === 0) return -1; // as in `plain`
  const c0 = s.charCodeAt(0);
  if (!(c0 < 128 && FIRST[c0] === 1)) return -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!(c < 128 && REST[c] === 1)) return -1;
    b[at++] = c;
  }
  return s.charCodeAt(n - 1) !== 46 && !reserved(s) && ((c0 !== DOT && (c0 | 32) !== 101) || !numberLike(s))
    ? at
    : -1;
}

/**
 * A key may be written as an implicit key (`key: value`) when it is shorter than this: YAML limits an
 * implicit key to 1024 characters, and longer ones are written as explicit keys (`? key` then `: value`).
 */
const IMPLICIT_KEY_MAX = 1000;

/** The bytes of plain keys already written (see `YamlBuffer.key`). */
const plainKeys = new Map<string, Uint8Array>();

/** Keys repeat across every object of a kind: their rendering, up to the colon, is kept. */
const keyCache = new Map<string, string>();

/** `key:` or, for a long key, `? key\n<pad>:`, without the padding before it. */
function key(k: string, pad: string): string {
  let r = keyCache.get(k);
  if (r === undefined) {
    r = plain(k) ? k : quote(k);
    if (r.length > IMPLICIT_KEY_MAX) return '? ' + r + '\n' + pad + ':';
    r += ':';
    if (keyCache.size < 10_000) keyCache.set(k, r);
  }
  return r;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return plain(v) ? v : quote(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null || v === undefined) return 'null';
  return quote(String(v));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function hasKeys(v: Record<string, unknown>): boolean {
  for (const k in v) if (v[k] !== undefined) return true;
  return false;
}

/**
 * Key names for the part of a document under its top-level `spec`, applied as it is written (so
 * that a target whose custom resources rename its config's fields need not copy every object).
 */
export interface SpecKeys {
  /** The written name of a field. */
  name(key: string): string;
  /** Whether the object under this field holds data (names of things): its own keys are kept. */
  isDataMap(key: string): boolean;
}

/** How an object's keys are written: as they are, renamed, kept (a data map), or a root with `spec`. */
const KEEP = 0;
const RENAME = 1;
const DATA = 2;
const ROOT = 3;

const SPACE = 32;

const NEWLINE = 10;
const DASH = 45;
const COLON = 58;

/**
 * YAML text written into a growing byte buffer, one byte a character (Latin-1). Several documents
 * can be written one after another and read back as one string (`text`), which callers may slice.
 */
export class YamlBuffer {
  private bytes: Buffer;
  length = 0;
  /** Set when a character did not fit in one byte: the text since the last reset is not usable. */
  private wide = false;
  private keys: SpecKeys | undefined;

  constructor(size = 1 << 16) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.length = 0;
    this.wide = false;
  }

  /** Drops what was written after `length` (a document that had to be written as a string). */
  truncate(length: number): void {
    this.length = length;
    this.wide = false;
  }

  /** The text from `start` to `end` as one string. */
  text(start: number, end: number): string {
    return this.bytes.toString('latin1', start, end);
  }

  /**
   * Appends one document; false (and nothing usable written) when it holds a non-Latin-1 character.
   * With `specKeys`, the keys under its top-level `spec` are renamed as they are written.
   */
  write(value: unknown, specKeys?: SpecKeys): boolean {
    const start = this.length;
    this.keys = specKeys;
    if (Array.isArray(value)) {
      if (value.length === 0) this.str('[]\n');
      else this.array(value, 0, KEEP);
    } else if (isObject(value)) {
      if (!this.object(value, 0, false, specKeys ? ROOT : KEEP)) this.str('{}\n');
    } else {
      this.str(scalar(value));
      this.byte(NEWLINE);
    }
    if (this.wide) {
      this.truncate(start);
      return false;
    }
    return true;
  }

  private grow(extra: number): void {
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.bytes.copy(next, 0, 0, this.length);
    this.bytes = next;
  }

  private byte(c: number): void {
    if (this.length >= this.bytes.length) this.grow(1);
    this.bytes[this.length++] = c;
  }

  private str(s: string): void {
    const n = s.length;
    if (this.length + n > this.bytes.length) this.grow(n);
    const b = this.bytes;
    let at = this.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) this.wide = true;
      b[at++] = c;
    }
    this.length = at;
  }

  /**
   * ` <s>\n`: a string value after `key:` or a dash, as it is when it reads back as itself (see
   * `plain`), else JSON-quoted; copied while it is checked.
   */
  private stringLine(s: string): void {
    const n = s.length;
    if (this.length + n + 2 > this.bytes.length) this.grow(n + 2);
    this.bytes[this.length] = SPACE;
    const at = copyPlain(this.bytes, this.length + 1, s);
    if (at >= 0) {
      this.bytes[at] = NEWLINE;
      this.length = at + 1;
    } else {
      this.byte(SPACE);
      this.str(quoteShort(s));
      this.byte(NEWLINE);
    }
  }

  /**
   * `<indent spaces><key>:`, the key written as a string value is (see `stringLine`); a long key is
   * written `? <key>`, then `:` on the next line at `pad`, its mapping's indentation.
   */
  private key(indent: number, k: string, pad: number): void {
    const n = k.length;
    if (this.length + indent + n + 1 > this.bytes.length) this.grow(indent + n + 1);
    this.pad(indent);
    // the keys of a kind of object repeat in every one: a plain key's check is made once
    const known = plainKeys.get(k);
    if (known !== undefined) {
      const b = this.bytes;
      let at = this.length;
      for (let i = 0; i < n; i++) b[at++] = known[i]!;
      b[at] = COLON;
      this.length = at + 1;
      return;
    }
    const at = n <= IMPLICIT_KEY_MAX ? copyPlain(this.bytes, this.length, k) : -1;
    if (at >= 0 && n <= 64 && plainKeys.size < 10_000)
      plainKeys.set(k, new Uint8Array(this.bytes.subarray(this.length, at)));
    if (at >= 0) {
      this.bytes[at] = COLON;
      this.length = at + 1;
    } else {
      const q = plain(k) ? k : quote(k);
      if (q.length > IMPLICIT_KEY_MAX) {
        this.str('? ');
        this.str(q);
        this.byte(NEWLINE);
        this.pad(pad);
      } else this.str(q);
      this.byte(COLON);
    }
  }

  private pad(n: number): void {
    if (this.length + n > this.bytes.length) this.grow(n);
    const b = this.bytes;
    let at = this.length;
    for (let i = 0; i < n; i++) b[at++] = SPACE;
    this.length = at;
  }

  /** The text after `key:` or `-`: a scalar on the same line, or a nested block on the next ones. */
  private after(v: unknown, pad: number, mode: number): void {
    // one typeof first: strings are most values, then objects; Array.isArray once
    if (typeof v === 'string') this.stringLine(v);
    else if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v)) {
        if (v.length === 0) this.str(' []\n');
        else {
          this.byte(NEWLINE);
          this.array(v, pad, mode === KEEP ? KEEP : RENAME);
        }
      } else {
        const at = this.length;
        this.byte(NEWLINE);
        if (!this.object(v as Record<string, unknown>, pad, false, mode)) {
          this.length = at;
          this.str(' {}\n');
        }
      }
    } else {
      this.byte(SPACE);
      this.str(scalar(v));
      this.byte(NEWLINE);
    }
  }

  /**
   * The keys of an object, one a line; false when it has none to write. `firstInline`: the first key
   * goes on the current line (after an array item's dash).
   */
  private object(v: Record<string, unknown>, pad: number, firstInline: boolean, mode: number): boolean {
    let first = true;
    for (const k in v) {
      const x = v[k];
      if (x === undefined) continue;
      const indent = !first || !firstInline ? pad : 0;
      first = false;
      let child = KEEP;
      if (mode === RENAME) {
        // a renamed field; the object under a data-map field keeps its keys (asked only of objects)
        if (typeof x === 'object' && x !== null) child = this.keys!.isDataMap(k) ? DATA : RENAME;
        this.key(indent, this.keys!.name(k), pad);
      } else {
        if (mode === DATA) child = RENAME;
        else if (mode === ROOT && k === 'spec') child = RENAME;
        // a key is written as a string value is (plain, else JSON-quoted)
        this.key(indent, k, pad);
      }
      this.after(x, pad + 2, child);
    }
    return !first;
  }

  /** `mode`: KEEP, or RENAME for the objects of an array under `spec`. */
  private array(v: readonly unknown[], pad: number, mode: number): void {
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      this.pad(pad);
      if (typeof item === 'string') {
        this.byte(DASH);
        this.stringLine(item);
      } else if (typeof item === 'object' && item !== null) {
        if (Array.isArray(item)) {
          if (item.length === 0) this.str('- []\n');
          else {
            this.str('-\n');
            this.array(item, pad + 2, mode);
          }
        } else {
          // the first key shares the dash's line; the rest line up under it
          const at = this.length;
          this.byte(DASH);
          this.byte(SPACE);
          if (!this.object(item as Record<string, unknown>, pad + 2, true, mode)) {
            this.length = at;
            this.str('- {}\n');
          }
        }
      } else {
        this.byte(DASH);
        this.byte(SPACE);
        this.str(scalar(item));
        this.byte(NEWLINE);
      }
    }
  }
}

const scratch = new YamlBuffer();

/** The string writer: the same text, for documents holding characters beyond Latin-1. */
export function toYamlString(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '[]\n' : writeArray(value, '');
  if (isObject(value)) return hasKeys(value) ? writeObject(value, '') : '{}\n';
  return `${scalar(value)}\n`;
}

/** The text after `key:` or `-`: a scalar on the same line, or a nested block on the next ones. */
function after(v: unknown, pad: string): string {
  if (Array.isArray(v)) return v.length === 0 ? ' []\n' : '\n' + writeArray(v, pad);
  if (isObject(v)) return hasKeys(v) ? '\n' + writeObject(v, pad) : ' {}\n';
  return ` ${scalar(v)}\n`;
}

function writeObject(v: Record<string, unknown>, pad: string): string {
  let out = '';
  const inner = pad + '  ';
  for (const k in v) {
    const x = v[k];
    if (x === undefined) continue;
    out += pad + key(k, pad) + after(x, inner);
  }
  return out;
}

function writeArray(v: readonly unknown[], pad: string): string {
  let out = '';
  const inner = pad + '  ';
  for (const item of v) {
    if (isObject(item)) {
      if (!hasKeys(item)) {
        out += `${pad}- {}\n`;
        continue;
      }
      // the first key shares the dash's line; the rest line up under it
      out += pad + '- ' + writeObject(item, inner).slice(inner.length);
    } else if (Array.isArray(item))
      out += item.length === 0 ? `${pad}- []\n` : `${pad}-\n` + writeArray(item, inner);
    else out += `${pad}- ${scalar(item)}\n`;
  }
  return out;
}
