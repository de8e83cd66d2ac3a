/**
 * A quick way to the node a JSON pointer names, straight from the text, for the YAML that mesh
 * files are made of: block mappings and sequences laid out by indentation, with flow collections
 * (`{ name: v1, weight: 90 }`, `[a, b]`) and plain or quoted scalars inside. It reads only the lines
 * on the way, so a diagnostic deep in a large file costs a scan, not a second parse.
 *
 * It gives up (returns undefined) on anything it does not follow to the letter: tabs, anchors,
 * aliases, tags, complex keys, block scalars on the way, multi-line plain scalars. The caller then
 * uses the full parse with positions, which is always right.
 */
export interface Found {
  /** Offsets of the value, and of its key when it is a mapping value. */
  start: number;
  end: number;
  keyStart?: number;
  keyEnd?: number;
}

class GiveUp extends Error {}
/** The end of a block collection, worked out only for the node finally found. */
const LAZY_END = -1;
const giveUp = (): never => {
  throw new GiveUp();
};

/** Per column, the expression `nextAtMost` finds the next line start that needs a look with. */
const shallowLines = new Map<number, RegExp>();

export function fastLocate(text: string, tokens: readonly string[]): Found | undefined {
  return new FastLocator(text).find(tokens);
}

/**
 * `fastLocate` for many pointers into one text. The keys and items a search steps over on its way
 * are remembered, so a later search into the same mapping or sequence starts where the earlier one
 * stopped: on a large file, the pointers of a report cost about one scan in all instead of one each.
 * Each answer is the one `fastLocate` gives.
 */
export class FastLocator {
  private readonly scanner: Scanner;

  constructor(text: string) {
    this.scanner = new Scanner(text);
  }

  find(tokens: readonly string[]): Found | undefined {
    try {
      return this.scanner.find(tokens);
    } catch (e) {
      if (e instanceof GiveUp) return undefined;
      throw e;
    }
  }
}

interface Line {
  start: number;
  /** Offset of the first non-space character. */
  content: number;
  end: number;
  indent: number;
}

/**
 * What the searches of one block collection have read so far: its keys or items in order, and where
 * reading stopped. `at` is the entry being read (undefined past the last one); `read` says whether
 * it has been recorded already, so that stepping past it (a scan of its lines) waits for a search
 * that needs what comes after, as a search from the top would.
 */
interface Seen {
  readonly col: number;
  /** A mapping's keys, each at its first occurrence: key start and colon offsets. */
  readonly keys: Map<string, { start: number; colon: number }>;
  /** A sequence's items: the offset of each dash. */
  readonly items: number[];
  at: number | undefined;
  read: boolean;
}

class Scanner {
  /** Block mappings and block sequences by the offset of their first entry. */
  private readonly seenMaps = new Map<number, Seen>();
  private readonly seenSeqs = new Map<number, Seen>();
  /** The ends of the block collections found, by their start. */
  private readonly ends = new Map<number, number>();

  constructor(private readonly text: string) {}

  private seenAt(all: Map<number, Seen>, first: number): Seen {
    let s = all.get(first);
    if (!s) {
      s = { col: first - this.lineOf(first).start, keys: new Map(), items: [], at: first, read: false };
      all.set(first, s);
    }
    return s;
  }

  find(tokens: readonly string[]): Found | undefined {
    const line = this.nextContent(0);
    if (!line) return undefined;
    if (this.text.startsWith('---', line.content) || this.text[line.content] === '%') giveUp();
    let node: Found = this.blockNodeAt(line.content, line.indent);
    let key: { start: number; end: number } | undefined;
    for (const token of tokens) {
      const next = this.child(node, token);
      if (!next) break;
      node = next.value;
      key = next.key;
    }
    // only the node found needs its end: a block collection's end costs a scan of all its lines
    let end = node.end;
    if (end === LAZY_END) {
      end = this.ends.get(node.start) ?? LAZY_END;
      if (end === LAZY_END) {
        end = this.blockEnd(
          node.start,
          this.isDash(node.start) && this.text[node.start] === '-' ? 'seq' : 'map',
        );
        this.ends.set(node.start, end);
      }
    }
    return { start: node.start, end, keyStart: key?.start, keyEnd: key?.end };
  }

  // --- lines -------------------------------------------------------------------------------------

