/** Loading a mesh from `--source`: a file as `loadMesh` reads it, or an etcd prefix read once. */
import { loadMesh, parseMesh, type LoadOptions, type MeshResult } from '../model/load.js';
import { connectEtcd, meshOfSnapshot, readStore, type EtcdOptions } from './etcd.js';
import { keyLocation, meshKey, type MeshSource } from './source.js';

/** The mesh of a source; a store's failure is a diagnostic of the result, located at the mesh key. */
export async function loadSource(
  source: MeshSource,
  etcd: EtcdOptions,
  options: LoadOptions = {},
): Promise<MeshResult> {
  if (source.kind === 'file') return loadMesh(source.path, options);
  const file = keyLocation(source, meshKey(source.prefix));
  const failed = (d: import('../model/diagnostics.js').Diagnostic): MeshResult => ({
    source: parseMesh('', { file }).source,
    diagnostics: [d],
  });
  const client = connectEtcd(source, etcd);
  if ('code' in client) return failed(client);
  try {
    const snapshot = await readStore(client, source, etcd.timeoutMs);
    if ('code' in snapshot) return failed(snapshot);
    return meshOfSnapshot(source, snapshot);
  } finally {
    client.close();
  }
}
