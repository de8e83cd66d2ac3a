import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import type YAMLModule from 'yaml';
import type { YAMLError } from 'yaml';
import { protobufjs } from '../../envoy/protos.js';
import { diagnostic, joinPointer, type Diagnostic, type KnownCode } from '../../model/diagnostics.js';
import { locateDiagnostics, type SourceFile } from '../../model/source.js';
import { fastLoad, type FastDialect } from '../../model/yaml-fast.js';
import type { PathError } from './supported.js';

// yaml is loaded when a bootstrap is first parsed: importing it would cost every meshgen command about 40 ms
const require = createRequire(import.meta.url);
let yaml: typeof YAMLModule | undefined;

let dialect: FastDialect | undefined;

/** How `fastLoad` reads a configuration file: as the `yaml` package does. */
export function configDialect(): FastDialect {
  return (dialect ??= yamlDialect((yaml ??= require('yaml') as typeof YAMLModule)));
}

/**
 * The `yaml` package's reading of plain scalars (its core schema's tags, tried in its order) and
 * of keys (a null key is the empty string), for `fastLoad`.
 */
function yamlDialect(y: typeof YAMLModule): FastDialect {
  interface ScalarTag {
    default?: boolean | 'key';
    test?: RegExp;
    resolve: (raw: string, onError: (message: string) => void, options: object) => unknown;
  }
  const tags = new y.Schema({}).tags as ScalarTag[];
  const options = {};
  const resolve = (raw: string, atKey: boolean): unknown => {
    for (const t of tags)
      if ((t.default === true || (atKey && t.default === 'key')) && t.test?.test(raw)) {
        let failed = false;
        const r = t.resolve(raw, () => (failed = true), options);
        // a resolver's complaint is the full parse's to report
        if (failed) throw new Error('not read here');
        // some resolvers give a Scalar (the parse keeps it), whose value the document's toJS gives
        const v = y.isScalar(r) ? r.value : r;
        if (v !== null && typeof v === 'object') throw new Error('not read here');
        return v;
      }
    return raw;
  };
  return {
    plain: (raw) => resolve(raw, false),
    key: (raw) => {
      const v = resolve(raw, true);
      return v === null ? '' : String(v);
    },
    strict: true,
  };
}

/**
 * The value of a YAML or JSON text, or its syntax errors located in `source` (MG5001). Text in the
 * subset `fastLoad` reads (every file the envoy target writes in YAML) is read by it, as the `yaml`
 * package reads it and twenty times faster; the rest, and every error, by the `yaml` package.
 */
export function parseConfigText(source: SourceFile): { value: unknown } | { diagnostics: Diagnostic[] } {
  const fast = fastLoad(source.text, configDialect());
  if (fast) return fast;
  try {
    const doc = yaml!.parseDocument(source.text, {
      uniqueKeys: true,
      prettyErrors: false,
    });
    if (doc.errors.length) return { diagnostics: syntaxDiagnostics(doc.errors, source) };
    const keys = collectionKeys(doc, source);
    if (keys.length) return { diagnostics: keys };
    return { value: doc.toJS() };
  } catch (e) {
    // the parser's own limits (aliases that expand too far)
    const message = `syntax error: ${(e as Error).message}`;
    return { diagnostics: [diagnostic('MG5001', message, { file: source.file })] };
  }
}

/**
 * A bootstrap's problems as diagnostics, as the mesh's: a code, a pointer into the document as
 * written, and, when the text is known, file, line and column. Each step of reading a bootstrap
 * (config/bootstrap.ts) reports `PathError`s; the step gives the code.
 */
const CODES = {
  /** checkEnvoy: not in Envoy's API (unknown field, wrong type, invalid value, missing field). */
  api: 'MG5002',
  /** supportedWalk: in Envoy's API, not implemented by meshgen proxy. */
  implemented: 'MG5003',
  /** The conversion: duplicate names, unknown clusters... (what Envoy refuses at load). */
  invalid: 'MG5004',
  /** checkEnvoy's warnings: deprecated fields, forms Envoy tolerates. */
  warning: 'MG5005',
} as const satisfies Record<string, KnownCode>;

export type Step = keyof typeof CODES;

/** Messages about a field as a whole (unknown, given twice, deprecated, not implemented): shown at its key. */
const ABOUT_FIELD = /^(unknown |deprecated )?field\b/;

/** The diagnostics of one step's errors, located when the source is given. */
export function stepDiagnostics(
  step: Step,
  errors: readonly PathError[],
  raw: unknown,
  source?: SourceFile,
): Diagnostic[] {
  const atKey = new Set<Diagnostic>();
  const diagnostics = errors.map((e) => {
    const pointer = sourcePointer(raw, e.path);
    // the path leads the message, as in Envoy's own errors: a one-line JSON file needs it
    const d = diagnostic(CODES[step], pointer ? `${pointer}: ${e.message}` : e.message, { pointer });
    if (ABOUT_FIELD.test(e.message)) atKey.add(d);
    return d;
  });
  return source ? locateDiagnostics(diagnostics, source, { key: (d) => atKey.has(d) }) : diagnostics;
}