  private lineAt(start: number): Line {
    const nl = this.text.indexOf('\n', start);
    const end = nl === -1 ? this.text.length : nl;
    let i = start;
    while (this.text.charCodeAt(i) === 32) i++;
    if (this.text[i] === '\t') giveUp();
    return { start, content: i, end: this.text[end - 1] === '\r' ? end - 1 : end, indent: i - start };
  }

  /** The next line with content (not blank, not only a comment) at or after `from`. */
  private nextContent(from: number): Line | undefined {
    let start = from;
    while (start < this.text.length) {
      const line = this.lineAt(start);
      if (line.content < line.end && this.text[line.content] !== '#') return line;
      start = line.end + (this.text[line.end] === '\r' ? 2 : 1);
    }
    return undefined;
  }

  /**
   * The first content line at or after `from` indented `col` or less (as `nextContent` would reach
   * it): the lines indented deeper, a collection's entries being stepped over, are passed by their
   * indentation alone, without reading the rest of each (a search for `/spec/routes/0` passes the
   * 130,000 lines of a large mesh's backends).
   */
  private nextAtMost(from: number, col: number): Line | undefined {
    const t = this.text;
    // the line starts that need a look: indented `col` or less, or with a tab after their spaces
    // (which a read gives up on); a regular expression finds them faster than a loop over lines
    let candidate = shallowLines.get(col);
    if (candidate === undefined)
      shallowLines.set(col, (candidate = new RegExp(`\\n(?: {0,${col}}[^ \\n]| *\\t)`, 'g')));
    let start = from;
    while (start < t.length) {
      if (start > 0 && t.charCodeAt(start - 1) === 10) {
        candidate.lastIndex = start - 1;
        const m = candidate.exec(t);
        if (m === null) return undefined;
        start = m.index + 1;
      }
      const line = this.lineAt(start);
      if (line.indent <= col && line.content < line.end && t[line.content] !== '#') return line;
      start = this.after(line);
    }
    return undefined;
  }

  private after(line: Line): number {
    return line.end + (this.text[line.end] === '\r' ? 2 : 1);
  }

  private lineOf(offset: number): Line {
    const start = this.text.lastIndexOf('\n', offset - 1) + 1;
    return this.lineAt(start);
  }

  // --- nodes -------------------------------------------------------------------------------------

  /** A node that starts at `at`, on a line whose content (for block nodes) sits at column `col`. */
  private blockNodeAt(at: number, _col: number): Found {
    const c = this.text[at];
    if (c === '&' || c === '*' || c === '!' || c === '|' || c === '>' || c === '?') giveUp();
    if (c === '{' || c === '[') return { start: at, end: this.skipFlow(at) };
    if (c === '-' && this.isDash(at)) return { start: at, end: LAZY_END };
    if (this.keyOnLine(at)) return { start: at, end: LAZY_END };
    return { start: at, end: this.scalarEnd(at) };
  }

  private isDash(at: number): boolean {
    const n = this.text[at + 1];
    return n === ' ' || n === '\n' || n === '\r' || n === undefined;
  }

  /** Where a block collection whose first entry starts at `at` ends (its last content character). */
  private blockEnd(at: number, kind: 'seq' | 'map'): number {
    const col = at - this.lineOf(at).start;
    let last = this.lineOf(at);
    let line = this.nextContent(this.after(last));
    // a dash at a mapping's own column is a sequence at its key's indentation, still in the mapping
    while (line && (line.indent > col || (line.indent === col && (kind === 'map' || this.isDashAt(line))))) {
      last = line;
      line = this.nextContent(this.after(line));
    }
    return this.contentEnd(last);
  }

  private isDashAt(line: Line): boolean {
    return this.text[line.content] === '-' && this.isDash(line.content);
  }

