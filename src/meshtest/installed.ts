/** The programs `meshgen test` starts: whether they are installed, their version, the package to install. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const versions = new Map<string, string | undefined>();

/**
 * The version of the HAProxy or NGINX binary on this machine (`2.6.12`, `1.22.1`), or undefined when
 * it is missing. What runs them renders for this version (`--set version=`): the targets' defaults
 * are the newest releases, whose configuration an older binary may not read.
 */
export function installedVersion(target: 'haproxy' | 'nginx'): string | undefined {
  if (versions.has(target)) return versions.get(target);
  const r = spawnSync(target, ['-v'], { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = (target === 'haproxy' ? /HAProxy version (\d+\.\d+\.\d+)/ : /nginx\/(\d+\.\d+\.\d+)/).exec(text);
  versions.set(target, m?.[1]);
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

/** Debian's libnginx-mod-stream: the rendered NGINX configs load it for TCP listeners. */
const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** What a runnable target lacks on this machine, as the Debian package that provides it. */
export function missingProgram(target: string): { program: string; package: string } | undefined {
  if (target === 'haproxy' && installedVersion('haproxy') === undefined)
    return { program: 'haproxy', package: 'haproxy' };
  if (target === 'nginx') {
    if (installedVersion('nginx') === undefined) return { program: 'nginx', package: 'nginx' };
    if (!fs.existsSync(NGINX_STREAM_MODULE))
      return { program: 'the NGINX stream module', package: 'libnginx-mod-stream' };
  }
  return undefined;
}
