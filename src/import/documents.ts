import fs from 'node:fs/promises';
import path from 'node:path';
import jsyaml from 'js-yaml';
import { diagnostic, joinPointer, type Diagnostic, type KnownCode } from '../model/diagnostics.js';
import { SourceFile } from '../model/source.js';
import { HclSourceFile, parseHcl } from './hcl.js';

/**
 * One object of the input: a YAML document, an item of a JSON array or of a Kubernetes `List`. Its
 * positions come from the SourceFile of the document it sits in, shifted by the lines before it.
 */
export interface InputDocument {
  readonly file: string;
  readonly value: unknown;
  /** JSON pointer of the object inside its document (`/items/2` in a List, '' otherwise). */
  readonly pointer: string;
  readonly source: SourceFile;
  /** Lines of the file before the document. */
  readonly lineOffset: number;
}

/** A file as read: its full text (for printing a diagnostic's line) and its objects. */
export interface InputFile {
  readonly source: SourceFile;
  readonly documents: InputDocument[];
  readonly diagnostics: Diagnostic[];
}

type Path = readonly (string | number)[];

/** Where a field of an object is in its file, for a diagnostic: the nearest existing node of `at`. */
export function locate(doc: InputDocument, at: Path): Pick<Diagnostic, 'file' | 'line' | 'column'> {
  for (let n = at.length; n >= 0; n--) {
    const range = doc.source.locate(joinPointer(doc.pointer, ...at.slice(0, n)));
    if (range) return { file: doc.file, line: range.line + doc.lineOffset, column: range.column };
  }
  return { file: doc.file, line: doc.lineOffset + 1, column: 1 };
}

/** A diagnostic located at a field of an input object. */
export function located(
  code: KnownCode,
  doc: InputDocument,
  at: Path,
  message: string,
  hint?: string,
): Diagnostic {
  return diagnostic(code, message, { ...locate(doc, at), ...(hint ? { hint } : {}) });
}

/** `file:line` of an object, for the comments of the mesh written. */
export function originOf(doc: InputDocument, at: Path = []): string {
  const l = locate(doc, at);
  return `${l.file}:${l.line}`;
}

const SEPARATOR = /^---(?:[ \t].*)?$/;

/** Splits YAML text into its documents, each with the number of lines before it. */
function splitDocuments(text: string): { text: string; offset: number }[] {
  const lines = text.split('\n');
  const out: { text: string; offset: number }[] = [];
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    if (i === lines.length || SEPARATOR.test(lines[i]!.replace(/\r$/, ''))) {
      const chunk = lines.slice(start, i).join('\n');
      if (/^[ \t]*[^#\s]/m.test(chunk)) out.push({ text: chunk, offset: start });
      start = i + 1;
    }
  }
  return out;
}

/** Whether text reads as Consul HCL rather than YAML or JSON: its first statement is `Name = ...` (`Kind = "service-router"`). */
function looksLikeHcl(text: string): boolean {
  const first = text.split('\n').find((l) => /^\s*[^#/\s]/.test(l));
  return first !== undefined && /^\s*[A-Za-z_][A-Za-z0-9_]*\s*=/.test(first);
}

/** Parses one file's text: multi-document YAML, JSON (an object, an array of objects), Kubernetes Lists. */
export function parseInput(text: string, file: string): InputFile {
  const source = new SourceFile(file, text);
  const documents: InputDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  if (text.includes('\u0000')) {
    diagnostics.push(diagnostic('MG7001', `${file} is not text`, { file, line: 1, column: 1 }));
    return { source, documents, diagnostics };
  }
  if (file.endsWith('.hcl') || (!/^\s*[{[]/.test(text) && looksLikeHcl(text))) {
    // Consul config entries as `consul config write` takes them: one entry per file
    const hcl = parseHcl(text);
    if (hcl.error) {
      diagnostics.push(
        diagnostic('MG7002', `HCL: ${hcl.error.message}`, {
          file,
          line: hcl.error.line,
          column: hcl.error.column,
          hint: 'meshgen import reads the HCL of Consul config entries: attributes, strings, numbers, bools, lists, objects and blocks',
        }),
      );
      return { source, documents, diagnostics };
    }
    documents.push({
      file,
      value: hcl.value,
      pointer: '',
      source: new HclSourceFile(file, text, hcl.positions),
      lineOffset: 0,
    });
    return { source, documents, diagnostics };
  }
  for (const chunk of splitDocuments(text)) {
    const docSource = new SourceFile(file, chunk.text);
    let value: unknown;
    try {
      value = jsyaml.load(chunk.text, { filename: file, schema: jsyaml.CORE_SCHEMA });
    } catch (e) {
      if (!(e instanceof jsyaml.YAMLException)) throw e;
      const mark = e.mark as { line?: number; column?: number } | undefined;
      diagnostics.push(
        diagnostic('MG7001', `YAML syntax error: ${e.reason}`, {
          file,
          line: (mark?.line ?? 0) + 1 + chunk.offset,
          column: (mark?.column ?? 0) + 1,
        }),
      );
      continue;
    }
    const push = (v: unknown, pointer: string) =>
      documents.push({ file, value: v, pointer, source: docSource, lineOffset: chunk.offset });
    if (Array.isArray(value)) value.forEach((v, i) => push(v, `/${i}`));
    else if (isList(value)) value.items.forEach((v, i) => push(v, `/items/${i}`));
    else if (value !== null && value !== undefined) push(value, '');
  }
  return { source, documents, diagnostics };
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as { kind?: unknown; items?: unknown } | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.kind === 'string' &&
    o.kind.endsWith('List') &&
    Array.isArray(o.items)
  );
}

/** Reads files, folders (their .yaml, .yml, .json and .hcl files, sorted, recursively) or `-`. */
export async function readInputs(
  paths: readonly string[],
): Promise<{ inputs: { file: string; text: string }[]; diagnostics: Diagnostic[] }> {
  const inputs: { file: string; text: string }[] = [];
  const diagnostics: Diagnostic[] = [];
  const readOne = async (p: string) => {
    try {
      inputs.push({
        file: p === '-' ? '<stdin>' : p,
        text: p === '-' ? await readStdin() : await fs.readFile(p, 'utf8'),
      });
    } catch (e) {
      diagnostics.push(diagnostic('MG4001', `cannot read ${p}: ${(e as Error).message}`, { file: p }));
    }
  };
  for (const p of paths) {
    const stat = p === '-' ? undefined : await fs.stat(p).catch(() => undefined);
    if (stat?.isDirectory()) {
      const files = await listFolder(p);
      if (!files.length)
        diagnostics.push(diagnostic('MG4001', `${p} holds no .yaml, .yml, .json or .hcl file`, { file: p }));
      for (const f of files) await readOne(f);
    } else await readOne(p);
  }
  return { inputs, diagnostics };
}

async function listFolder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFolder(p)));
    else if (/\.(ya?ml|json|hcl)$/.test(e.name)) out.push(p);
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
