import fs from 'node:fs';
import type { Proxy } from '../dataplane/server.js';
import type { ProxyConfig } from '../dataplane/config/bootstrap.js';
import { watchDiscovery } from '../dataplane/config/discovery.js';

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
  /** Whether a SIGHUP came while the proxy started (catchEarlyReloads): it is applied now. */
  readonly early?: () => boolean;
  /** Discovery files (LDS, CDS) whose replacement by a rename reloads, as Envoy watches them. */
  readonly discovery?: readonly string[];
  /** Other sources of change (a store's watch): calls reload on each, resolves with how to stop. */
  readonly triggers?: (reload: () => void) => Promise<(() => void) | undefined>;
}

/**
 * SIGHUP's default action ends the process: from here until serveUntilStopped takes over, a SIGHUP
 * is remembered instead (the file may have changed after it was read), and applied once serving.
 */
export function catchEarlyReloads(): () => boolean {
  let seen = false;
  const early = () => (seen = true);
  process.on('SIGHUP', early);
  return () => {
    process.off('SIGHUP', early);
    return seen;
  };
}

/**
 * Serves a started proxy until SIGTERM or SIGINT, then drains it. SIGHUP (and, with `watch`, a
 * change of the file; a discovery file replaced by a rename) swaps in the next configuration; one that cannot be had or applied is
 * refused and the previous one keeps serving. Shared by `meshgen proxy` and `meshgen run`.
 */
export async function serveUntilStopped(proxy: Proxy, opts: ServeOptions): Promise<void> {
  const reloadOnce = async () => {
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
  };
  // a SIGHUP during a reload may announce a file newer than the one being applied: one more follows
  let busy = false;
  let again = false;
  const reload = async () => {
    again = true;
    if (busy) return;
    busy = true;
    while (again) {
      again = false;
      await reloadOnce();
    }
    busy = false;
  };
  process.on('SIGHUP', () => void reload());
  if (opts.early?.()) void reload();
  let timer: NodeJS.Timeout | undefined;
  if (opts.watch)
    fs.watchFile(opts.file, { interval: 300 }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 100);
    });
  const unwatch = opts.discovery?.length ? watchDiscovery(opts.discovery, () => void reload()) : undefined;
  const untrigger = await opts.triggers?.(() => void reload());
  await new Promise<void>((resolve) => {
    const stop = () => {
      if (opts.watch) fs.unwatchFile(opts.file);
      unwatch?.();
      untrigger?.();
      clearTimeout(timer);
      void proxy.drainAndStop().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
