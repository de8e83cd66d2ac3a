import { diagnostic } from '../../model/diagnostics.js';
import type { ResolvedMesh } from '../../model/types.js';
import { TARGET, type Output } from './model.js';

/**
 * Consul refuses a service-defaults entry that sets MutualTLSMode permissive unless the mesh entry
 * sets AllowEnablingPermissiveMutualTLS = true (agent/consul/state/config_entry.go,
 * checkMutualTLSMode); the refused service then keeps the tcp protocol, and every splitter and router
 * on it is refused in turn. So the mesh entry is written, first, whenever a backend is permissive (or
 * disabled, rendered as permissive), unless `--set consulMeshEntry=false` says the cluster's own mesh
 * entry carries the field: then what must be set is said (MG3009). The mesh entry is one for the whole
 * datacenter (consul-k8s names its custom resource "mesh" and accepts only one), which is said too.
 */
export function emitMeshEntry(
  mesh: ResolvedMesh,
  out: Output,
  settings: Readonly<Record<string, string>>,
): void {
  const permissive = mesh.backends.filter((b) => b.mtlsMode !== 'strict').map((b) => `"${b.name}"`);
  const setting = settings.consulMeshEntry;
  if (setting !== undefined && setting !== 'true' && setting !== 'false')
    out.diagnostics.push(
      diagnostic('MG4003', `--set consulMeshEntry=${setting} is neither true nor false`, {
        target: TARGET,
        hint: 'false when the cluster manages its own mesh config entry',
      }),
    );
  if (!permissive.length) return;
  const named = permissive.length > 5 ? `${permissive.slice(0, 5).join(', ')}, ...` : permissive.join(', ');
  if (setting === 'false') {
    out.diagnostics.push(
      diagnostic(
        'MG3009',
        `backends ${named} are MutualTLSMode permissive, which Consul refuses unless the cluster's mesh config entry sets AllowEnablingPermissiveMutualTLS = true; meshgen does not write that entry (consulMeshEntry=false)`,
        {
          target: TARGET,
          hint: 'add AllowEnablingPermissiveMutualTLS = true to the mesh config entry (allowEnablingPermissiveMutualTLS: true in the Mesh resource) before applying these',
        },
      ),
    );
    return;
  }
  out.add({ Kind: 'mesh', Name: 'mesh', AllowEnablingPermissiveMutualTLS: true }, mesh.namespace);
  out.warn(
    'MG3005',
    `the mesh config entry is written with AllowEnablingPermissiveMutualTLS = true, which MutualTLSMode permissive on backends ${named} needs; it is one entry for the whole datacenter, and writing it replaces an existing one`,
    undefined,
    'if the cluster already has a mesh config entry, add the field to it and render with --set consulMeshEntry=false',
  );
}
