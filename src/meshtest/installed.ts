/** The programs `meshgen test` starts: whether they are installed, their version, the package to install. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const versions = new Map<string, string | undefined>();

/**
 * The version of the HAProxy, NGINX or httpd binary on this machine (`2.6.12`, `1.22.1`, `2.4.68`), or undefined when
 * it is missing. What runs them renders for this version (`--set version=`): the targets' defaults
 * are the newest releases, whose configuration an older binary may not read.
 */
export function installedVersion(target: 'haproxy' | 'nginx' | 'apache'): string | undefined {
  if (versions.has(target)) return versions.get(target);
  const r = spawnSync(target === 'apache' ? 'apache2' : target, ['-v'], { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = {
    haproxy: /HAProxy version (\d+\.\d+\.\d+)/,
    nginx: /nginx\/(\d+\.\d+\.\d+)/,
    apache: /Apache\/(\d+\.\d+\.\d+)/,
  }[target].exec(text);
  versions.set(target, m?.[1]);
  return m?.[1];
}

/** The settings with `version` set to the installed binary's, for haproxy, nginx and apache (unless given). */
export function forInstalled(
  target: string,
  settings: Readonly<Record<string, string>> = {},
): Record<string, string> {
  if (
    (target !== 'haproxy' && target !== 'nginx' && target !== 'apache') ||
    settings['version'] !== undefined
  )
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
  if (target === 'apache' && installedVersion('apache') === undefined)
    return { program: 'apache2', package: 'apache2' };
  if (target === 'nginx') {
    if (installedVersion('nginx') === undefined) return { program: 'nginx', package: 'nginx' };
    if (!fs.existsSync(NGINX_STREAM_MODULE))
      return { program: 'the NGINX stream module', package: 'libnginx-mod-stream' };
  }
  return undefined;
}
