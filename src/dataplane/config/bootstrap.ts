import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import type YAMLModule from 'yaml';
import { checkEnvoy } from '../../envoy/check.js';
import { cluster, type ClusterConfig } from './cluster.js';
import { sockAddr, type Obj, type SockAddr } from './common.js';
import { listener, type ListenerConfig } from './listener.js';
import { supportedWalk, type PathError } from './supported.js';
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
  errors: PathError[];
  warnings: string[];
}

/** Reads a bootstrap file (YAML or JSON) and converts it; errors are data. */
export async function loadBootstrap(file: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    return { errors: [{ path: '/', message: `cannot read ${file}: ${(e as Error).message}` }], warnings: [] };
  }
  return parseBootstrap(text, file);
}

export function parseBootstrap(text: string, file = '<input>'): ConfigResult {
  let obj: unknown;
  try {
    const doc = (yaml ??= require('yaml') as typeof YAMLModule).parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length)
      return {
        errors: doc.errors.map((e) => ({ path: '/', message: `${file}: ${e.message}` })),
        warnings: [],
      };
    obj = doc.toJS();
  } catch (e) {
    return { errors: [{ path: '/', message: `${file}: ${(e as Error).message}` }], warnings: [] };
  }
  return convertBootstrap(obj);
}

export function convertBootstrap(obj: unknown): ConfigResult {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return { errors: [{ path: '/', message: 'a bootstrap must be a mapping' }], warnings: [] };
  const checked = checkEnvoy(obj);
  const split = (s: string): PathError => {
    const i = s.indexOf(': ');
    return { path: s.slice(0, i), message: s.slice(i + 2) };
  };
  if (!checked.ok) return { errors: checked.errors.map(split), warnings: checked.warnings };
  const walked = supportedWalk(obj, filterMessages());
  if (walked.errors.length) return { errors: walked.errors, warnings: checked.warnings };
  const errors: PathError[] = [];
  const config = convert(walked.value as Obj, obj, errors);
  return errors.length
    ? { errors, warnings: checked.warnings }
    : { config, errors, warnings: checked.warnings };
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
