/**
 * Client keep-alive across reloads. On SIGHUP the old workers stop accepting and close their idle
 * keep-alive client connections (src/core/ngx_connection.c, ngx_close_idle_connections); a request
 * a client writes into one at that moment is reset. From 1.27.4, `keepalive_min_timeout` keeps such
 * a connection open for that time after its last request, so an old worker answers the next
 * request (with `Connection: close`, as every worker that is shutting down does since 1.21.6) before
 * closing it. Before 1.27.4 the remedy is no client keep-alive: `keepalive_timeout 0`, one request
 * per connection, and new connections wait on the shared listening socket for the new workers.
 */
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { parseDuration } from '../../model/duration.js';
import { proxyDuration } from '../../smartstack/index.js';
import type { TargetSetting } from '../types.js';
import { atLeast, type TargetVersion } from '../versions.js';

/** nginx src/http/ngx_http_core_module.c gains `keepalive_min_timeout` in 1.27.4 (commit c2ad2d100). */
export const KEEPALIVE_MIN_TIMEOUT_SINCE = '1.27.4';

/**
 * The default: longer than the gap between two requests of a busy client, and than the idle
 * timeout of common client pools (undici's 4s), so that such a client never writes into a
 * connection an old worker closed; short, because an old worker lives up to this long after a reload.
 */
const DEFAULT_KEEPALIVE_MIN_TIMEOUT = '5s';

/** NGINX's own `keepalive_timeout` (75s): a minimum at or above it would keep nothing open longer. */
const KEEPALIVE_TIMEOUT_MS = 75_000;

const minTimeoutMs = (v: string): number | undefined => (v === '0' ? 0 : parseDuration(v));

export const KEEPALIVE_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'clientKeepalive',
    values: ['on', 'off'],
    default: 'on',
    description:
      'off: `keepalive_timeout 0;`, one request per client connection, so that no reload closes an idle keep-alive connection under a client (the remedy before NGINX 1.27.4, see live.md)',
  },
  {
    name: 'keepaliveMinTimeout',
    default: DEFAULT_KEEPALIVE_MIN_TIMEOUT,
    accepts: 'a duration below 75s (`500ms`, `5s`), or 0',
    check: (v) => {
      const ms = minTimeoutMs(v);
      return ms !== undefined && ms < KEEPALIVE_TIMEOUT_MS && (ms === 0 || ms >= 1);
    },
    description:
      'NGINX 1.27.4 or later: `keepalive_min_timeout`, how long after its last request a client connection stays open, also through a reload (the old worker answers the next request, then closes it); 0: not written',
  },
];

/** What a reload does to an idle keep-alive client connection. */
type ReloadKeepalive =
  /** no client keep-alive (`clientKeepalive=off`): nothing idle to close */
  | 'off'
  /** `keepalive_min_timeout`: answered if the next request comes within it */
  | 'min-timeout'
  /** closed at once: a request written into it at that moment is reset */
  | 'reset';

export interface KeepaliveDirectives {
  /** Directives of the http block, each with its `;`, and comments. */
  readonly lines: string[];
  readonly onReload: ReloadKeepalive;
  readonly diagnostics: Diagnostic[];
}

/** The client keep-alive directives for a version and the target's settings. */
export function keepaliveDirectives(
  version: TargetVersion,
  settings: Readonly<Record<string, string>> | undefined,
): KeepaliveDirectives {
  const off = settings?.['clientKeepalive'] === 'off';
  const given = settings?.['keepaliveMinTimeout'];
  const ms = minTimeoutMs(given ?? DEFAULT_KEEPALIVE_MIN_TIMEOUT);
  const diagnostics: Diagnostic[] = [];
  const refuse = (message: string, hint: string) =>
    diagnostics.push(diagnostic('MG4003', message, { target: 'nginx', hint }));
  const supported = atLeast(version, KEEPALIVE_MIN_TIMEOUT_SINCE);
  if (given !== undefined && ms) {
    if (off)
      refuse(
        `--set keepaliveMinTimeout=${given} with clientKeepalive=off: there is no keep-alive connection to keep open`,
        'leave out one of the two',
      );
    else if (!supported)
      refuse(
        `--set keepaliveMinTimeout=${given}: NGINX ${version.text} has no keepalive_min_timeout (${KEEPALIVE_MIN_TIMEOUT_SINCE} or later)`,
        '--set clientKeepalive=off keeps reloads from resetting idle keep-alive connections on older NGINX',
      );
  }
  if (off)
    return {
      lines: [
        '# clientKeepalive=off: one request per client connection, so that no reload closes an idle one',
        'keepalive_timeout 0;',
      ],
      onReload: 'off',
      diagnostics,
    };
  if (supported && ms)
    return {
      lines: [
        '# on a reload, the old workers answer the next request of a keep-alive connection (with',
        '# Connection: close) if it comes within this time of the last one, instead of closing it',
        `keepalive_min_timeout ${proxyDuration(ms)};`,
      ],
      onReload: 'min-timeout',
      diagnostics,
    };
  return { lines: [], onReload: 'reset', diagnostics };
}
