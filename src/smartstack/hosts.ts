import type { ResolvedMesh } from '../model/types.js';

/**
 * The hosts file of the SmartStack pattern: every backend's local listener address under
 * `<backend>` and `<backend>.<namespace>`, so callers reach `<backend>:<port>` by name even when
 * several backends share a port (each then has its own loopback address). Append it to /etc/hosts
 * on the node (or point a resolver at it).
 */
export function hostsFile(mesh: ResolvedMesh): string {
  const lines = [`# meshgen: local listeners of mesh "${mesh.name}" (append to /etc/hosts)`];
  for (const b of mesh.backends) lines.push(`${b.localAddress}\t${b.name} ${b.name}.${b.namespace}`);
  return lines.join('\n') + '\n';
}
