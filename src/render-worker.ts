/**
 * A worker thread of `meshgen render` (src/cli/render-threads.ts): loads the mesh file as the CLI
 * does, plans the same render, then renders the targets it takes from the counter it shares with
 * the CLI's thread, and posts each target's output and diagnostics back. Built as an entry point of
 * its own (scripts/bundle.mjs).
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { loadMesh } from './model/load.js';
import { planRender, renderTarget, type RenderOptions, type TargetRender } from './render.js';

/** What the CLI's thread sends: the file, the render's options, and the shared counter. */
export interface RenderWorkerData {
  readonly file: string;
  readonly options: Omit<RenderOptions, 'document' | 'onTarget' | 'onCarried' | 'emitters'>;
  /** Whether the render writes meshgen-carried (needs the document as written). */
  readonly carried: boolean;
  /** Int32Array over it: [0] the next target's index, taken with Atomics.add by every thread. */
  readonly next: SharedArrayBuffer;
}

/** What the worker posts: a target's part, or that it loaded a text other than the CLI's. */
export type RenderWorkerMessage =
  | { readonly kind: 'loaded'; readonly digest: string }
  | { readonly kind: 'target'; readonly index: number; readonly part: TargetRender }
  | { readonly kind: 'done' };

const port = parentPort;
if (!port) throw new Error('render-worker runs as a worker thread of meshgen render');
const data = workerData as RenderWorkerData;
const next = new Int32Array(data.next);

const loaded = await loadMesh(data.file);
const digest = createHash('sha1').update(loaded.source.text).digest('hex');
port.postMessage({ kind: 'loaded', digest } satisfies RenderWorkerMessage);
if (loaded.mesh) {
  const options: RenderOptions = {
    ...data.options,
    ...(data.carried && loaded.document ? { document: loaded.document } : {}),
  };
  const plan = planRender(loaded.mesh, options);
  for (;;) {
    const index = Atomics.add(next, 0, 1);
    if (plan.refused || index >= plan.targets.length) break;
    const part = renderTarget(loaded.mesh, plan, index, options);
    port.postMessage({ kind: 'target', index, part } satisfies RenderWorkerMessage);
  }
}
port.postMessage({ kind: 'done' } satisfies RenderWorkerMessage);
