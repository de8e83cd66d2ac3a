import fs from 'node:fs';
import path from 'node:path';
import { checkEnvoy } from '../../envoy/check.js';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { SourceFile } from '../../model/source.js';
import { filterMessages } from '../filters/registry.js';
import type { Obj } from './common.js';
import {
  decodeConfigText,
  parseConfigText,
  readError,
  sourcePointer,
  splitCheckLine,
  stepDiagnostics,
} from './diagnostics.js';
import { supportedWalk } from './supported.js';

/**
 * LDS and CDS from files, as Envoy's filesystem config sources: a bootstrap's `dynamic_resources`
 * name a `path_config_source` for its listeners and one for its clusters; each file holds a
 * DiscoveryResponse whose `resources` are `Any`s of Listener or Cluster. Each file is checked as
 * the bootstrap is (Envoy's API, then what meshgen proxy implements), its diagnostics located in
 * that file; the bootstrap converts the resources (config/bootstrap.ts) with its static ones.
 */

/** What a discovery source holds. */
type DiscoveryKind = 'lds' | 'cds';

const RESOURCE: Record<DiscoveryKind, { type: string; what: string }> = {
  lds: { type: 'envoy.config.listener.v3.Listener', what: 'listener' },
  cds: { type: 'envoy.config.cluster.v3.Cluster', what: 'cluster' },
};
const RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';

/** Reads a discovery file's text by its path: the file system, or rendered files held in memory. */
export type DiscoveryReader = (file: string) => string | Diagnostic;

/** Reads from the file system (the default). */
function readDiscoveryFile(file: string): string | Diagnostic {
  try {
    return decodeConfigText(fs.readFileSync(file), file);
  } catch (e) {
    return diagnostic('MG5006', `cannot read ${file}: ${readError(e)}`);
  }
}

/**
 * Reads rendered files held in memory (`meshgen run`, `meshgen test`) by their base name: the
 * bootstrap names them in the folder they will be copied to.
 */
export function readRenderedFiles(files: readonly { path: string; contents: string }[]): DiscoveryReader {
  const byName = new Map(files.map((f) => [path.posix.basename(f.path), f.contents]));
  return (file) =>
    byName.get(path.posix.basename(file)) ??
    diagnostic('MG5006', `cannot read ${file}: the render wrote no ${path.posix.basename(file)}`);
}

/** One discovery file, read and checked: its resources (the implemented fields) and its text. */
export interface DiscoveryFile {
  readonly kind: DiscoveryKind;
  readonly path: string;
  /** The resources, as supportedWalk returns them (proto field names), without their `@type`. */
  readonly resources: Obj[];
  /** The file as parsed, and its text: for the pointers and locations of later diagnostics. */
  readonly raw: unknown;
  readonly source: SourceFile;
}

export interface DiscoveryResult {
  /** Absent when a file could not be read or checked: the diagnostics say why. */
  readonly files?: DiscoveryFile[];
  readonly diagnostics: Diagnostic[];
  /** The text of every file read, for the source lines under its diagnostics. */
  readonly sources: SourceFile[];
}

/**
 * Reads and checks the discovery files a bootstrap names. `boot` is the bootstrap as walked (proto
 * field names), `raw` and `source` the bootstrap as written (to locate a path that cannot be read).
 */
export function loadDiscovery(
  boot: Obj,
  raw: unknown,
  source: SourceFile | undefined,
  read: DiscoveryReader = readDiscoveryFile,
): DiscoveryResult {
  const dr = (boot.dynamic_resources ?? {}) as Obj;
  const files: DiscoveryFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const sources: SourceFile[] = [];
  let failed = false;
  for (const [kind, key] of [
    ['lds', 'lds_config'],
    ['cds', 'cds_config'],
  ] as const) {
    const cs = dr[key] as Obj | undefined;
    if (!cs) continue;
    const at = cs.path_config_source
      ? `/dynamic_resources/${key}/path_config_source/path`
      : `/dynamic_resources/${key}/path`;
    const file = String(cs.path_config_source?.path ?? cs.path ?? '');
    // another kind of source (ads, api_config_source) is refused as not implemented by the walk
    if (file === '') {
      failed = true;
      continue;
    }
    const one = loadOne(kind, file, read);
    if (one.source) sources.push(one.source);
    if ('diagnostics' in one) {
      failed = true;
      diagnostics.push(
        ...one.diagnostics.map((d) =>
          d.code === 'MG5006' && d.file === undefined ? locateInBootstrap(d, at, raw, source) : d,
        ),
      );
    } else {
      files.push(one.file);
      diagnostics.push(...one.warnings);
    }
  }
  return failed ? { diagnostics, sources } : { files, diagnostics, sources };
}

