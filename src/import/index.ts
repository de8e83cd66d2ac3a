import { diagnostic, escalateWarnings, hasErrors, type Diagnostic } from '../model/diagnostics.js';
import type { SourceFile } from '../model/source.js';
import type { MeshDocument } from '../model/types.js';
import { validateMesh } from '../model/validate.js';
import { parseInput, type InputDocument } from './documents.js';
import { istio } from './istio.js';
import { gatewayApi } from './gateway-api.js';
import { linkerd } from './linkerd.js';
import { consul } from './consul.js';
import type { Importer } from './types.js';
import { meshYaml } from './write.js';
import { applyCarried, CARRIED_NAME, type CarriedEntry } from './carried.js';
import { located } from './documents.js';

/** The registry: the CLI and the library read this one list. */
export const importers: readonly Importer[] = [istio, gatewayApi, linkerd, consul];

function findImporter(from: string): Importer | undefined {
  return importers.find((i) => i.from === from);
}

export interface ImportMeshOptions {
  readonly from: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Where routes without `parentRefs` attach, as `--parent` (`gateway/<name>[:<port>]`, `service/<name>`). */
  readonly parent?: string;
  /** Warnings become errors, as `--strict`. */
  readonly strict?: boolean;
}

export interface ImportMeshResult {
  /** The mesh, when it passes validation. */
  readonly document?: MeshDocument;
  /** The mesh file to write, with comments naming where each route came from. */
  readonly yaml?: string;
  /** Located in the input files (MG7xxx), then the imported mesh's own validation (MG7010). */
  readonly diagnostics: Diagnostic[];
  /** The input files read, for printing a diagnostic's source line. */
  readonly sources: Map<string, SourceFile>;
}

/** An input: a file's name and text (YAML, multi-document YAML, JSON). */
export interface ImportInput {
  readonly file: string;
  readonly text: string;
}

/**
 * Reads another system's objects into one mesh document: parse every input, hand the objects to the
 * importer of `from`, then validate what it built. Never throws on bad input.
 */
export function importMesh(inputs: readonly ImportInput[], options: ImportMeshOptions): ImportMeshResult {
  const importer = findImporter(options.from);
  const sources = new Map<string, SourceFile>();
  if (!importer)
    return {
      diagnostics: [
        diagnostic(
          'MG4002',
          `unknown import source "${options.from}"; sources: ${importers.map((i) => i.from).join(', ')}`,
        ),
      ],
      sources,
    };
  const diagnostics: Diagnostic[] = [];
  if (options.parent !== undefined && !importer.attachesParentless)
    return {
      diagnostics: [
        diagnostic(
          'MG7014',
          `--parent is for routes without parentRefs, which only ${importers
            .filter((i) => i.attachesParentless)
            .map((i) => i.from)
            .join(' and ')} objects have; ${importer.from} objects name where they attach`,
        ),
      ],
      sources,
    };
  const documents: InputDocument[] = [];
  const carried: InputDocument[] = [];
  for (const input of inputs) {
    const parsed = parseInput(input.text, input.file);
    sources.set(input.file, parsed.source);
    diagnostics.push(...parsed.diagnostics);
    for (const d of parsed.documents) (isCarried(d.value) ? carried : documents).push(d);
  }
  const result = importer.import(documents, {
    namespace: options.namespace,
    name: options.name,
    ...(options.parent !== undefined ? { parent: options.parent } : {}),
  });
  diagnostics.push(...result.diagnostics);
  if (result.document)
    for (const c of carried) diagnostics.push(...applyCarriedMap(result.document, c, importer.from));
  const finish = (ds: Diagnostic[]) => (options.strict ? escalateWarnings(ds) : ds);
  if (!result.document) {
    if (!hasErrors(diagnostics))
      diagnostics.push(
        diagnostic('MG7007', `no ${importer.from} object in the input names a service: nothing to import`),
      );
    return { diagnostics: finish(diagnostics), sources };
  }
  const invalid = validateMesh(result.document).filter((d) => d.severity === 'error');
  for (const d of invalid)
    diagnostics.push(
      diagnostic('MG7010', `the imported mesh does not validate: ${d.code} ${d.message}`, {
        ...(d.pointer !== undefined ? { pointer: d.pointer } : {}),
        hint: 'the diagnostics above say what was not carried; fix the input or edit the mesh written',
      }),
    );
  const all = finish(diagnostics);
  if (invalid.length) return { diagnostics: all, sources };
  return {
    document: result.document,
    yaml: meshYaml(result.document, result.origins, importer.from),
    diagnostics: all,
    sources,
  };
}

/** meshgen's ConfigMap of what a render's objects do not carry (src/import/carried.ts). */
function isCarried(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const o = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  return (
    o.apiVersion === 'v1' &&
    o.kind === 'ConfigMap' &&
    typeof o.metadata?.name === 'string' &&
    o.metadata.name.startsWith(`${CARRIED_NAME}-`)
  );
}

/**
 * Puts back what the ConfigMap says the objects do not carry for this source: each applied entry is
 * an info (MG7015), each whose field the objects now say otherwise a warning (MG7016), kept as read.
 */
function applyCarriedMap(document: MeshDocument, doc: InputDocument, from: string): Diagnostic[] {
  const text = (doc.value as { data?: Record<string, unknown> }).data?.[from];
  if (typeof text !== 'string') return [];
  let entries: CarriedEntry[];
  try {
    entries = JSON.parse(text) as CarriedEntry[];
    if (
      !Array.isArray(entries) ||
      entries.some((e) => typeof e?.at !== 'string' || typeof e.field !== 'string')
    )
      throw new Error('not a list of entries');
  } catch (e) {
    return [
      located(
        'MG7001',
        doc,
        ['data', from],
        `data.${from} of ${CARRIED_NAME} is not a list of entries: ${(e as Error).message}`,
      ),
    ];
  }
  const { applied, stale } = applyCarried(document, entries);
  const what = (e: CarriedEntry) => `${e.at}${e.field ? ` ${e.field}` : ''}`;
  const out: Diagnostic[] = [];
  if (applied.length)
    out.push(
      located(
        'MG7015',
        doc,
        ['data', from],
        `${applied.length} field(s) the ${from} objects do not carry, read from ${CARRIED_NAME}: ${summary(applied.map(what))}`,
      ),
    );
  for (const e of stale)
    out.push(
      located(
        'MG7016',
        doc,
        ['data', from],
        `${what(e)}: the objects now say otherwise than when they were rendered; kept as the objects say`,
      ),
    );
  return out;
}

/** The kinds of fields carried, each with its count: `backend versions x20, route name x40`. */
function summary(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const i of items) {
    const key = i.replace(/^(\w+)\/\S+/, '$1');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join(', ');
}
