/**
 * Endpoints registered in the store: `<prefix>/endpoints/<backend>/<version>/<instance>` whose
 * value is `host:port`, or JSON `{"address": "host:port", "weight": 1, "zone": "a"}`. They join the
 * endpoints the mesh document lists for that version, before validation, so a version may list
 * none in the document and still pass the proxy targets' check.
 */
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import { endpointsPrefix } from './source.js';

export interface StoreEndpoint {
  /** The full key, for diagnostics. */
  readonly key: string;
  readonly backend: string;
  readonly version: string;
  readonly instance: string;
  readonly address: string;
}

/** The mesh schema's endpoint (schemas/mesh.schema.json `$defs/endpoint`). */
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}$/;
const MAX_ADDRESS = 261;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_VALUE = 4096;

/**
 * Reads one endpoint key and its value. A bad value or key is MG4023; a weight or zone, which
 * the mesh model has no place for, is MG4027 (the endpoint is kept, with its version's share).
 * `where` turns a key into the location diagnostics name.
 */
export function readEndpoint(
  prefix: string,
  key: string,
  value: string,
  where: (key: string) => string,
): { endpoint?: StoreEndpoint; diagnostics: Diagnostic[] } {
  const file = where(key);
  const bad = (why: string): { diagnostics: Diagnostic[] } => ({
    diagnostics: [
      diagnostic('MG4023', `endpoint ${key}: ${why}; it is skipped`, {
        file,
        hint: 'write host:port, or {"address": "host:port"}, under <prefix>/endpoints/<backend>/<version>/<instance>',
      }),
    ],
  });
  const parts = key.slice(endpointsPrefix(prefix).length).split('/');
  if (parts.length !== 3 || parts.some((p) => p === ''))
    return bad('the key is not <prefix>/endpoints/<backend>/<version>/<instance>');
  const [backend, version, instance] = parts as [string, string, string];
  if (!NAME.test(backend) || !NAME.test(version))
    return bad('the backend and version in the key are not DNS-1123 labels');
  if (value.length > MAX_VALUE) return bad(`the value is longer than ${MAX_VALUE} characters`);
  const diagnostics: Diagnostic[] = [];
  let address: unknown = value.trim();
  if (value.trim().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return bad('the value is neither host:port nor JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return bad('the JSON value is not an object');
    const fields = parsed as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((f) => !['address', 'weight', 'zone'].includes(f));
    if (unknown.length) return bad(`unknown field ${JSON.stringify(unknown[0]!.slice(0, 50))}`);
    address = fields['address'];
    const weight = fields['weight'];
    if (
      weight !== undefined &&
      !(Number.isInteger(weight) && (weight as number) >= 1 && (weight as number) <= 256)
    )
      return bad('"weight" is not an integer from 1 to 256');
    const zone = fields['zone'];
    if (zone !== undefined && !(typeof zone === 'string' && NAME.test(zone) && zone.length <= 63))
      return bad('"zone" is not a DNS-1123 label');
    for (const [field, v] of [
      ['weight', weight],
      ['zone', zone],
    ] as const)
      if (v !== undefined)
        diagnostics.push(
          diagnostic(
            'MG4027',
            `endpoint ${key}: "${field}" is not used: the mesh has no per-endpoint ${field}`,
            {
              file,
              hint: 'the endpoint gets an even share of its version; split traffic with versions and route weights',
            },
          ),
        );
  }
  if (typeof address !== 'string' || address.length > MAX_ADDRESS || !ADDRESS.test(address))
    return bad('the address is not ipv4:port, [ipv6]:port or hostname:port');
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535) return bad(`the port ${port} is not from 1 to 65535`);
  return { endpoint: { key, backend, version, instance, address }, diagnostics };
}

/**
 * Adds the store's endpoints to the parsed mesh document (before validation): each to its
 * backend's version, after the document's own, in key order, once. An endpoint whose backend or
 * version the document does not have is MG4024 and skipped.
 */
export function addEndpoints(
  value: unknown,
  endpoints: readonly StoreEndpoint[],
  where: (key: string) => string,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const backends = (value as { spec?: { backends?: unknown } } | null)?.spec?.backends;
  const list = Array.isArray(backends) ? (backends as unknown[]) : [];
  for (const e of [...endpoints].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const backend = list.find((b) => (b as { name?: unknown } | null)?.name === e.backend) as
      { versions?: unknown } | undefined;
    const versions = Array.isArray(backend?.versions) ? (backend.versions as unknown[]) : [];
    const version = versions.find((v) => (v as { name?: unknown } | null)?.name === e.version) as
      { endpoints?: unknown } | undefined;
    if (!version || typeof version !== 'object') {
      diagnostics.push(
        diagnostic(
          'MG4024',
          backend
            ? `endpoint ${e.key}: backend "${e.backend}" has no version "${e.version}"; it is skipped`
            : `endpoint ${e.key}: the mesh has no backend "${e.backend}"; it is skipped`,
          { file: where(e.key), hint: 'add the backend and version to the mesh document, or remove the key' },
        ),
      );
      continue;
    }
    if (version.endpoints === undefined) version.endpoints = [];
    if (!Array.isArray(version.endpoints)) continue; // the schema reports it
    if (!(version.endpoints as unknown[]).includes(e.address))
      (version.endpoints as unknown[]).push(e.address);
  }
  return diagnostics;
}
