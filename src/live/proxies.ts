/**
 * The proxies `meshgen watch` feeds: each one's own check of a rendered folder (`haproxy -c`,
 * `nginx -t`, `meshgen proxy --mode validate`), how `--run` starts it from the live folder and how
 * it reloads (HAProxy's master re-reads on SIGUSR2 and hands the listeners to a new worker, NGINX's
 * master on SIGHUP, the data plane on SIGHUP).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { emitters } from '../emitters/index.js';
import { keepaliveDirectives, KEEPALIVE_MIN_TIMEOUT_SINCE } from '../emitters/nginx/keepalive.js';
import { NGINX_VERSIONS } from '../emitters/nginx/versions.js';
import { settingsFor } from '../emitters/settings.js';
import { readVersion } from '../emitters/versions.js';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';

/** The targets `meshgen watch` can check and run. */
export type LiveTarget = 'haproxy' | 'nginx' | 'envoy';

export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

/** The check of a rendered folder; `bootstrap` names the Envoy file for the data plane. */
export function checkCommand(target: LiveTarget, dir: string, cli: Command, bootstrap: string): Command {
  switch (target) {
    case 'haproxy':
      return { cmd: 'haproxy', args: ['-c', '-q', '-f', path.join(dir, 'haproxy.cfg')], cwd: dir };
    case 'nginx':
      return { cmd: 'nginx', args: ['-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')], cwd: dir };
    case 'envoy':
      return {
        cmd: cli.cmd,
        args: [...cli.args, 'proxy', '-c', path.join(dir, bootstrap), '--mode', 'validate'],
        cwd: dir,
      };
  }
}

/**
 * How `--run` starts the proxy from the live folder, a link that each generation replaces. The
 * process runs in the output folder, which stays: a generation's folder is removed once the next
 * serves. Each proxy goes through the link's path at every reload: HAProxy's `-C` (change to this
 * folder before reading the configuration, again when the master re-executes), NGINX's prefix.
 */
export function runCommand(target: LiveTarget, live: string, cli: Command, bootstrap: string): Command {
  const cwd = path.dirname(live);
  switch (target) {
    case 'haproxy':
      // -W: master-worker, so SIGUSR2 reloads without a new master; -db: stay in the foreground
      return { cmd: 'haproxy', args: ['-W', '-db', '-C', live, '-f', 'haproxy.cfg'], cwd };
    case 'nginx':
      return {
        cmd: 'nginx',
        args: ['-p', live, '-c', path.join(live, 'nginx.conf'), '-g', 'daemon off;'],
        cwd,
      };
    case 'envoy':
      return { cmd: cli.cmd, args: [...cli.args, 'proxy', '-c', path.join(live, bootstrap)], cwd };
  }
}

/**
 * What each reload will do to the proxy's clients, said once when watching starts (MG4030): NGINX
 * before 1.27.4 with client keep-alive closes idle keep-alive connections on every reload, and a
 * request a client writes into one at that moment is reset (src/emitters/nginx/keepalive.ts).
 */
export function reloadWarnings(target: LiveTarget, settings: Readonly<Record<string, string>>): Diagnostic[] {
  if (target !== 'nginx') return [];
  const own = settingsFor(
    target,
    settings,
    emitters.map((e) => e.target),
  );
  const { version } = readVersion(target, NGINX_VERSIONS, own);
  if (keepaliveDirectives(version, own).onReload !== 'reset') return [];
  return [
    diagnostic(
      'MG4030',
      `nginx ${version.text} closes idle keep-alive client connections on every reload: a request a client writes into one at that moment is reset (ECONNRESET)`,
      {
        target,
        hint: `--set clientKeepalive=off (keepalive_timeout 0: one request per connection, nothing idle to close), or NGINX ${KEEPALIVE_MIN_TIMEOUT_SINCE} or later (keepalive_min_timeout, written by default)`,
      },
    ),
  ];
}

/** The signal that makes a running proxy re-read its configuration. */
export function reloadSignal(target: LiveTarget): NodeJS.Signals {
  return target === 'haproxy' ? 'SIGUSR2' : 'SIGHUP';
}

/**
 * How a proxy that `--run` just started says it takes reload signals. Until then a reload signal
 * ends it (the default action of SIGUSR2 and SIGHUP) or is lost (HAProxy's master while it starts
 * its first worker), so the watcher sends none before: HAProxy's master prints "Loading success."
 * once its worker runs ("Loading failure!" if it could not load), NGINX writes its pid file after
 * setting its signal handlers, the data plane prints "meshgen proxy: serving" once it listens.
 */
export type Readiness =
  | { readonly kind: 'line'; readonly ready: RegExp; readonly failed?: RegExp }
  | { readonly kind: 'pid-file'; readonly file: string };

export function readiness(target: LiveTarget, live: string): Readiness {
  switch (target) {
    case 'haproxy':
      return { kind: 'line', ready: /Loading success\./, failed: /Loading failure!/ };
    case 'nginx':
      // the rendered nginx.conf says `pid nginx.pid;`, relative to the prefix (-p live)
      return { kind: 'pid-file', file: path.join(live, 'nginx.pid') };
    case 'envoy':
      return { kind: 'line', ready: /^meshgen proxy: serving / };
  }
}

/** Runs a command to its end; resolves to its exit status and output. */
export function runToEnd(c: Command, env?: NodeJS.ProcessEnv): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(c.cmd, [...c.args], {
        cwd: c.cwd,
        env: env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve({ status: 127, output: String(e) });
      return;
    }
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (e) => resolve({ status: 127, output: output + e.message }));
    child.on('close', (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), output }));
  });
}
