import fs from 'node:fs/promises';
import jsyaml from 'js-yaml';
import { excessiveAliasing, measureAliases } from './aliases.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import { SourceFile } from './source.js';
import { fastLoad } from './yaml-fast.js';

/** A parsed file: its values (not yet checked) and its source, for positions. */
export interface Loaded {
  source: SourceFile;
  /** The parsed value, or undefined when the file could not be parsed. */
  value: unknown;
  diagnostics: Diagnostic[];
}

/**
 * Parses YAML text. Never throws on bad input: a binary file, an empty file, a syntax error or several
 * documents each give one diagnostic. The YAML that mesh files are made of is read by `fastLoad`
 * (src/model/yaml-fast.ts), which gives the value js-yaml would; on anything outside that subset (and
 * on every error) it gives up and js-yaml does the parse (YAML 1.2 core schema, duplicate keys
 * rejected) and gives the diagnostics. Positions come later, lazily, from the SourceFile.
 */
export function parseYaml(text: string, file = '<input>'): Loaded {
  const source = new SourceFile(file, text);
  const fail = (d: Diagnostic): Loaded => ({ source, value: undefined, diagnostics: [{ file, ...d }] });
  if (text.includes('\u0000')) {
    return fail(
      diagnostic('MG1001', 'the file is not text (it holds NUL bytes)', {
        line: 1,
        column: 1,
        hint: 'pass a YAML mesh file',
      }),
    );
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!/^[ \t]*[^#\s]/m.test(body)) {
    return fail(
      diagnostic('MG1002', 'the file is empty', {
        line: 1,
        column: 1,
        hint: 'run `meshgen init` for a starter mesh',
      }),
    );
  }
  const fast = fastLoad(body);
  if (fast !== undefined && fast.value !== null && fast.value !== undefined)
    return { source, value: fast.value, diagnostics: [] };
  let docs: unknown[];
  try {
    // the core schema (YAML 1.2): no timestamps or merge keys in a mesh, and no time spent looking for them
    docs = jsyaml.loadAll(body, null, { filename: file, schema: jsyaml.CORE_SCHEMA });
  } catch (e) {
    if (e instanceof jsyaml.YAMLException) {
      const mark = e.mark as { line?: number; column?: number } | undefined;
      return fail(
        diagnostic('MG1003', `YAML syntax error: ${e.reason}`, {
          line: (mark?.line ?? 0) + 1,
          column: (mark?.column ?? 0) + 1,
        }),
      );
    }
    throw e;
  }
  docs = docs.filter((d) => d !== null && d !== undefined);
  if (docs.length > 1) {
    const second = nthDocumentLine(body, 2);
    return fail(
      diagnostic('MG1005', `the file holds ${docs.length} YAML documents; a mesh file holds one Mesh`, {
        line: second,
        column: 1,
        hint: 'split the documents into one file each',
      }),
    );
  }
  if (docs.length === 0) {
    return fail(diagnostic('MG1002', 'the file holds no YAML document', { line: 1, column: 1 }));
  }
  // only an alias (`*name`) can make the value larger than its text
  if (body.includes('*')) {
    const refused = checkAliases(docs[0], source);
    if (refused) return fail(refused);
  }
  return { source, value: docs[0], diagnostics: [] };
}

/**
 * Refuses a document that aliases expand far beyond its own size (nested aliases, "billion laughs"),
 * by go-yaml's rule, before anything walks the expanded value; and an anchored value that holds an
 * alias of itself. The diagnostic points at the anchored value whose aliases add the most.
 */
function checkAliases(value: unknown, source: SourceFile): Diagnostic | undefined {
  const use = measureAliases(value);
  if (!excessiveAliasing(use)) return undefined;
  const pointer = use.cycle ?? use.worst?.pointer ?? '';
  const range = source.locate(pointer);
  const where = pointer === '' ? 'the document' : pointer;
  const message =
    use.cycle !== undefined
      ? `the YAML anchor at ${where} holds an alias of itself, so the document never ends`
      : `YAML aliases expand the document to ${count(use.decodeCount)} nodes, ${count(use.aliasCount)} of them ` +
        `through aliases; the anchored value at ${where} (${count(use.worst!.nodes)} nodes) is repeated ` +
        `${count(use.worst!.aliases)} times`;
  return diagnostic('MG1006', message, {
    pointer,
    ...(range ?? { line: 1, column: 1 }),
    hint:
      use.cycle !== undefined
        ? 'remove the alias from inside the value it names'
        : 'write the repeated values out, or use fewer aliases: a document may not owe most of its size to aliases (the limit kubectl applies)',
  });
}

function count(n: number): string {
  return n < 1e15 ? Math.round(n).toLocaleString('en-US') : n.toExponential(1);
}

function nthDocumentLine(text: string, n: number): number {
  const lines = text.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (/^---(\s|$)/.test(lines[i]!)) {
      seen++;
      // a leading `---` opens the first document
      const count = i === firstContentLine(lines) ? seen : seen + 1;
      if (count >= n) return i + 1;
    }
  }
  return 1;
}

function firstContentLine(lines: string[]): number {
  return lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#') && !l.startsWith('%'));
}

/** Reads a file (or standard input for `-`) and parses it. */
export async function readYamlFile(path: string): Promise<Loaded> {
  let text: string;
  const file = path === '-' ? '<stdin>' : path;
  try {
    const bytes = path === '-' ? await readStdin() : await fs.readFile(path);
    const decoded = decodeUtf8(bytes);
    if (decoded === undefined) {
      return {
        source: new SourceFile(file, ''),
        value: undefined,
        diagnostics: [
          diagnostic('MG1001', 'the file is not UTF-8 text', {
            file,
            line: 1,
            column: 1,
            hint: 'pass a YAML mesh file',
          }),
        ],
      };
    }
    text = decoded;
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return {
      source: new SourceFile(file, ''),
      value: undefined,
      diagnostics: [diagnostic('MG4001', `cannot read ${file}: ${reason}`, { file })],
    };
  }
  return parseYaml(text, file);
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
