import http from 'node:http';
import type net from 'node:net';
import type { AdminTarget as Proxy } from './target.js';
import { compileRe2, partialMatcher } from '../regex.js';

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

const VERSION = 'meshgen-proxy/0.1.0';

/** Envoy's admin endpoints that operators and tests use, on their own listener. */
export async function startAdmin(proxy: Proxy, host: string, port: number): Promise<AdminServer> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    try {
      answer(proxy, req, res);
    } catch (e) {
      // a bug in one endpoint answers 500; it must not take the proxy (and its listeners) down
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8' });
      res.end(`internal error: ${(e as Error).message}\n`);
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One admin request, as its endpoint's handler sees it. */
interface AdminRequest {
  proxy: Proxy;
  url: URL;
  method: string;
  send(status: number, body: string, type?: string): void;
}

const JSON_TYPE = 'application/json';

/** POST-only endpoints: 405 for any other method, as Envoy. */
function post(fn: (r: AdminRequest) => void): (r: AdminRequest) => void {
  return (r) => (r.method === 'POST' ? fn(r) : r.send(405, 'This endpoint requires POST\n'));
}

function serverInfo({ proxy, send }: AdminRequest): void {
  const info = {
    version: VERSION,
    state: proxy.healthFailed ? 'DRAINING' : proxy.state,
    hot_restart_version: 'disabled',
    command_line_options: { concurrency: 1, mode: 'Serve' },
    node: proxy.config.node,
    uptime_current_epoch: `${proxy.uptimeS}s`,
    uptime_all_epochs: `${proxy.uptimeS}s`,
  };
  send(200, JSON.stringify(info, null, 2), JSON_TYPE);
}

/** /stats and /stats/prometheus: as Envoy, the filter is an RE2 regex matched anywhere in the name; a bad one is a 400. */
function stats({ proxy, url, send }: AdminRequest): void {
  const filter = url.searchParams.get('filter');
  const f = filter === null ? undefined : compileRe2(filter);
  if (f && 'error' in f) return send(400, `Invalid re2 regex: ${f.error}\n`);
  const keep = f ? partialMatcher(f) : undefined;
  const format = url.pathname === '/stats/prometheus' ? 'prometheus' : url.searchParams.get('format');
  if (format === 'json') return send(200, JSON.stringify(proxy.stats.json(keep)), JSON_TYPE);
  if (format === 'prometheus') return send(200, proxy.stats.prometheus(keep));
  send(200, proxy.stats.text(keep));
}

/** As Envoy: where each listener is bound, which with port 0 is where the OS put it. */
function listeners({ proxy, url, send }: AdminRequest): void {
  const bound = proxy.listeners();
  if (url.searchParams.get('format') !== 'json')
    return send(200, bound.map((l) => `${l.name}::${l.host}:${l.port}\n`).join(''));
  const statuses = bound.map((l) => ({
    name: l.name,
    local_address: { socket_address: { address: l.host, port_value: l.port } },
  }));
  send(200, JSON.stringify({ listener_statuses: statuses }), JSON_TYPE);
}

/** As Envoy: private keys and other fields its protos mark sensitive print as [redacted]. */
function configDump({ proxy, send }: AdminRequest): void {
  send(200, JSON.stringify(proxy.configDump(), null, 2), JSON_TYPE);
}

function healthcheck(failed: boolean): (r: AdminRequest) => void {
  return post(({ proxy, send }) => {
    proxy.healthFailed = failed;
    proxy.stats.setGauge('server.state', failed ? 1 : 0);
    send(200, 'OK\n');
  });
}

/** The endpoints, by path, in the order the index lists them. */
const ENDPOINTS: ReadonlyMap<string, (r: AdminRequest) => void> = new Map([
  [
    '/ready',
    ({ proxy, send }: AdminRequest) =>
      proxy.state === 'LIVE' ? send(200, 'LIVE\n') : send(503, `${proxy.state}\n`),
  ],
  ['/server_info', serverInfo],
  ['/stats', stats],
  ['/stats/prometheus', stats],
  ['/clusters', ({ proxy, send }: AdminRequest) => send(200, clustersText(proxy))],
  ['/listeners', listeners],
  ['/config_dump', configDump],
  ['/healthcheck/fail', healthcheck(true)],
  ['/healthcheck/ok', healthcheck(false)],
  [
    '/quitquitquit',
    post(({ send }) => {
      send(200, 'OK\n');
      setImmediate(() => process.kill(process.pid, 'SIGTERM'));
    }),
  ],
]);

/** One admin request. */
function answer(proxy: Proxy, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://admin');
  const send = (status: number, body: string, type = 'text/plain; charset=UTF-8') => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-cache, max-age=0',
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  };
  const handler = ENDPOINTS.get(url.pathname);
  if (handler) return handler({ proxy, url, method: req.method ?? 'GET', send });
  const index = [...ENDPOINTS.keys()].join('\n') + '\n';
  if (url.pathname === '/') return send(200, index);
  send(404, `invalid path. admin commands are:\n${index}`);
}

/** Envoy's /clusters text: per cluster its circuit breakers and outlier figures, per host its counters. */
function clustersText(proxy: Proxy): string {
  let out = '';
  for (const c of proxy.clusters.values()) {
    const n = c.config.name;
    out += `${n}::observability_name::${n}\n`;
    out += `${n}::default_priority::max_connections::${c.config.circuit.maxConnections}\n`;
    out += `${n}::default_priority::max_pending_requests::${c.config.circuit.maxPending}\n`;
    out += `${n}::default_priority::max_requests::${c.config.circuit.maxRequests}\n`;
    out += `${n}::default_priority::max_retries::${c.config.circuit.maxRetries}\n`;
    if (c.outlier) {
      out += `${n}::outlier::success_rate_average::${c.outlier.srAverage}\n`;
      out += `${n}::outlier::success_rate_ejection_threshold::${c.outlier.srThreshold}\n`;
    }
    for (const h of c.hosts) {
      const flags =
        [!h.healthy ? '/failed_active_hc' : '', h.ejected ? '/failed_outlier_check' : ''].join('') ||
        'healthy';
      const k = `${n}::${h.key}`;
      out += `${k}::cx_active::${h.cxActive}\n${k}::rq_active::${h.active}\n${k}::rq_total::${h.rqTotal}\n${k}::rq_error::${h.rqError}\n`;
      out += `${k}::hostname::${h.hostname}\n${k}::health_flags::${flags}\n${k}::weight::${h.weight}\n`;
      out += `${k}::success_rate::${h.od?.successRate ?? -1}\n`;
    }
  }
  return out;
}
