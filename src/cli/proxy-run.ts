import cluster, { type Worker } from 'node:cluster';
import { loadBootstrap, type ConfigResult } from '../dataplane/config/bootstrap.js';
import { Proxy } from '../dataplane/server.js';
import { catchEarlyReloads, serveUntilStopped } from './serve.js';

export interface ProxyCliOptions {
  configPath: string;
  mode: 'serve' | 'validate';
  drainTime: string;
  watch?: boolean;
  concurrency: string;
}

/** What a worker tells the primary once it serves. */
const SERVING = { meshgenProxy: 'serving' } as const;

function printErrors(file: string, r: ConfigResult): void {
  for (const e of r.errors) process.stderr.write(`meshgen proxy: ${file}: ${e.path}: ${e.message}\n`);
}

/** Runs `meshgen proxy` (the data plane loads only for this command). */
export async function proxyCommand(opts: ProxyCliOptions): Promise<number> {
  const early = opts.mode === 'serve' ? catchEarlyReloads() : undefined;
  const file = opts.configPath;
  const loaded = await loadBootstrap(file);
  if (!loaded.config) {
    printErrors(file, loaded);
    return 1;
  }
  if (opts.mode === 'validate') {
    process.stderr.write(`configuration '${file}' OK\n`);
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
      ? `meshgen proxy: worker ${workerId} serving on ${on}${admin}\n`
      : `meshgen proxy: serving ${file} on ${on}${admin}\n`,
  );
  await serveUntilStopped(proxy, {
    name: 'meshgen proxy',
    file,
    watch: Boolean(opts.watch),
    reloaded: `reloaded ${file}`,
    early,
    async next() {
      const next = await loadBootstrap(file);
      if (next.config) return strip(next.config)!;
      process.stderr.write(`meshgen proxy: reload rejected, still serving the previous configuration\n`);
      printErrors(file, next);
      return undefined;
    },
  });
  // a worker's channel to the primary would keep it alive
  if (isWorker) cluster.worker?.disconnect();
  return 0;
}

async function primary(n: number, opts: ProxyCliOptions): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // the kernel spreads accepted connections
  const forked = Array.from({ length: n }, (_, i) => cluster.fork({ MESHGEN_WORKER: String(i + 1) }));
  process.stderr.write(`meshgen proxy: serving ${opts.configPath} with ${n} workers\n`);
  // a worker that does not serve yet would die of a SIGHUP (or read the file anyway): it gets the
  // SIGHUP once it serves
  const serving = new Set<Worker>();
  const due = new Set<Worker>();
  for (const w of forked)
    w.on('message', (m: unknown) => {
      if ((m as typeof SERVING | null)?.meshgenProxy !== SERVING.meshgenProxy) return;
      serving.add(w);
      if (due.delete(w)) w.process.kill('SIGHUP');
    });
  process.on('SIGHUP', () => forked.forEach((w) => (serving.has(w) ? w.process.kill('SIGHUP') : due.add(w))));
  await new Promise<void>((resolve) => {
    let left = n;
    for (const w of forked) w.on('exit', () => --left === 0 && resolve());
    const stop = () => forked.forEach((w) => w.process.kill('SIGTERM'));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
