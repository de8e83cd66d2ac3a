import cluster from 'node:cluster';
import { loadBootstrap, type ConfigResult } from '../dataplane/config/bootstrap.js';
import { Proxy } from '../dataplane/server.js';
import { report } from './report.js';
import { serveUntilStopped } from './serve.js';

export interface ProxyCliOptions {
  configPath: string;
  mode: 'serve' | 'validate';
  drainTime: string;
  watch?: boolean;
  concurrency: string;
  /** How diagnostics are printed: text or json. */
  format: string;
}

/** A bootstrap's diagnostics, located, as `meshgen validate` prints a mesh's. */
function printDiagnostics(r: ConfigResult, format: string): void {
  report(
    { diagnostics: r.diagnostics, sources: new Map(r.source ? [[r.source.file, r.source]] : []) },
    format,
  );
}

/** Runs `meshgen proxy` (the data plane loads only for this command). */
export async function proxyCommand(opts: ProxyCliOptions): Promise<number> {
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
  if (workers > 1 && cluster.isPrimary) return primary(workers, opts);
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

async function primary(n: number, opts: ProxyCliOptions): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // the kernel spreads accepted connections
  const forked = Array.from({ length: n }, (_, i) => cluster.fork({ MESHGEN_WORKER: String(i + 1) }));
  process.stderr.write(`meshgen proxy: serving ${opts.configPath} with ${n} workers\n`);
  process.on('SIGHUP', () => forked.forEach((w) => w.process.kill('SIGHUP')));
  await new Promise<void>((resolve) => {
    let left = n;
    for (const w of forked) w.on('exit', () => --left === 0 && resolve());
    const stop = () => forked.forEach((w) => w.process.kill('SIGTERM'));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
