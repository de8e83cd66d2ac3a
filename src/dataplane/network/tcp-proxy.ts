import type net from 'node:net';
import { dial } from '../listener/tls.js';
import type { TcpProxyConfig } from '../config/listener.js';
import type { Runtime } from '../runtime.js';
import { pickWeighted } from '../router/route-match.js';

/** envoy.filters.network.tcp_proxy: one upstream connection per downstream one, bytes both ways. */
export class TcpProxy {
  readonly p: string;
  private readonly conns = new Set<net.Socket>();
  private readonly total: number;

  constructor(
    readonly cfg: TcpProxyConfig,
    readonly rt: Runtime,
  ) {
    this.p = `tcp.${cfg.statPrefix}.`;
    this.total = cfg.clusters.reduce((a, c) => a + c.weight, 0);
  }

  get activeConnections(): number {
    return this.conns.size;
  }

  /** A TCP connection has no request boundary to close at: it goes on while the drain lasts. */
  drain(): void {}

  /**
   * The drain time is over: the connections still open are closed, both sides, as Envoy closes the
   * connections of a drained listener or filter chain when its drain time ends.
   */
  closeIdle(): void {
    for (const down of this.conns) down.destroy();
  }

  onConnection(down: net.Socket, _peer: string[] | null = null): void {
    const stats = this.rt.stats;
    const start = Date.now();
    stats.inc(`${this.p}downstream_cx_total`);
    this.conns.add(down);
    down.on('error', () => {});
    down.pause();
    const cluster = this.rt.clusters.get(pickWeighted(this.cfg.clusters, this.total, Math.random()))!;
    const host = cluster.choose(undefined, undefined);
    let upstreamHost = '-';
    let flags = '-';
    let received = 0;
    let sent = 0;
    const log = () => {
      const line = `[${new Date(start).toISOString()}] "- - -" 0 ${flags} ${received} ${sent} ${Date.now() - start} - "-" "-" "-" "-" "${upstreamHost}"\n`;
      for (const l of this.cfg.accessLogs) this.rt.logger(l.path).write(line);
    };
    down.on('close', () => {
      this.conns.delete(down);
      log();
    });
    if (!host) {
      stats.inc(`${this.p}upstream_flush_total`);
      flags = 'UH';
      down.destroy();
      return;
    }
    stats.inc(`${cluster.p}upstream_cx_total`);
    stats.gauge(`${cluster.p}upstream_cx_active`, 1);
    // the cluster's transport socket: an UpstreamTlsContext makes the upstream connection (m)TLS
    const { socket: up, readyEvent } = dial(host.address.host, host.address.port, cluster.config.tls);
    upstreamHost = host.key;
    let connected = false;
    const ct = setTimeout(() => {
      stats.inc(`${cluster.p}upstream_cx_connect_timeout`);
      up.destroy();
    }, cluster.config.connectTimeoutMs);
    up.on('error', () => {});
    up.once(readyEvent, () => {
      connected = true;
      clearTimeout(ct);
      up.setNoDelay(true);
      down.resume();
      down.pipe(up);
      up.pipe(down);
    });
    up.on('data', (d: Buffer) => (sent += d.length));
    down.on('data', (d: Buffer) => (received += d.length));
    up.once('close', () => {
      clearTimeout(ct);
      stats.gauge(`${cluster.p}upstream_cx_active`, -1);
      if (!connected) {
        stats.inc(`${cluster.p}upstream_cx_connect_fail`);
        flags = 'UF';
        down.destroy();
      } else down.end();
    });
    down.once('close', () => up.destroy());
    if (this.cfg.maxDurationMs > 0) {
      const t = setTimeout(() => {
        stats.inc(`${this.p}max_downstream_connection_duration`);
        down.destroy();
        up.destroy();
      }, this.cfg.maxDurationMs);
      down.once('close', () => clearTimeout(t));
    }
    if (this.cfg.idleTimeoutMs > 0) {
      const idle = () => {
        stats.inc(`${this.p}idle_timeout`);
        down.destroy();
        up.destroy();
      };
      down.setTimeout(this.cfg.idleTimeoutMs, idle);
      up.setTimeout(this.cfg.idleTimeoutMs, idle);
    }
  }
}
