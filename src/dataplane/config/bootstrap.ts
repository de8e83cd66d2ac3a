import { checkEnvoy } from '../../envoy/check.js';
import type { Diagnostic } from '../../model/diagnostics.js';
import { SourceFile } from '../../model/source.js';
import { cluster, type ClusterConfig } from './cluster.js';
import { readingEachFileOnce, sockAddr, type Obj, type SockAddr } from './common.js';
import { listener, type ListenerConfig } from './listener.js';
import { supportedWalk, type PathError } from './supported.js';
import {
  splitCheckLine,
  stepDiagnostics,
  notAtPathsOf,
  outsideItemsOf,
  parseConfigText,
  readBootstrapText,
} from './diagnostics.js';
import { loadDiscovery, type DiscoveryFile, type DiscoveryReader } from './discovery.js';
import { filterMessages, HTTP_FILTERS } from '../filters/registry.js';
import type { DiscoverySource } from '../admin/config-dump.js';

/** The proxy's own typed configuration, converted from an Envoy v3 bootstrap. */
export interface ProxyConfig {
  node: { id: string; cluster: string };
  admin?: { address: SockAddr; accessLogPath?: string };
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  /** The bootstrap as read (for /config_dump). */
  raw: unknown;
  /** The discovery files (LDS, CDS) its dynamic_resources name, as given: watched for moves. */
  discovery: string[];
  /** Those files as parsed (for /config_dump: their resources and version_info). */
  discoverySources?: DiscoverySource[];
}

export interface BootstrapOptions {
  /** How the discovery files of dynamic_resources are read; the file system by default. */
  readDiscovery?: DiscoveryReader;
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
  /** The discovery files read, for the source lines under their diagnostics. */
  discoverySources?: SourceFile[];
}

/** Reads a bootstrap file (YAML or JSON) and converts it; errors are data. */
export async function loadBootstrap(file: string, options: BootstrapOptions = {}): Promise<ConfigResult> {
  const read = await readBootstrapText(file);
  if (typeof read !== 'string')
    return { errors: [{ path: '/', message: read.message }], warnings: [], diagnostics: [read] };
  return parseBootstrap(read, file, options);
}

/** Parses a bootstrap (YAML or JSON) and converts it; every syntax error is reported, located. */
export function parseBootstrap(text: string, file = '<input>', options: BootstrapOptions = {}): ConfigResult {
  const source = new SourceFile(file, text);
  const parsed = parseConfigText(source);
  if ('diagnostics' in parsed) {
    const errors = parsed.diagnostics.map((d) => ({
      path: '/',
      message: d.line === undefined ? `${file}: ${d.message}` : `${file}:${d.line}:${d.column}: ${d.message}`,
    }));
    return { errors, warnings: [], diagnostics: parsed.diagnostics, source };
  }
  return { ...convertBootstrap(parsed.value, source, options), source };
}

/**
 * Checks a parsed bootstrap and converts it. Envoy's API check and the "not implemented" walk both
 * run, so that one pass reports both (a field Envoy does not know is not also "not implemented").
 * The conversion assumes the types the API check checks, so it runs only on a document that passed
 * it; it reads the walk's copy, without the fields not implemented, and what it then finds in the
 * list item (listener, cluster, route...) of such a field is left out as a possible consequence.
 * `source` locates the diagnostics.
 */
export function convertBootstrap(
  obj: unknown,
  source?: SourceFile,
  options: BootstrapOptions = {},
): ConfigResult {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return finish({ api: [{ path: '/', message: 'a bootstrap must be a mapping' }] }, obj, source);
  const checked = checkEnvoy(obj);
  const api = checked.errors.map(splitCheckLine);
  const walked = walkSupported(obj, api.length > 0);
  const implemented = notAtPathsOf(walked.errors, api);
  if (api.length) return finish({ api, implemented, warnings: checked.warnings }, obj, source);
  const discovery = loadDiscovery(walked.value as Obj, obj, source, options.readDiscovery);
  const found = { implemented, warnings: checked.warnings, discovery: discovery.diagnostics };
  if (!discovery.files) return { ...finish(found, obj, source), discoverySources: discovery.sources };
  const errors: PathError[] = [];
  const dynamic = discovery.files.map((file) => ({ file, errors: [] as PathError[] }));
  let config: ProxyConfig | undefined;
  try {
    config = readingEachFileOnce(() => convert(walked.value as Obj, obj, errors, dynamic));
  } catch (e) {
    // a conversion of a document with fields left out may trip on what they left; they explain it
    if (!implemented.length) throw e;
  }
  const invalid = outsideItemsOf(errors, implemented);
  // what the conversion found in a discovery file is located in that file
  const inFiles = dynamic.flatMap((d) => stepDiagnostics('invalid', d.errors, d.file.raw, d.file.source));
  const result = finish(
    { ...found, invalid, discovery: [...discovery.diagnostics, ...inFiles] },
    obj,
    source,
    config,
  );
  return { ...result, discoverySources: discovery.sources };
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
  /** The discovery files' diagnostics, located in them (or in the bootstrap, a file not read). */
  discovery?: Diagnostic[];
}

