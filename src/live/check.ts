/** The health checks `meshgen register` runs against its instance: an HTTP GET, or a TCP connect. */
import http from 'node:http';
import net from 'node:net';

export type HealthCheck = { readonly kind: 'http'; readonly path: string } | { readonly kind: 'tcp' };

/** Reads `--check`: `http:/path` or `tcp`; undefined when it is neither. */
export function parseCheck(text: string): HealthCheck | undefined {
  if (text === 'tcp') return { kind: 'tcp' };
  const m = /^http:(\/[\x21-\x7e]{0,1023})$/.exec(text);
  return m ? { kind: 'http', path: m[1]! } : undefined;
}

/** Splits `host:port` (`[v6]:port`) for a connection. */
function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/**
 * Runs one check within `timeoutMs`: passes on a TCP connection, or on an HTTP answer below 400.
 * Resolves to undefined on success, else to why it failed.
 */
export function runCheck(
  check: HealthCheck,
  address: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const { host, port } = hostPort(address);
  return new Promise((resolve) => {
    if (check.kind === 'tcp') {
      const s = net.connect({ host, port, timeout: timeoutMs }, () => {
        s.destroy();
        resolve(undefined);
      });
      s.on('timeout', () => {
        s.destroy();
        resolve(`no connection within ${timeoutMs} ms`);
      });
      s.on('error', (e) => resolve(e.message));
      return;
    }
    const req = http.get({ host, port, path: check.path, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status < 400 ? undefined : `GET ${check.path} answered ${status}`);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(`GET ${check.path}: no answer within ${timeoutMs} ms`);
    });
    req.on('error', (e) => resolve(`GET ${check.path}: ${e.message}`));
  });
}