function locateInBootstrap(d: Diagnostic, at: string, raw: unknown, source?: SourceFile): Diagnostic {
  const pointer = sourcePointer(raw, at);
  const located = { ...d, message: `${pointer}: ${d.message}`, pointer };
  return source ? { ...located, file: source.file, ...source.locate(pointer) } : located;
}

function loadOne(
  kind: DiscoveryKind,
  file: string,
  read: DiscoveryReader,
): { source?: SourceFile } & (
  { file: DiscoveryFile; warnings: Diagnostic[] } | { diagnostics: Diagnostic[] }
) {
  const text = read(file);
  if (typeof text !== 'string') return { diagnostics: [text] };
  const source = new SourceFile(file, text);
  const parsed = parseConfigText(source);
  if ('diagnostics' in parsed) return { ...parsed, source };
  const raw = parsed.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return {
      source,
      diagnostics: [
        diagnostic('MG5006', `${file} must hold a DiscoveryResponse (a mapping with resources:)`, {
          file,
          line: 1,
          column: 1,
        }),
      ],
    };
  const checked = checkEnvoy(raw, { type: RESPONSE });
  const api = checked.errors.map(splitCheckLine);
  const warnings = stepDiagnostics('warning', checked.warnings.map(splitCheckLine), raw, source);
  if (api.length) return { source, diagnostics: [...stepDiagnostics('api', api, raw, source), ...warnings] };
  const walked = supportedWalk(raw, filterMessages(), RESPONSE);
  const { type } = RESOURCE[kind];
  const wrong: Diagnostic[] = [];
  const response = walked.value as Obj;
  const typeUrl = response.type_url as string | undefined;
  if (typeUrl && typeUrl !== `type.googleapis.com/${type}`)
    wrong.push(wrongType(`/type_url`, `type_url ${typeUrl}`, kind, raw, source));
  const resources = ((response.resources ?? []) as Obj[]).map((r, i) => {
    if (r['@type'] !== type)
      wrong.push(wrongType(`/resources/${i}/@type`, String(r['@type']), kind, raw, source));
    const rest = { ...r };
    delete rest['@type'];
    return rest;
  });
  const implemented = stepDiagnostics('implemented', walked.errors, raw, source);
  if (implemented.length || wrong.length)
    return { source, diagnostics: [...implemented, ...wrong, ...warnings] };
  return { source, file: { kind, path: file, resources, raw, source }, warnings };
}

function wrongType(
  at: string,
  found: string,
  kind: DiscoveryKind,
  raw: unknown,
  source: SourceFile,
): Diagnostic {
  const { type, what } = RESOURCE[kind];
  const pointer = sourcePointer(raw, at);
  const d = diagnostic(
    'MG5007',
    `${pointer}: the ${kind === 'lds' ? 'lds_config' : 'cds_config'} file holds ${what}s (${type}), not ${found}`,
    { pointer },
  );
  return { ...d, file: source.file, ...source.locate(pointer) };
}

/**
 * Calls `changed` when one of `files` is replaced by a rename into its folder (as Envoy watches a
 * path config source: only moves are atomic, so an edit in place is not seen). Returns the stop.
 */
export function watchDiscovery(files: readonly string[], changed: () => void): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const abs = path.resolve(f);
    const dir = path.dirname(abs);
    byDir.set(dir, (byDir.get(dir) ?? new Set()).add(path.basename(abs)));
  }
  let timer: NodeJS.Timeout | undefined;
  const watchers = [...byDir].map(([dir, names]) =>
    fs.watch(dir, (event, name) => {
      if (event !== 'rename' || name === null || !names.has(name)) return;
      // a rename may come with others (the old file's removal): one reload for them all
      clearTimeout(timer);
      timer = setTimeout(changed, 50);
    }),
  );
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