function finish(found: Found, raw: unknown, source?: SourceFile, config?: ProxyConfig): ConfigResult {
  const { api = [], implemented = [], invalid = [], warnings = [], discovery = [] } = found;
  const inFiles = discovery.filter((d) => d.severity === 'error');
  const errors = [
    ...api,
    ...implemented,
    ...invalid,
    ...inFiles.map((d) => ({
      path: '/',
      message: d.line === undefined ? d.message : `${d.file}:${d.line}:${d.column}: ${d.message}`,
    })),
  ];
  const diagnostics = [
    ...stepDiagnostics('api', api, raw, source),
    ...stepDiagnostics('implemented', implemented, raw, source),
    ...stepDiagnostics('invalid', invalid, raw, source),
    ...discovery.filter((d) => d.severity === 'error'),
    ...stepDiagnostics('warning', warnings.map(splitCheckLine), raw, source),
    ...discovery.filter((d) => d.severity !== 'error'),
  ];
  return errors.length || !config
    ? { errors, warnings, diagnostics }
    : { config, errors, warnings, diagnostics };
}

/** A discovery file's resources and the conversion's errors in it (paths into that file). */
interface Dynamic {
  readonly file: DiscoveryFile;
  readonly errors: PathError[];
}

function convert(b: Obj, raw: unknown, errors: PathError[], dynamic: readonly Dynamic[]): ProxyConfig {
  const sr = (b.static_resources ?? {}) as Obj;
  const secrets = staticSecrets(sr, errors);
  const names = new Set<string>();
  const unique = (name: string, path: string, errs: PathError[]) => {
    if (names.has(name)) errs.push({ path, message: `duplicate cluster name ${name}` });
    names.add(name);
  };
  const clusters: ClusterConfig[] = ((sr.clusters ?? []) as Obj[]).map((c, i) => {
    const p = `/static_resources/clusters/${i}`;
    const cl = cluster(withSecrets(c, p, secrets, errors), p, errors);
    unique(cl.name, `${p}/name`, errors);
    return cl;
  });
  // clusters first, as Envoy initializes CDS before LDS: the listeners' routes may name them
  for (const d of dynamic.filter((x) => x.file.kind === 'cds'))
    d.file.resources.forEach((c, i) => {
      const p = `/resources/${i}`;
      const cl = cluster(withSecrets(c, p, secrets, d.errors), p, d.errors);
      unique(cl.name, `${p}/name`, d.errors);
      clusters.push(cl);
    });
  const listeners: ListenerConfig[] = ((sr.listeners ?? []) as Obj[]).map((l, i) => {
    const p = `/static_resources/listeners/${i}`;
    return listener(withSecrets(l, p, secrets, errors), p, names, errors, i, HTTP_FILTERS);
  });
  const listenerNames = new Set(listeners.map((l) => l.name));
  for (const d of dynamic.filter((x) => x.file.kind === 'lds'))
    d.file.resources.forEach((l, i) => {
      const p = `/resources/${i}`;
      const lc = listener(withSecrets(l, p, secrets, d.errors), p, names, d.errors, i, HTTP_FILTERS);
      if (listenerNames.has(lc.name))
        d.errors.push({ path: `${p}/name`, message: `duplicate listener name ${lc.name}` });
      listenerNames.add(lc.name);
      listeners.push(lc);
    });
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
    discovery: dynamic.map((d) => d.file.path),
    discoverySources: dynamic.map((d) => ({
      kind: d.file.kind,
      path: d.file.path,
      raw: d.file.raw,
    })),
  };
}

/** `static_resources.secrets` by name: the TlsCertificate each holds. */
function staticSecrets(sr: Obj, errors: PathError[]): Map<string, Obj> {
  const out = new Map<string, Obj>();
  ((sr.secrets ?? []) as Obj[]).forEach((s, i) => {
    const p = `/static_resources/secrets/${i}`;
    const name = String(s.name ?? '');
    if (!s.tls_certificate)
      errors.push({
        path: p,
        message: 'a secret needs a tls_certificate (the only kind meshgen proxy reads)',
      });
    else if (out.has(name)) errors.push({ path: `${p}/name`, message: `duplicate secret name ${name}` });
    else out.set(name, s.tls_certificate as Obj);
  });
  return out;
}

/**
 * A copy of a listener or cluster whose TLS contexts name static secrets
 * (`tls_certificate_sds_secret_configs` without sds_config) with those secrets' certificates in
 * `tls_certificates`, as Envoy looks them up in static_resources.secrets.
 */
function withSecrets(item: Obj, p: string, secrets: ReadonlyMap<string, Obj>, errors: PathError[]): Obj {
  // what holds no such reference is kept as it is (not copied): the conversion only reads it
  const visit = (v: unknown, vp: string): unknown => {
    if (Array.isArray(v)) {
      let changed = false;
      const out = v.map((x, i) => {
        const y = visit(x, `${vp}/${i}`);
        if (y !== x) changed = true;
        return y;
      });
      return changed ? out : v;
    }
    if (v === null || typeof v !== 'object') return v;
    const o = v as Obj;
    let changed = false;
    const out: Obj = {};
    for (const [k, x] of Object.entries(o))
      if (k !== 'tls_certificate_sds_secret_configs') {
        const y = visit(x, `${vp}/${k}`);
        if (y !== x) changed = true;
        out[k] = y;
      }
    const sds = o.tls_certificate_sds_secret_configs as Obj[] | undefined;
    if (!sds) return changed ? out : o;
    const certs = [...((out.tls_certificates as Obj[] | undefined) ?? [])];
    sds.forEach((c, i) => {
      const cert = secrets.get(String(c.name));
      if (cert) certs.push(cert);
      else
        errors.push({
          path: `${vp}/tls_certificate_sds_secret_configs/${i}/name`,
          message: `no secret named ${String(c.name)} in static_resources.secrets`,
        });
    });
    out.tls_certificates = certs;
    return out;
  };
  return visit(item, p) as Obj;
}
