import { joinPointer } from '../model/diagnostics.js';
import { SourceFile, type SourceRange } from '../model/source.js';

/**
 * The subset of HCL that Consul config entries use: attributes `Key = value`, strings, numbers,
 * bools, lists, `{ }` objects, nested blocks `Key { ... }` (repeated blocks become a list) and
 * comments `#`, `//`, `/* *\/`. Anything else (heredocs, interpolation, labelled blocks,
 * expressions) is refused with its position: guessing at it would import something else.
 */
interface HclError {
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

export interface HclResult {
  readonly value?: Record<string, unknown>;
  readonly error?: HclError;
  /** JSON pointer of each key and value read -> where its value starts. */
  readonly positions: Map<string, SourceRange>;
}

/** A SourceFile whose positions come from the HCL parser rather than from YAML. */
export class HclSourceFile extends SourceFile {
  constructor(
    file: string,
    text: string,
    private readonly hclPositions: Map<string, SourceRange>,
  ) {
    super(file, text);
  }

  override locate(pointer: string): SourceRange | undefined {
    return this.hclPositions.get(pointer);
  }
}

class Failure extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
  }
}

const IDENT = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/** Parses the text of one config entry. Never throws on bad input. */
export function parseHcl(text: string): HclResult {
  const positions = new Map<string, SourceRange>();
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const position = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };
  const mark = (pointer: string, offset: number) => {
    const p = position(offset);
    positions.set(pointer, { line: p.line, column: p.column, endLine: p.line, endColumn: p.column + 1 });
  };
  let i = 0;

  /** Skips blanks and comments; newlines too unless `stopAtNewline`. Returns whether a newline was crossed. */
  const skip = (): boolean => {
    let newline = false;
    for (;;) {
      const c = text[i];
      if (c === '\n') newline = true;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') i++;
      else if (c === '#' || (c === '/' && text[i + 1] === '/'))
        while (i < text.length && text[i] !== '\n') i++;
      else if (c === '/' && text[i + 1] === '*') {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) throw new Failure('unterminated /* comment', i);
        if (text.slice(i, end).includes('\n')) newline = true;
        i = end + 2;
      } else return newline;
    }
  };

  const ident = (): string | undefined => {
    IDENT.lastIndex = i;
    const m = IDENT.exec(text);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };

  const string = (): string => {
    const start = i;
    i++;
    let out = '';
    for (;;) {
      const c = text[i];
      if (c === undefined || c === '\n') throw new Failure('unterminated string', start);
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '$' && text[i + 1] === '{')
        throw new Failure('interpolation ${...} is outside the HCL config entries use', i);
      if (c === '%' && text[i + 1] === '{')
        throw new Failure('template directive %{...} is outside the HCL config entries use', i);
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
          continue;
        }
        if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        throw new Failure(`unknown escape \\${e ?? ''} in a string`, i);
      }
      out += c;
      i++;
    }
  };

  const value = (pointer: string): unknown => {
    skip();
    mark(pointer, i);
    const c = text[i];
    if (c === '"') return string();
    if (c === '[') {
      i++;
      const list: unknown[] = [];
      for (;;) {
        skip();
        if (text[i] === ']') {
          i++;
          return list;
        }
        list.push(value(joinPointer(pointer, list.length)));
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') throw new Failure(`expected "," or "]" in a list`, i);
      }
    }
    if (c === '{') {
      i++;
      return body(pointer, '}');
    }
    if (c === '<' && text[i + 1] === '<')
      throw new Failure('heredocs are outside the HCL config entries use', i);
    NUMBER.lastIndex = i;
    const n = NUMBER.exec(text);
    if (n) {
      i += n[0].length;
      return Number(n[0]);
    }
    const start = i;
    const word = ident();
    if (word === 'true' || word === 'false') return word === 'true';
    if (word === 'null') return null;
    throw new Failure(
      word === undefined
        ? `unexpected ${c === undefined ? 'end of input' : JSON.stringify(c)} where a value was expected`
        : `${word} is an expression, outside the HCL config entries use (values are strings, numbers, bools, lists and objects)`,
      start,
    );
  };

  /** Attributes and blocks up to `close` ('}' or the end of input). */
  const body = (pointer: string, close: '}' | undefined): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const blocks = new Set<string>();
    for (;;) {
      skip();
      if (close === undefined ? i >= text.length : text[i] === close) {
        if (close) i++;
        return out;
      }
      if (i >= text.length) throw new Failure('"}" missing at the end of input', i);
      const keyAt = i;
      const key = text[i] === '"' ? string() : ident();
      if (key === undefined)
        throw new Failure(`unexpected ${JSON.stringify(text[i])} where a key was expected`, i);
      skip();
      if (text[i] === '=' || text[i] === ':') {
        i++;
        if (key in out) throw new Failure(`${key} is set twice`, keyAt);
        out[key] = value(joinPointer(pointer, key));
        positions.set(`${joinPointer(pointer, key)}#key`, positions.get(joinPointer(pointer, key))!);
      } else if (text[i] === '{') {
        i++;
        // a block: repeated blocks of one name are a list, as Consul's decoder reads them
        if (key in out && !blocks.has(key)) throw new Failure(`${key} is set twice`, keyAt);
        if (blocks.has(key)) {
          const prev = out[key];
          const list = Array.isArray(prev) ? prev : [prev];
          if (!Array.isArray(prev)) {
            // the first block moves to /0
            for (const [p, r] of [...positions])
              if (p === joinPointer(pointer, key) || p.startsWith(`${joinPointer(pointer, key)}/`))
                positions.set(joinPointer(pointer, key, 0) + p.slice(joinPointer(pointer, key).length), r);
          }
          const at = joinPointer(pointer, key, list.length);
          mark(at, keyAt);
          list.push(body(at, '}'));
          out[key] = list;
        } else {
          mark(joinPointer(pointer, key), keyAt);
          out[key] = body(joinPointer(pointer, key), '}');
          blocks.add(key);
        }
      } else if (text[i] === '"')
        throw new Failure(`labelled blocks (${key} "label" { }) are outside the HCL config entries use`, i);
      else throw new Failure(`expected "=" or "{" after ${key}`, i);
      const newline = skip();
      if (text[i] === ',') i++;
      else if (!newline && i < text.length && text[i] !== close)
        throw new Failure(`expected a new line or "," after ${key}`, i);
    }
  };

  try {
    return { value: body('', undefined), positions };
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    const p = position(Math.min(e.offset, text.length));
    return { error: { message: e.reason, ...p }, positions };
  }
}
