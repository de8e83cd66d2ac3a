import { createRequire } from 'node:module';
import type YAMLModule from 'yaml';
import { checkEnvoy } from '../../envoy/check.js';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { SourceFile } from '../../model/source.js';
import { cluster, type ClusterConfig } from './cluster.js';
import { sockAddr, type Obj, type SockAddr } from './common.js';
import { listener, type ListenerConfig } from './listener.js';
import { supportedWalk, type PathError } from './supported.js';
import {
  splitCheckLine,
  stepDiagnostics,
  syntaxDiagnostics,
  notAtPathsOf,
  outsideItemsOf,
  readBootstrapText,
} from './diagnostics.js';
import { filterMessages, HTTP_FILTERS } from '../filters/registry.js';

// yaml is loaded when a bootstrap is first parsed: importing it would cost every meshgen command about 40 ms
const require = createRequire(import.meta.url);
let yaml: typeof YAMLModule | undefined;

/** The proxy's own typed configuration, converted from an Envoy v3 bootstrap. */
export interface ProxyConfig {
  node: { id: string; cluster: string };
  admin?: { address: SockAddr; accessLogPath?: string };
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  /** The bootstrap as read (for /config_dump). */
  raw: unknown;
}

export interface ConfigResult {
  config?: ProxyConfig;
  /** Every error as the step that found it says it: a JSON pointer into the bootstrap and a message. */
  errors: PathError[];
  warnings: string[];
  /**
   * The same errors and warnings as diagnostics, a code each (MG4001 the file, MG5001 syntax, MG5002
   * not in Envoy's API, MG5003 not implemented, MG5004 invalid configuration, MG5005 Envoy's
   * warnings) with a pointer into the document as written; located (file, line, column) when the
   * bootstrap was read from text.
   */
  diagnostics: Diagnostic[];
  /** The text read, for the source lines under diagnostics. */
  source?: SourceFile;
}

/** Reads a bootstrap file (YAML or JSON) and converts it; errors are data. */
export async function loadBootstrap(file: string): Promise<ConfigResult> {
  const read = await readBootstrapText(file);
  if (typeof read !== 'string')
    return { errors: [{ path: '/', message: read.message }], warnings: [], diagnostics: [read] };
  return parseBootstrap(read, file);
}

/** Parses a bootstrap (YAML or JSON) and converts it; every syntax error is reported, located. */
export function parseBootstrap(text: string, file = '<input>'): ConfigResult {
  const source = new SourceFile(file, text);
  let obj: unknown;
  try {
    const doc = (yaml ??= require('yaml') as typeof YAMLModule).parseDocument(text, {
      uniqueKeys: true,
      prettyErrors: false,
    });
    if (doc.errors.length) {
      const diagnostics = syntaxDiagnostics(doc.errors, source);
      const errors = diagnostics.map((d) => ({
        path: '/',
        message: `${file}:${d.line}:${d.column}: ${d.message}`,
      }));
      return { errors, warnings: [], diagnostics, source };
    }
    obj = doc.toJS();
  } catch (e) {
    // the parser's own limits (aliases that expand too far)
    const message = `syntax error: ${(e as Error).message}`;
    return {
      errors: [{ path: '/', message: `${file}: ${message}` }],
      warnings: [],
      diagnostics: [diagnostic('MG5001', message, { file })],
      source,
    };
  }
  return { ...convertBootstrap(obj, source), source };
}

/**
 * Checks a parsed bootstrap and converts it. Envoy's API check and the "not implemented" walk both
 * run, so that one pass reports both (a field Envoy does not know is not also "not implemented").
 * The conversion assumes the types the API check checks, so it runs only on a document that passed
 * it; it reads the walk's copy, without the fields not implemented, and what it then finds in the
 * list item (listener, cluster, route...) of such a field is left out as a possible consequence.
 * `source` locates the diagnostics.
 */
export function convertBootstrap(obj: unknown, source?: SourceFile): ConfigResult {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return finish({ api: [{ path: '/', message: 'a bootstrap must be a mapping' }] }, obj, source);
  const checked = checkEnvoy(obj);
  const api = checked.errors.map(splitCheckLine);
  const walked = walkSupported(obj, api.length > 0);
  const implemented = notAtPathsOf(walked.errors, api);
  if (api.length) return finish({ api, implemented, warnings: checked.warnings }, obj, source);
  const errors: PathError[] = [];
  let config: ProxyConfig | undefined;
  try {
    config = convert(walked.value as Obj, obj, errors);
  } catch (e) {
    // a conversion of a document with fields left out may trip on what they left; they explain it
    if (!implemented.length) throw e;
  }
  const invalid = outsideItemsOf(errors, implemented);
  return finish({ implemented, invalid, warnings: checked.warnings }, obj, source, config);
}

/** The walk; on a document Envoy's API check refused, a walk that trips is left to that check. */
function walkSupported(obj: object, refused: boolean): { errors: PathError[]; value: unknown } {
  try {
    return supportedWalk(obj, filterMessages());
  } catch (e) {
    if (!refused) throw e;
    return { errors: [], value: obj };
  }
}

interface Found {
  api?: PathError[];
  implemented?: PathError[];
  invalid?: PathError[];
  warnings?: string[];
}

function finish(found: Found, raw: unknown, source?: SourceFile, config?: ProxyConfig): ConfigResult {
  const { api = [], implemented = [], invalid = [], warnings = [] } = found;
  const errors = [...api, ...implemented, ...invalid];
  const diagnostics = [
    ...stepDiagnostics('api', api, raw, source),
    ...stepDiagnostics('implemented', implemented, raw, source),
    ...stepDiagnostics('invalid', invalid, raw, source),
    ...stepDiagnostics('warning', warnings.map(splitCheckLine), raw, source),
  ];
  return errors.length || !config
    ? { errors, warnings, diagnostics }
    : { config, errors, warnings, diagnostics };
}

function convert(b: Obj, raw: unknown, errors: PathError[]): ProxyConfig {
  const sr = (b.static_resources ?? {}) as Obj;
  const clusters: ClusterConfig[] = ((sr.clusters ?? []) as Obj[]).map((c, i) =>
    cluster(c, `/static_resources/clusters/${i}`, errors),
  );
  const names = new Set<string>();
  clusters.forEach((c, i) => {
    if (names.has(c.name))
      errors.push({
        path: `/static_resources/clusters/${i}/name`,
        message: `duplicate cluster name ${c.name}`,
      });
    names.add(c.name);
  });
  const listeners: ListenerConfig[] = ((sr.listeners ?? []) as Obj[]).map((l, i) =>
    listener(l, `/static_resources/listeners/${i}`, names, errors, i, HTTP_FILTERS),
  );
  const admin = b.admin?.address
    ? {
        address: sockAddr(b.admin.address, '/admin/address', errors),
        accessLogPath: b.admin.access_log_path as string | undefined,
      }
    : undefined;
  return {
    node: { id: String(b.node?.id ?? ''), cluster: String(b.node?.cluster ?? '') },
    admin,
    listeners,
    clusters,
    raw,
  };
}
