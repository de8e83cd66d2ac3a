/** Loading a mesh from `--source`: a file as `loadMesh` reads it, or an etcd prefix read once. */
import type { Diagnostic } from '../model/diagnostics.js';
import { loadMesh, type LoadOptions, type MeshResult } from '../model/load.js';
import { connectEtcd, failedLoad, meshOfSnapshot, readStore, type EtcdOptions } from './etcd.js';
import type { MeshSource } from './source.js';

/** The mesh of a source; a store's failure is a diagnostic of the result, located at the mesh key. */
export async function loadSource(
  source: MeshSource,
  etcd: EtcdOptions,
  options: LoadOptions = {},
): Promise<MeshResult> {
  if (source.kind === 'file') return loadMesh(source.path, options);
  const failed = (d: Diagnostic): MeshResult => failedLoad(source, d);
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
