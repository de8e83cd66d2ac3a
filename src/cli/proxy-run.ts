import cluster, { type Worker } from 'node:cluster';
import { loadBootstrap, type ConfigResult } from '../dataplane/config/bootstrap.js';
import { Proxy } from '../dataplane/server.js';
import { report } from './report.js';
import { catchEarlyReloads, serveUntilStopped } from './serve.js';

export interface ProxyCliOptions {
  configPath: string;
  mode: 'serve' | 'validate';
  drainTime: string;
  watch?: boolean;
  concurrency: string;
  /** How diagnostics are printed: text or json. */
  format: string;
}

/** What a worker tells the primary once it serves. */
const SERVING = { meshgenProxy: 'serving' } as const;

/** A bootstrap's diagnostics, located, as `meshgen validate` prints a mesh's. */
function printDiagnostics(r: ConfigResult, format: string): void {
  const sources = [...(r.source ? [r.source] : []), ...(r.discoverySources ?? [])];
  report({ diagnostics: r.diagnostics, sources: new Map(sources.map((s) => [s.file, s])) }, format);
}

/** Runs `meshgen proxy` (the data plane loads only for this command). */
export async function proxyCommand(opts: ProxyCliOptions): Promise<number> {
  const early = opts.mode === 'serve' ? catchEarlyReloads() : undefined;
  const file = opts.configPath;
  const loaded = await loadBootstrap(file);
  // errors always; warnings once (a worker would repeat its primary's)
  if (!loaded.config || opts.mode === 'validate' || (cluster.isPrimary && loaded.diagnostics.length))
    printDiagnostics(loaded, opts.format);
  if (!loaded.config) return 1;
  if (opts.mode === 'validate') {
    if (opts.format === 'text') process.stderr.write(`configuration '${file}' OK\n`);
    return 0;
  }
  const drainTimeS = Number.isFinite(Number(opts.drainTime)) ? Number(opts.drainTime) : 5;
  const workers = Math.max(1, Number(opts.concurrency) || 1);
  if (workers > 1 && cluster.isPrimary) {
    early?.(); // the workers read the file after this
    return primary(workers, opts);
  }
  const isWorker = cluster.isWorker;
  const workerId = isWorker ? Number(process.env.MESHGEN_WORKER ?? '1') : 1;
  // with several workers only the first serves the admin endpoint (its stats are its own)
  const strip = (c: typeof loaded.config) => (workerId === 1 ? c : { ...c!, admin: undefined });
  const proxy = new Proxy(strip(loaded.config)!, { drainTimeS, log: (l) => process.stderr.write(`${l}\n`) });
  try {
    await proxy.start();
  } catch (e) {
    process.stderr.write(`meshgen proxy: cannot start: ${(e as Error).message}\n`);
    await proxy.stop().catch(() => {});
    // a worker's channel to the primary would keep it alive, and the primary waiting for it
    if (cluster.isWorker) cluster.worker?.disconnect();
    return 1;
  }
  // the primary passes SIGHUP on to a worker once it serves
  if (isWorker) process.send?.(SERVING);
  // where it listens, bound ports included (a bootstrap may ask for port 0)
  const on = proxy
    .listeners()
    .map((l) => `${l.host}:${l.port}`)
    .join(', ');
  const admin = proxy.adminPort ? ` (admin on port ${proxy.adminPort})` : '';
  process.stderr.write(
    isWorker
      ? `meshgen proxy: worker ${workerId} (pid ${process.pid}) serving on ${on}${admin}\n`
      : `meshgen proxy: serving ${file} on ${on}${admin}\n`,
  );
  await serveUntilStopped(proxy, {
    name: 'meshgen proxy',
    file,
    watch: Boolean(opts.watch),
    reloaded: `reloaded ${file}`,
    early,
    discovery: loaded.config.discovery,
    async next() {
      const next = await loadBootstrap(file);
      if (next.config) return strip(next.config)!;
      process.stderr.write(`meshgen proxy: reload rejected, still serving the previous configuration\n`);
      printDiagnostics(next, opts.format);
      return undefined;
    },
  });
  // a worker's channel to the primary would keep it alive
  if (isWorker) cluster.worker?.disconnect();
  return 0;
}

/** A worker that dies is forked again, at most this often in RESTART_WINDOW_MS (all workers together). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/**
 * The primary of `--concurrency n`: forks the workers, passes SIGHUP on, stops them on SIGTERM or
 * SIGINT, and forks again a worker that dies (a crash, a kill) under the same number, so worker 1
 * serves the admin endpoint again. A worker that keeps dying (one that fails at start would loop)
 * is given up after MAX_RESTARTS restarts within RESTART_WINDOW_MS: the others are stopped and the
 * primary exits 1, for its supervisor to see. A worker that exits 0 stopped on purpose (SIGTERM,
 * /quitquitquit) and is not forked again.
 */
async function primary(n: number, opts: ProxyCliOptions): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // the kernel spreads accepted connections
  const workers = new Map<number, Worker>();
  const restarts: number[] = [];
  let stopping = false;
  let failed = false;
  const log = (l: string) => process.stderr.write(`meshgen proxy: ${l}\n`);
  const stopAll = () => {
    stopping = true;
    for (const w of workers.values()) w.process.kill('SIGTERM');
  };
  // a worker that does not serve yet would die of a SIGHUP (or read the file anyway): it gets the
  // SIGHUP once it serves
  const serving = new Set<Worker>();
  const due = new Set<Worker>();
  return new Promise<number>((resolve) => {
    const fork = (id: number) => {
      const w = cluster.fork({ MESHGEN_WORKER: String(id) });
      workers.set(id, w);
      w.on('message', (m: unknown) => {
        if ((m as typeof SERVING | null)?.meshgenProxy !== SERVING.meshgenProxy) return;
        serving.add(w);
        if (due.delete(w)) w.process.kill('SIGHUP');
      });
      w.on('exit', (code: number | null, signal: string | null) => {
        serving.delete(w);
        due.delete(w);
        if (workers.get(id) === w) workers.delete(id);
        if (!stopping && (code !== 0 || signal !== null))
          restart(id, signal ? `signal ${signal}` : `code ${code}`);
        if (workers.size === 0) resolve(failed ? 1 : 0);
      });
    };
    const restart = (id: number, how: string) => {
      const now = Date.now();
      while (restarts.length && restarts[0]! <= now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= MAX_RESTARTS) {
        log(
          `worker ${id} exited (${how}); ${MAX_RESTARTS} restarts in ${RESTART_WINDOW_MS / 1000} s, giving up`,
        );
        failed = true;
        return stopAll();
      }
      restarts.push(now);
      log(
        `worker ${id} exited (${how}); restarting it (restart ${restarts.length} of ${MAX_RESTARTS} allowed in ${RESTART_WINDOW_MS / 1000} s)`,
      );
      fork(id);
    };
    for (let i = 1; i <= n; i++) fork(i);
    log(`serving ${opts.configPath} with ${n} workers`);
    process.on('SIGHUP', () =>
      workers.forEach((w) => (serving.has(w) ? w.process.kill('SIGHUP') : due.add(w))),
    );
    process.once('SIGTERM', stopAll);
    process.once('SIGINT', stopAll);
  });
}
