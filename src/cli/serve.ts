import fs from 'node:fs';
import type { Proxy } from '../dataplane/server.js';
import type { ProxyConfig } from '../dataplane/config/bootstrap.js';

export interface ServeOptions {
  /** `meshgen proxy` or `meshgen run`: the prefix of every line written. */
  readonly name: string;
  /** The file that is reloaded on SIGHUP and, with `watch`, when it changes. */
  readonly file: string;
  readonly watch: boolean;
  /** The next configuration, or undefined after saying why there is none. */
  next(): Promise<ProxyConfig | undefined>;
  /** What a successful reload says. */
  readonly reloaded: string;
}

/**
 * Serves a started proxy until SIGTERM or SIGINT, then drains it. SIGHUP (and, with `watch`, a
 * change of the file) swaps in the next configuration; one that cannot be had or applied is
 * refused and the previous one keeps serving. Shared by `meshgen proxy` and `meshgen run`.
 */
export async function serveUntilStopped(proxy: Proxy, opts: ServeOptions): Promise<void> {
  let busy = false;
  const reload = async () => {
    if (busy) return;
    busy = true;
    const next = await opts.next();
    if (next)
      try {
        await proxy.reload(next);
        process.stderr.write(`${opts.name}: ${opts.reloaded}\n`);
      } catch (e) {
        process.stderr.write(
          `${opts.name}: reload failed (${(e as Error).message}), still serving the previous configuration\n`,
        );
      }
    busy = false;
  };
  process.on('SIGHUP', () => void reload());
  let timer: NodeJS.Timeout | undefined;
  if (opts.watch)
    fs.watchFile(opts.file, { interval: 300 }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 100);
    });
  await new Promise<void>((resolve) => {
    const stop = () => {
      fs.unwatchFile(opts.file);
      clearTimeout(timer);
      void proxy.drainAndStop().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