  /** The end of a line's content, before a trailing comment. */
  private contentEnd(line: Line): number {
    let end = line.end;
    // the first " #" of the line (a search of the whole text would read on to the file's end)
    let hash = -1;
    for (let i = line.content; i < end; i++)
      if (this.text.charCodeAt(i) === 32 && this.text.charCodeAt(i + 1) === 35 /* # */) {
        hash = i;
        break;
      }
    if (hash !== -1 && !/["']/.test(this.text.slice(line.content, hash))) end = hash;
    while (end > line.content && this.text[end - 1] === ' ') end--;
    return end;
  }

  /** If a block mapping key starts at `at`: the key's end (the colon's offset). */
  private keyOnLine(at: number): number | undefined {
    const c = this.text[at];
    let i = at;
    if (c === '"' || c === "'") {
      i = this.skipQuoted(at);
      if (this.text[i] === ':' && this.isSep(i + 1)) return i;
      return undefined;
    }
    const line = this.lineOf(at);
    for (; i < line.end; i++) {
      const ch = this.text[i];
      if (ch === ':' && this.isSep(i + 1)) return i;
      if (ch === '#' && this.text[i - 1] === ' ') return undefined;
      if (ch === '{' || ch === '[') {
        if (i === at) return undefined;
      }
    }
    return undefined;
  }

  private isSep(i: number): boolean {
    const c = this.text[i];
    return c === ' ' || c === '\n' || c === '\r' || c === undefined;
  }

  private child(
    node: Found,
    token: string,
  ): { key?: { start: number; end: number }; value: Found } | undefined {
    const c = this.text[node.start];
    if (c === '{') return this.flowMapChild(node.start, token);
    if (c === '[') return this.flowSeqChild(node.start, token);
    if (c === '-' && this.isDash(node.start)) return this.blockSeqChild(node.start, token);
    if (this.keyOnLine(node.start) !== undefined) return this.blockMapChild(node.start, token);
    return undefined;
  }

  private blockMapChild(
    first: number,
    token: string,
  ): { key: { start: number; end: number }; value: Found } | undefined {
    const seen = this.seenAt(this.seenMaps, first);
    const col = seen.col;
    const known = seen.keys.get(token);
    if (known)
      return { key: { start: known.start, end: known.colon }, value: this.valueAfter(known.colon + 1, col) };
    // the first occurrence of a key is the one found: read on from where the last search stopped
    for (;;) {
      const at = seen.at;
      if (at === undefined) return undefined;
      if (seen.read) {
        // to the next key of this mapping, past a value's sequence at the key's indentation
        let line = this.nextAtMost(this.after(this.lineOf(at)), col);
        while (line && line.indent === col && this.isDashAt(line))
          line = this.nextAtMost(this.after(line), col);
        seen.at = line && line.indent === col && !this.isDashAt(line) ? line.content : undefined;
        seen.read = false;
        continue;
      }
      const colon = this.keyOnLine(at);
      if (colon === undefined) giveUp();
      const key = this.keyText(at, colon!);
      if (!seen.keys.has(key)) seen.keys.set(key, { start: at, colon: colon! });
      seen.read = true;
      if (key === token) return { key: { start: at, end: colon! }, value: this.valueAfter(colon! + 1, col) };
    }
  }

  private blockSeqChild(first: number, token: string): { value: Found } | undefined {
    if (!/^\d+$/.test(token)) return undefined;
    const n = Number(token);
    const seen = this.seenAt(this.seenSeqs, first);
    const col = seen.col;
    // read on from where the last search stopped, up to item n
    while (seen.items.length <= n) {
      const at = seen.at;
      if (at === undefined) return undefined;
      if (seen.read) {
        const line = this.nextAtMost(this.after(this.lineOf(at)), col);
        seen.at = line && line.indent === col && this.isDashAt(line) ? line.content : undefined;
        seen.read = false;
        continue;
      }
      seen.items.push(at);
      seen.read = true;
    }
    return { value: this.valueAfter(seen.items[n]! + 1, col) };
  }

  /** The value after a `key:` colon or a `-` dash at column `col` of its line. */
  private valueAfter(from: number, col: number): Found {
    let i = from;
    const line = this.lineOf(from);
    while (i < line.end && this.text[i] === ' ') i++;
    if (i < line.end && this.text[i] !== '#') return this.blockNodeAt(i, i - line.start);
    const next = this.nextContent(this.after(line));
    // an empty value: null, unless the next line is indented deeper (or a sequence at the key's column)
    if (!next || next.indent < col || (next.indent === col && !this.isDashAt(next)))
      return { start: from, end: from };
    // after a dash (not a key's colon), a dash at the same column is the next item
    if (next.indent === col && this.text[from - 1] === '-') return { start: from, end: from };
    return this.blockNodeAt(next.content, next.indent);
  }

  private keyText(start: number, colon: number): string {
    const raw = this.text.slice(start, colon).trimEnd();
    return this.scalarText(raw);
  }

  private scalarText(raw: string): string {
    if (raw.startsWith('"')) {
      try {
        return JSON.parse(raw) as string;
      } catch {
        return giveUp();
      }
    }
    if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
    return raw;
  }

  private scalarEnd(at: number): number {
    const c = this.text[at];
    if (c === '"' || c === "'") return this.skipQuoted(at);
    const line = this.lineOf(at);
    // a plain scalar that continues on the next line is not followed here
    const next = this.nextContent(this.after(line));
    const parentCol = line.indent;
    if (next && next.indent > parentCol && !this.text.slice(at, line.end).includes(': ')) giveUp();
    return this.contentEnd({ ...line, content: at });
  }

  private skipQuoted(at: number): number {
    const q = this.text[at];
    let i = at + 1;
    while (i < this.text.length) {
      const ch = this.text[i];
      if (q === '"' && ch === '\\') i += 2;
      else if (ch === q) {
        if (q === "'" && this.text[i + 1] === "'") i += 2;
        else return i + 1;
      } else if (ch === '\n') giveUp();
      else i++;
    }
    return giveUp();
  }

  // --- flow collections ----------------------------------------------------------------------------

  private skipSpace(i: number): number {
    for (;;) {
      const c = this.text[i];
      if (c === ' ' || c === '\n' || c === '\r') i++;
      else if (c === '#')
        i = this.text.indexOf('\n', i) === -1 ? this.text.length : this.text.indexOf('\n', i);
      else if (c === '\t') giveUp();
      else return i;
    }
  }

  /** The offset just past the flow collection or flow scalar starting at `at`. */
  private skipFlow(at: number): number {
    const c = this.text[at];
    if (c === '"' || c === "'") return this.skipQuoted(at);
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      let i = this.skipSpace(at + 1);
      while (this.text[i] !== close) {
        if (i >= this.text.length) giveUp();
        i = this.skipFlow(i);
        i = this.skipSpace(i);
        if (this.text[i] === ':') i = this.skipFlow(this.skipSpace(i + 1));
        i = this.skipSpace(i);
        if (this.text[i] === ',') i = this.skipSpace(i + 1);
        else if (this.text[i] !== close) giveUp();
      }
      return i + 1;
    }
    if (c === '&' || c === '*' || c === '!' || c === '?') giveUp();
    // a plain scalar inside a flow collection ends at , ] } or ": "
    let i = at;
    for (; i < this.text.length; i++) {
      const ch = this.text[i];
      if (ch === ',' || ch === ']' || ch === '}' || ch === '\n' || ch === '\r') break;
      if (ch === ':' && (this.isSep(i + 1) || this.text[i + 1] === ',')) break;
      if (ch === '#' && this.text[i - 1] === ' ') break;
    }
    while (i > at && this.text[i - 1] === ' ') i--;
    return i;
  }

  private flowMapChild(
    open: number,
    token: string,
  ): { key: { start: number; end: number }; value: Found } | undefined {
    let i = this.skipSpace(open + 1);
    while (this.text[i] !== '}') {
      const keyStart = i;
      const keyEnd = this.skipFlow(i);
      i = this.skipSpace(keyEnd);
      let value: Found = { start: i, end: i };
      if (this.text[i] === ':') {
        const v = this.skipSpace(i + 1);
        const end = this.text[v] === ',' || this.text[v] === '}' ? v : this.skipFlow(v);
        value = { start: v, end };
        i = this.skipSpace(end);
      }
      if (this.scalarText(this.text.slice(keyStart, keyEnd)) === token)
        return { key: { start: keyStart, end: keyEnd }, value };
      if (this.text[i] === ',') i = this.skipSpace(i + 1);
      else if (this.text[i] !== '}') giveUp();
    }
    return undefined;
  }

  private flowSeqChild(open: number, token: string): { value: Found } | undefined {
    if (!/^\d+$/.test(token)) return undefined;
    let n = Number(token);
    let i = this.skipSpace(open + 1);
    while (this.text[i] !== ']') {
      const end = this.skipFlow(i);
      if (n === 0) return { value: { start: i, end } };
      n--;
      i = this.skipSpace(end);
      if (this.text[i] === ':') giveUp(); // a single-pair mapping in a sequence
      if (this.text[i] === ',') i = this.skipSpace(i + 1);
      else if (this.text[i] !== ']') giveUp();
    }
    return undefined;
  }
}
