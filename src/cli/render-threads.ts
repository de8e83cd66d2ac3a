import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ResolvedMesh } from '../model/types.js';
import type { RenderOptions, RenderResult, TargetRender } from '../render.js';
import type { RenderWorkerData, RenderWorkerMessage } from '../render-worker.js';

/**
 * The worker thread of a render: dist/render-worker.js, next to the CLI's bundle. Run from the
 * sources (as the tests of src/ do), there is none, and the targets render one after another.
 */
const WORKER = new URL('../render-worker.js', import.meta.url);

/** Below this size a mesh renders faster than a thread starts (bytes of the mesh file). */
const THREADS_FROM_BYTES = 1 << 20;

/** The memory the worker threads may take in all (MB), at about 30 x the mesh file's size each. */
const THREADS_RSS_MB = 1200;

/** The worker threads of one render, started before the CLI's thread loads the mesh. */
export interface RenderThreads {
  /** The render, its targets taken by this thread and the workers alike; the same result as `render`. */
  render(mesh: ResolvedMesh, text: string, options: RenderOptions): Promise<RenderResult>;
  /** Stops the workers (a render that does not happen: the mesh did not load). */
  stop(): Promise<void>;
}

/**
 * Starts the worker threads of a render of several targets from a mesh file: one thread a CPU in
 * all, at most one a target, fewer for large meshes (see THREADS_RSS_MB), none for small ones
 * (THREADS_FROM_BYTES); MESHGEN_RENDER_THREADS sets the number of threads in all (1: none). Each
 * worker loads the file as this thread does, at the same time, and plans the same render; every
 * thread then takes the next target from one shared counter. A worker that read another text than
 * this thread (the file changed in between), fails or runs out of memory leaves its targets to this
 * thread. Undefined when one thread will do, for standard input, or when there is no worker (run
 * from the sources).
 */
export function startRenderThreads(
  file: string | undefined,
  targets: number,
  options: RenderWorkerData['options'],
  carried: boolean,
): RenderThreads | undefined {
  if (file === undefined || file === '-' || targets < 2 || !existsSync(fileURLToPath(WORKER)))
    return undefined;
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch {
    return undefined;
  }
  const mb = bytes / 2 ** 20;
  const asked = Number(process.env.MESHGEN_RENDER_THREADS);
  const threads = Math.min(
    targets,
    Number.isInteger(asked) && asked > 0
      ? asked
      : bytes < THREADS_FROM_BYTES
        ? 1
        : Math.min(os.availableParallelism(), 1 + Math.floor(THREADS_RSS_MB / Math.max(100, 30 * mb))),
  );
  if (threads <= 1) return undefined;
  const heapMb = Math.round(Math.min(2048, Math.max(512, 80 * mb)));
  const next = new SharedArrayBuffer(4);
  const counter = new Int32Array(next);
  const workers = Array.from({ length: threads - 1 }, () => {
    const parts = new Map<number, TargetRender>();
    let digest: string | undefined;
    const worker = new Worker(WORKER, {
      workerData: { file, options, carried, next } satisfies RenderWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    // settles when the worker has nothing more to give: done, failed or stopped
    const finished = new Promise<void>((resolve) => {
      worker.on('message', (m: RenderWorkerMessage) => {
        if (m.kind === 'loaded') digest = m.digest;
        else if (m.kind === 'target') parts.set(m.index, m.part);
        else resolve();
      });
      worker.on('error', () => resolve());
      worker.on('exit', () => resolve());
    });
    return { worker, parts, finished, digest: () => digest };
  });
  const stop = async () => {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  };
  return {
    stop,
    async render(mesh, text, options) {
      const { planRender, renderTarget, joinRender } = await import('../render.js');
      const plan = planRender(mesh, options);
      if (plan.refused) {
        await stop();
        return { outputs: [], diagnostics: plan.diagnostics };
      }
      const parts: (TargetRender | undefined)[] = plan.targets.map(() => undefined);
      for (;;) {
        const index = Atomics.add(counter, 0, 1);
        if (index >= plan.targets.length) break;
        parts[index] = renderTarget(mesh, plan, index, options);
      }
      await Promise.all(workers.map((w) => w.finished));
      const own = createHash('sha1').update(text).digest('hex');
      for (const w of workers)
        if (w.digest() === own) for (const [index, part] of w.parts) parts[index] = part;
      await stop();
      // what a worker took and did not give back renders here
      const done = parts.map((p, index) => p ?? renderTarget(mesh, plan, index, options));
      return joinRender(plan, done, options);
    },
  };
}
