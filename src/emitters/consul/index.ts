import { diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedMesh } from '../../model/types.js';
import { ObjectFileSink } from '../../kubernetes/objects.js';
import type { Emitter, EmitOptions, EmitResult, Fidelity, OutputFile, TargetSetting } from '../types.js';
import { versionSetting } from '../settings.js';
import { emitBackends } from './backends.js';
import { CRD_SPEC_KEYS, crdSource } from './crd.js';
import { emitFrontends } from './frontends.js';
import { toHcl } from './hcl.js';
import { emitIntentions } from './intentions.js';
import { KIND_ORDER, Output, TARGET, type Built, type ConfigEntry } from './model.js';
import { emitMeshEntry } from './mesh.js';
import { CONSUL_VERSIONS } from './versions.js';
import { readVersion } from '../versions.js';

const CONSUL_FORMATS = ['crd', 'hcl', 'json'] as const;

/** What Consul Connect config entries keep of each feature (docs/consul.md explains each row). */
const fidelity: Readonly<Record<Feature, Fidelity>> = {
  split: 'approximate', // exact for HTTP (service-splitter); TCP cannot be split, explained per route
  'header-match': 'exact',
  'query-match': 'exact', // a prefix becomes an anchored regex
  'method-match': 'exact',
  'regex-path': 'exact',
  timeout: 'exact', // Destination.RequestTimeout
  retries: 'approximate', // no retry host predicate: a retry may hit the same endpoint
  'per-try-timeout': 'unsupported', // ServiceRouteDestination has no per-try timeout
  'fault-delay': 'unsupported',
  'fault-abort': 'unsupported',
  mirror: 'unsupported',
  'rewrite-path': 'exact', // PrefixRewrite
  'rewrite-host': 'unsupported', // no host rewrite in service-router; Envoy refuses Host in header ops
  'request-headers': 'exact',
  'response-headers': 'exact',
  'load-balancer': 'exact',
  'ring-hash': 'exact',
  'health-check': 'unsupported', // Consul's checks live in the service registration, not config entries
  'circuit-breaker': 'approximate', // no maxRetries limit; callers' UpstreamConfig
  'outlier-detection': 'exact', // callers' UpstreamConfig PassiveHealthCheck
  mtls: 'exact',
  access: 'exact',
  'access-l7': 'exact',
  'https-frontend': 'approximate', // the gateway's certificate comes from Consul's CA (or SDS)
  'client-certificates': 'unsupported',
  tcp: 'exact',
  'tls-passthrough': 'approximate', // a TCP listener: no SNI routing
};

/** Builds every config entry of the mesh, in the order `consul config write` needs them. */
export function buildEntries(
  mesh: ResolvedMesh,
  settings: Readonly<Record<string, string>> = {},
  write?: (b: Built) => void,
): Output {
  const out = new Output(write);
  for (const d of readVersion(TARGET, CONSUL_VERSIONS, settings).diagnostics) out.diagnostics.push(d);
  // real services first, so a generated name that collides with one is the one reported
  for (const b of mesh.backends) out.claim(b.name, 'backend', b.name, b.pointer);
  for (const f of mesh.frontends) out.claim(f.name, 'frontend', f.name, f.pointer);
  emitBackends(mesh, out);
  emitFrontends(mesh, out, settings.consulSdsCluster);
  emitIntentions(mesh, out);
  if (mesh.backends.some((b) => b.protocol !== 'tcp'))
    out.warn(
      'MG3005',
      'Consul leaves the route timeout of routes without `timeout` unset, so Envoy applies its default of 15s to each request',
      undefined,
    );
  emitMeshEntry(mesh, out, settings);
  return out;
}

/** The mesh entry is a singleton without a Name field (api/config_entry_mesh.go): its Name is left out. */
function writtenEntry(entry: ConfigEntry): Readonly<Record<string, unknown>> {
  if (entry.Kind !== 'mesh') return entry;
  const { Name: _name, ...rest } = entry;
  return rest;
}

function entryFiles(built: readonly Built[], format: 'hcl' | 'json'): OutputFile[] {
  return built
    .map(({ entry }) => ({
      path: `${KIND_ORDER.indexOf(entry.Kind)}-${entry.Kind}-${entry.Name}.${format}`,
      contents:
        format === 'hcl' ? toHcl(writtenEntry(entry)) : JSON.stringify(writtenEntry(entry), null, 2) + '\n',
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The settings of `--set`, for the checks, `meshgen targets --target consul` and docs/consul.md. */
const CONSUL_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'consulFormat',
    values: CONSUL_FORMATS,
    default: 'crd',
    description:
      'custom resources for consul-k8s, or config entries for `consul config write` (also `--consul-format`)',
  },
  {
    name: 'consulSdsCluster',
    accepts: 'an Envoy cluster name',
    check: (v) => v !== '',
    description:
      "the SDS server's cluster, registered with the gateway: HTTPS frontends then serve their own certificate (`tls.secretName`) instead of one from Consul's CA",
  },
  {
    name: 'consulMeshEntry',
    values: ['true', 'false'],
    default: 'true',
    description:
      'write the mesh config entry that permissive backends need; `false` when the cluster manages its own',
  },
  versionSetting(TARGET, CONSUL_VERSIONS),
];

export const consul: Emitter = {
  target: TARGET,
  summary: 'Consul Connect config entries: CRDs for consul-k8s, or HCL/JSON for `consul config write`',
  fidelity,
  versions: CONSUL_VERSIONS,
  settings: CONSUL_SETTINGS,
  emit(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
    const format = options.settings?.consulFormat ?? 'crd';
    if (!(CONSUL_FORMATS as readonly string[]).includes(format))
      return {
        files: [],
        diagnostics: [
          diagnostic('MG4003', `unknown consul format "${format}"`, {
            hint: `use one of: ${CONSUL_FORMATS.join(', ')}`,
          }),
        ],
      };
    if (format === 'crd') {
      // each custom resource is written as its entry is built (the sink sorts the files by path)
      const sink = new ObjectFileSink();
      const out = buildEntries(mesh, options.settings, (b) => sink.add(crdSource(mesh, b), CRD_SPEC_KEYS));
      return { files: sink.files(), diagnostics: out.diagnostics };
    }
    const out = buildEntries(mesh, options.settings);
    return { files: entryFiles(out.built, format as 'hcl' | 'json'), diagnostics: out.diagnostics };
  },
};
