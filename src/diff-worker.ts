/**
 * A worker thread of `meshgen diff --target` (src/cli/diff.ts): loads both meshes from their texts
 * as the CLI does, then renders and compares each target it is sent, and posts back only the
 * changes, never the rendered files. Built as an entry point of its own (scripts/bundle.mjs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { diffTarget } from './diff/rendered.js';
import { parseMesh } from './model/load.js';
import type { ResolvedMesh } from './model/types.js';

/** One side of the diff: the mesh's text and the name the CLI gave it. */
export interface DiffSide {
  readonly text: string;
  readonly file: string;
}

const port = parentPort;
if (!port) throw new Error('diff-worker runs as a worker thread of meshgen diff');
const sides = workerData as { before: DiffSide; after: DiffSide };
let meshes: [ResolvedMesh, ResolvedMesh] | undefined;

function load(side: DiffSide): ResolvedMesh {
  const { mesh } = parseMesh(side.text, { file: side.file });
  // the CLI loaded the same text without errors before it started this worker
  if (!mesh) throw new Error(`${side.file}: the mesh did not load in the worker thread`);
  return mesh;
}

port.on('message', (target: string) => {
  meshes ??= [load(sides.before), load(sides.after)];
  port.postMessage(diffTarget(meshes[0], meshes[1], target));
});
