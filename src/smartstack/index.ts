/**
 * What the proxy targets (HAProxy, NGINX, and Envoy when it wants) share: the hosts file of the
 * SmartStack pattern, the check that every version they send to has endpoints, the certificate
 * layout, and a few naming helpers.
 */
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import type { Endpoint, ResolvedBackend, ResolvedMesh, ResolvedRoute } from '../model/types.js';
import type { EmitOptions, TargetSetting } from '../emitters/types.js';

export { hostsFile } from './hosts.js';
export { certPaths, pemPath, type CertPaths } from './certs.js';

/** MG3003 for every version without endpoints: a proxy has nowhere to send its share. */
export function checkEndpoints(mesh: ResolvedMesh, target: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const b of mesh.backends)
    for (const v of b.versions)
      if (v.endpoints.length === 0)
        out.push(
          diagnostic(
            'MG3003',
            `version "${v.name}" of backend "${b.name}" has no endpoints, which the ${target} target sends to`,
            {
              pointer: v.pointer,
              target,
              hint: 'list the host:port of its instances under endpoints',
            },
          ),
        );
  return out;
}

/**
 * Checks what HAProxy and NGINX need before rendering: endpoints for every version, and a
 * `--set identity=<backend>` (the workload this node runs) that names a backend.
 */
export function checkProxyInput(mesh: ResolvedMesh, options: EmitOptions, target: string): Diagnostic[] {
  const diagnostics = checkEndpoints(mesh, target);
  const identity = options.settings?.['identity'];
  if (identity !== undefined && !mesh.backendsByName.has(identity))
    diagnostics.push(
      diagnostic('MG4003', `--set identity=${identity} names no backend of mesh "${mesh.name}"`, { target }),
    );
  return diagnostics;
}

/** The endpoints a destination covers: those of one version, or of all versions as one pool. */
export function destinationEndpoints(
  backend: ResolvedBackend,
  to: { readonly versions: readonly string[] },
): { version: string; endpoint: Endpoint }[] {
  // loops, not filter and flatMap: asked for each destination of each route
  const out: { version: string; endpoint: Endpoint }[] = [];
  for (const v of backend.versions)
    if (to.versions.includes(v.name)) for (const e of v.endpoints) out.push({ version: v.name, endpoint: e });
  return out;
}

/** A name usable as an identifier in proxy configs: letters, digits, `_`. */
export function ident(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9]/g, '_')).join('__');
}

/** True when traffic towards this backend's endpoints is mutual TLS: its mode is strict. */
export function upstreamMtls(backend: ResolvedBackend): boolean {
  // Only strict: permissive endpoints accept plain text too, and a proxy cannot tell (as Istio's
  // auto mTLS can) whether an endpoint speaks TLS, so plain text is what surely works there.
  return backend.mtlsMode === 'strict';
}

/** The settings HAProxy and NGINX share: where the certificates are, and whose workload runs here. */
export const PROXY_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'certDir',
    default: 'certs',
    accepts: 'a folder',
    check: (v) => v !== '',
    description: 'where the certificates are: the layout `meshgen certs` writes (see certs.md)',
  },
  {
    name: 'identity',
    accepts: 'a backend name',
    check: (v) => v !== '',
    description:
      'the backend whose workload this node runs: its certificate is presented on every east-west call. Without it, each local listener presents the certificate of the backend it leads to (one proxy for a whole mesh on one machine); frontends always present their own',
  },
];

/** A setting from `--set key=value`, or the default. */
export function setting(options: EmitOptions, key: string, fallback: string): string {
  const v = options.settings?.[key];
  return v === undefined || v === '' ? fallback : v;
}

/** `1500` -> `1500ms`, `2000` -> `2s`: a duration both HAProxy and NGINX read. */
export function proxyDuration(ms: number): string {
  const whole = Math.round(ms);
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}

/** Host names a route on a frontend accepts; undefined: any host. */
export function routeHosts(
  route: ResolvedRoute,
  frontendHosts: readonly string[],
): readonly string[] | undefined {
  const hosts =
    route.parent.kind === 'frontend' && route.parent.hosts.length ? route.parent.hosts : frontendHosts;
  return hosts.includes('*') ? undefined : hosts.map((h) => h.toLowerCase());
}

/**
 * Drops repeated diagnostics (a route split over several pools reports once): the same code, pointer
 * and message. Grouped by pointer, which is short and mostly unique, so that no key joining the
 * whole message is built (and hashed) for each of a large mesh's tens of thousands.
 */
export function uniqueDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  // one diagnostic, a few, or (many on one pointer) the keys of all of them
  const byPointer = new Map<string, Diagnostic | Diagnostic[] | Set<string>>();
  const out: Diagnostic[] = [];
  for (const d of list) {
    const pointer = d.pointer ?? '';
    const seen = byPointer.get(pointer);
    if (seen === undefined) byPointer.set(pointer, d);
    else if (seen instanceof Set) {
      const key = `${d.code}|${d.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
    } else if (Array.isArray(seen)) {
      if (seen.some((e) => e.code === d.code && e.message === d.message)) continue;
      if (seen.length < FEW) seen.push(d);
      else byPointer.set(pointer, new Set([...seen, d].map((e) => `${e.code}|${e.message}`)));
    } else {
      if (seen.code === d.code && seen.message === d.message) continue;
      byPointer.set(pointer, [seen, d]);
    }
    out.push(d);
  }
  return out;
}

/** Diagnostics on one pointer compared one by one; beyond, by key. */
const FEW = 16;

export { accessDecision, accessNote, callerIdentity, sameDecision, type AccessDecision } from './access.js';
