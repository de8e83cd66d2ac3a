/**
 * Where a mesh comes from: a file, or an etcd prefix (`etcd://host:port/<prefix>`), as confd and
 * SmartStack read their registries. Under the prefix, the mesh document is `<prefix>/mesh` and each
 * live endpoint `<prefix>/endpoints/<backend>/<version>/<instance>` (docs/live.md).
 */
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';

export type MeshSource =
  | { readonly kind: 'file'; readonly path: string }
  | {
      readonly kind: 'etcd';
      /** `host:port` of the etcd client URL. */
      readonly endpoint: string;
      /** Without a trailing slash; starts with `/`, or is empty for the root. */
      readonly prefix: string;
      /** Whether the client speaks TLS: `etcds://`, or any of the TLS options given. */
      readonly tls: boolean;
    };

/** etcd keys are bytes; a prefix stays printable and bounded, as every string meshgen reads. */
const PREFIX = /^(\/[A-Za-z0-9._~-]+)*$/;
const MAX_PREFIX = 512;

/**
 * Reads `--source`: `etcd://host:port/prefix` (or `etcds://` for TLS) names a store; anything else
 * is a file path. A bad etcd URL is MG4020.
 */
export function parseSource(text: string, { tls = false } = {}): MeshSource | Diagnostic {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'file', path: text };
  if (scheme !== 'etcd' && scheme !== 'etcds')
    return bad(text, `the scheme "${scheme}" is not one meshgen reads`);
  let url: URL;
  try {
    url = new URL(text.replace(/^[a-z]+:/i, 'http:'));
  } catch {
    return bad(text, 'it is not a URL');
  }
  if (url.username || url.password)
    return bad(text, 'credentials do not belong in the URL: use --etcd-user and --etcd-password');
  if (url.search || url.hash) return bad(text, 'it has a query or a fragment');
  if (!url.port) return bad(text, 'it has no port (etcd listens on 2379 by default: write it)');
  const prefix = url.pathname.replace(/\/+$/, '');
  if (prefix.length > MAX_PREFIX || !PREFIX.test(prefix))
    return bad(
      text,
      `the prefix "${prefix}" is not /-separated names of letters, digits, ".", "_", "~" and "-"`,
    );
  return { kind: 'etcd', endpoint: `${url.hostname}:${url.port}`, prefix, tls: tls || scheme === 'etcds' };
}

function bad(text: string, why: string): Diagnostic {
  return diagnostic('MG4020', `--source ${JSON.stringify(text.slice(0, 200))}: ${why}`, {
    hint: 'write a file path, or etcd://host:port/prefix (etcds:// for TLS)',
  });
}

/** The key of the mesh document under a prefix. */
export function meshKey(prefix: string): string {
  return `${prefix}/mesh`;
}

/** The prefix of every endpoint key. */
export function endpointsPrefix(prefix: string): string {
  return `${prefix}/endpoints/`;
}

/** The key of one instance of a backend's version. */
export function endpointKey(prefix: string, backend: string, version: string, instance: string): string {
  return `${endpointsPrefix(prefix)}${backend}/${version}/${instance}`;
}

/** How a diagnostic names a key of the store: as a URL, so it reads as a location. */
export function keyLocation(source: { endpoint: string }, key: string): string {
  return `etcd://${source.endpoint}${key}`;
}
