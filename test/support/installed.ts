import { spawnSync } from 'node:child_process';

const cache = new Map<string, string | undefined>();

/**
 * The version of the HAProxy or NGINX binary on this machine (`2.6.12`, `1.22.1`), or undefined when
 * it is missing. Tests that run the real binary render for this version (`--set version=`): the
 * targets' defaults are the newest releases, whose configuration an older binary may not read.
 */
export function installedVersion(target: 'haproxy' | 'nginx'): string | undefined {
  if (cache.has(target)) return cache.get(target);
  const r = spawnSync(target, target === 'haproxy' ? ['-v'] : ['-v'], { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = (target === 'haproxy' ? /HAProxy version (\d+\.\d+\.\d+)/ : /nginx\/(\d+\.\d+\.\d+)/).exec(text);
  cache.set(target, m?.[1]);
  return m?.[1];
}

/** The settings with `version` set to the installed binary's, for haproxy and nginx (unless given). */
export function forInstalled(
  target: string,
  settings: Readonly<Record<string, string>> = {},
): Record<string, string> {
  if ((target !== 'haproxy' && target !== 'nginx') || settings['version'] !== undefined)
    return { ...settings };
  const version = installedVersion(target);
  return version ? { ...settings, version } : { ...settings };
}
