import jsyaml from 'js-yaml';
import { splitPointer, type Diagnostic } from './diagnostics.js';
import { FastLocator } from './fast-locate.js';

/** A 1-based source range. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

interface PosNode {
  start: number;
  end: number;
  kind: string | null;
  /** The composed value, kept for scalars only (mapping keys are matched against it). */
  value: unknown;
  children: PosNode[];
}

/** After this many scans, `locate` parses the file once with positions and walks that instead. */
const SCANS_BEFORE_PARSE = 16;

/**
 * The text of a mesh file and a lazy map from JSON pointers to source ranges.
 *
 * Parsing with positions for every node up front is slow on large files (the `yaml` package's
 * composition takes ten times js-yaml's load), and positions are needed only for the nodes a
 * diagnostic names. So the first call to `locate` runs one extra js-yaml pass with a listener that
 * records where each node starts and ends, and later calls only walk that tree.
 */
export class SourceFile {
  private root: PosNode | null | undefined;
  private scans = 0;
  private lineStarts: number[] | undefined;
  private locator: FastLocator | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  /** Where the node named by `pointer` is; `key: true` points at the mapping key instead of its value. */
  locate(pointer: string, { key = false } = {}): SourceRange | undefined {
    // the scans share what they read (a mapping's keys, a sequence's items), but each still walks
    // its own way down: for many pointers, one parse is cheaper
    if (this.root !== undefined || ++this.scans > SCANS_BEFORE_PARSE)
      return this.locateByParse(pointer, { key });
    const quick = (this.locator ??= new FastLocator(this.text)).find(splitPointer(pointer));
    if (quick) {
      if (key && quick.keyStart !== undefined) return this.rangeOf(quick.keyStart, quick.keyEnd!);
      // as from the parse: a block sequence is shown at its first item, past the dash
      let start = quick.start;
      while (this.text[start] === '-' && /[ \n]/.test(this.text[start + 1] ?? '') && start < quick.end)
        for (start++; this.text[start] === ' ' || this.text[start] === '\n';) start++;
      return this.rangeOf(start, Math.max(start, quick.end));
    }
    return this.locateByParse(pointer, { key });
  }

  /** The same answer from a full parse with positions: slower, and right for any YAML. */
  locateByParse(pointer: string, { key = false } = {}): SourceRange | undefined {
    const root = this.positions();
    if (!root) return undefined;
    let node = root;
    let keyNode: PosNode | undefined;
    for (const token of splitPointer(pointer)) {
      node = unwrap(node);
      const next = this.child(node, token);
      if (!next) break; // the deepest node that exists: a missing field points at its parent
      [keyNode, node] = next;
    }
    const target = key && keyNode ? keyNode : node;
    return this.range(target);
  }

  /** 1-based line and column of a character offset. */
  position(offset: number): { line: number; column: number } {
    const starts = (this.lineStarts ??= computeLineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const starts = (this.lineStarts ??= computeLineStarts(this.text));
    const start = starts[line - 1];
    if (start === undefined) return '';
    const end = starts[line] ?? this.text.length;
    return this.text.slice(start, end).replace(/\r?\n$/, '');
  }

  private child(node: PosNode, token: string): [PosNode | undefined, PosNode] | undefined {
    if (node.kind === 'sequence') {
      const child = /^\d+$/.test(token) ? node.children[Number(token)] : undefined;
      return child ? [undefined, child] : undefined;
    }
    if (node.kind === 'mapping') {
      // children alternate key, value; the last duplicate wins as in the composed document
      for (let i = node.children.length - 2; i >= 0; i -= 2) {
        const k = node.children[i]!;
        if (String(k.value) === token) return [k, node.children[i + 1]!];
      }
    }
    return undefined;
  }

  private range(node: PosNode): SourceRange {
    let start = node.start;
    // a node's recorded start may sit before the blanks, comments and sequence dash that precede it
    const text = this.text;
    for (;;) {
      const c = text[start];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') start++;
      else if (c === '#') while (start < text.length && text[start] !== '\n') start++;
      else if (c === '-' && /[ \n]/.test(text[start + 1] ?? '') && start < node.end) start++;
      else break;
    }
    return this.rangeOf(start, Math.max(start, node.end));
  }

  private rangeOf(start: number, end: number): SourceRange {
    while (end > start && /\s/.test(this.text[end - 1]!)) end--;
    const s = this.position(start);
    const e = this.position(end);
    return { line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
  }

  private positions(): PosNode | null {
    if (this.root !== undefined) return this.root;
    const stack: PosNode[] = [{ start: 0, end: 0, kind: 'root', value: undefined, children: [] }];
    try {
      jsyaml.load(this.text, {
        schema: jsyaml.CORE_SCHEMA,
        listener(event, state) {
          if (event === 'open') {
            stack.push({
              start: state.position,
              end: state.position,
              kind: null,
              value: undefined,
              children: [],
            });
          } else {
            const node = stack.pop()!;
            node.end = state.position;
            node.kind = state.kind;
            if (state.kind === 'scalar') node.value = state.result;
            stack[stack.length - 1]!.children.push(node);
          }
        },
      });
    } catch {
      this.root = null;
      return null;
    }
    this.root = stack[0]!.children[0] ?? null;
    return this.root;
  }
}

/**
 * js-yaml reports some collections twice, an outer node around the real one (a flow mapping that is
 * a block sequence item, for one): step into the real one.
 */
function unwrap(node: PosNode): PosNode {
  for (;;) {
    const only = node.children.length === 1 ? node.children[0]! : undefined;
    if (!only || only.kind !== node.kind) return node;
    if (node.kind === 'mapping' || (node.kind === 'sequence' && only.start === node.start)) node = only;
    else return node;
  }
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The mesh's diagnostics that are about a key rather than its value: unknown field, invalid key. */
const aboutMeshKey = (d: Diagnostic): boolean => d.code === 'MG1010' || d.code === 'MG1015';

/**
 * Fills file, line and column of every diagnostic that has a pointer and no position yet. Those
 * about a key (`key`; by default the mesh's unknown fields and invalid keys) point at the key; the
 * rest at the value.
 */
export function locateDiagnostics(
  diagnostics: readonly Diagnostic[],
  source: SourceFile,
  { key = aboutMeshKey }: { key?: (d: Diagnostic) => boolean } = {},
): Diagnostic[] {
  return diagnostics.map((d) => {
    if (d.line !== undefined || d.pointer === undefined) return d.file ? d : { ...d, file: source.file };
    const range = source.locate(d.pointer, { key: key(d) });
    return range ? { ...d, file: source.file, ...range } : { ...d, file: source.file };
  });
}