/** The YAML (or JSON) parser's errors, each located where the parser stopped (see `syntaxAt`). */
function syntaxDiagnostics(errors: readonly YAMLError[], source: SourceFile): Diagnostic[] {
  return errors.map((e) =>
    syntaxAt(
      source,
      e.pos,
      e.code === 'MULTIPLE_DOCS'
        ? 'the file holds more than one YAML document; a bootstrap is one'
        : e.message,
    ),
  );
}

/**
 * MG5001 at a range of `source`'s text. A range past the last character (an unclosed bracket at the
 * end of the file) is placed just after it, so that the line shown is not empty.
 */
function syntaxAt(source: SourceFile, [at, to]: readonly [number, number], message: string): Diagnostic {
  const last = source.text.trimEnd().length;
  const from = Math.min(at, last);
  const start = source.position(from);
  const end = source.position(Math.max(from, Math.min(to, last)));
  return diagnostic('MG5001', `syntax error: ${message}`, {
    file: source.file,
    ...start,
    endLine: end.line,
    endColumn: end.column,
  });
}

/**
 * A mapping key that is itself a mapping or a sequence (`{a: 1}: x`): Envoy reads every key as a
 * string and refuses the file, where the yaml package would turn the key into its text and print a
 * process warning.
 */
function collectionKeys(doc: YAMLModule.Document, source: SourceFile): Diagnostic[] {
  const found: Diagnostic[] = [];
  yaml!.visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (yaml!.isCollection(key) && key.range)
        found.push(
          syntaxAt(
            source,
            [key.range[0], key.range[1]],
            'a mapping key is a mapping or a sequence; keys are strings',
          ),
        );
    },
  });
  return found;
}

/**
 * A bootstrap file's text, or the diagnostic saying why there is none: MG4001 when it cannot be
 * read, MG5001 when its bytes are not UTF-8 text (a binary file would print as garbage).
 */
export async function readBootstrapText(file: string): Promise<string | Diagnostic> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    return diagnostic('MG4001', `cannot read ${file}: ${readError(e)}`, { file });
  }
  return decodeConfigText(bytes, file);
}

/** Why a file could not be read, in a few words. */
export function readError(e: unknown): string {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
}

/** A configuration file's bytes as text, or MG5001 when they are not UTF-8 text. */
export function decodeConfigText(bytes: Uint8Array, file: string): string | Diagnostic {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (!text.includes('\u0000')) return text;
  } catch {
    // not UTF-8
  }
  return diagnostic('MG5001', 'the file is not UTF-8 text (YAML or JSON)', { file, line: 1, column: 1 });
}

/** A `path: message` line of checkEnvoy as a PathError (a path may end in a note: `/a/b (unset = 0)`). */
export function splitCheckLine(line: string): PathError {
  const i = line.indexOf(': ');
  if (i < 0) return { path: '/', message: line };
  const path = line.slice(0, i);
  const message = line.slice(i + 2);
  const note = / (\(.*\))$/.exec(path);
  return note ? { path: path.slice(0, note.index), message: `${message} ${note[1]}` } : { path, message };
}

/** The errors not at the path of one of `causes` (a value both steps refuse is reported once). */
export function notAtPathsOf(errors: readonly PathError[], causes: readonly PathError[]): PathError[] {
  const at = new Set(causes.map((c) => c.path));
  return errors.filter((e) => !at.has(e.path));
}

/**
 * The errors outside the list items (listener, cluster, route, filter...) that hold one of `causes`:
 * within such an item, a field left out may explain an error (a mirror policy that names its
 * cluster in a header has no `cluster`); a cause outside any list item may explain any error.
 */
export function outsideItemsOf(errors: readonly PathError[], causes: readonly PathError[]): PathError[] {
  const items = causes.map((c) => /^(.*\/\d+)(\/|$)/.exec(c.path)?.[1] ?? '');
  return errors.filter((e) => !items.some((i) => e.path === i || e.path.startsWith(`${i}/`)));
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The pointer into the document as written for a path a step reports. The conversion names fields
 * by their proto names (snake_case) and indexes a repeated field given as one value, where the
 * document may use JSON names (camelCase) and that one value; the steps do not escape keys, so a
 * key holding `/` arrives in pieces. Whatever cannot be followed is kept as it is.
 */
export function sourcePointer(raw: unknown, path: string): string {
  const tokens = path === '/' || path === '' ? [] : path.slice(1).split('/');
  const out: string[] = [];
  let node = raw;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const found = isObj(node) ? childKey(node, tokens, i) : undefined;
    if (Array.isArray(node) && /^\d+$/.test(t)) {
      out.push(t);
      node = node[Number(t)];
    } else if (found) {
      out.push(found.key);
      node = (node as Record<string, unknown>)[found.key];
      i = found.last;
    } else if (t !== '0' || Array.isArray(node)) {
      out.push(...tokens.slice(i));
      break;
    } // else a repeated field given as one value: the document has no index here
  }
  return joinPointer('', ...out);
}

function childKey(
  node: Record<string, unknown>,
  tokens: readonly string[],
  i: number,
): { key: string; last: number } | undefined {
  const camel = protobufjs().util.camelCase;
  for (let last = i, key = tokens[i]!; last < tokens.length; key += `/${tokens[++last]}`) {
    for (const k of [key, camel(key)]) if (Object.hasOwn(node, k)) return { key: k, last };
  }
  return undefined;
}
