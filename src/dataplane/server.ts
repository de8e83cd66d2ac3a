import net from 'node:net';
import type { ProxyConfig } from './config/bootstrap.js';
import type { ListenerConfig } from './config/listener.js';
import { acceptConnection, buildListener, type ListenerRuntime } from './listener/listener.js';
import type { NetworkFilter } from './network/filter-chain.js';
import type { Runtime } from './runtime.js';
import { openLogger, type AccessLogger } from './accesslog.js';
import { Stats } from './admin/stats.js';
import type { Cluster } from './upstream/cluster.js';
import { startClusters, stopClusters } from './upstream/cluster-manager.js';
import { startAdmin, type AdminServer } from './admin/admin.js';
import { configDump, trackResources, type DumpState } from './admin/config-dump.js';
import type { AdminTarget, BoundListener } from './admin/target.js';
import { drainConnections } from './listener/drain.js';

interface Generation {
  config: ProxyConfig;
  rt: Runtime;
  listeners: Map<string, ListenerRuntime>;
}

const handlersOf = (g: Generation): NetworkFilter[] => [...g.listeners.values()].flatMap((l) => l.handlers);
/**
 * A listener's identity across reloads: its address, so that a reload keeps the listening socket.
 * Port 0 (the OS picks) names no address, so the listener's name tells two such listeners apart.
 */
const key = (l: ListenerConfig) =>
  l.address.port === 0 ? `${l.address.host}:0/${l.name}` : `${l.address.host}:${l.address.port}`;

export interface ProxyOptions {
  /** Status lines (reloads, drains); the CLI prints them on stderr. */
  log?: (line: string) => void;
  /** Seconds to let connections finish on drain (SIGTERM) and after a reload. */
  drainTimeS?: number;
}

/**
 * The running proxy: clusters, listeners and the admin server for one configuration, replaceable
 * by `reload` without closing listening sockets or the connections already accepted.
 */
export class Proxy implements AdminTarget {
  readonly stats = new Stats();
  private gen!: Generation;
  private readonly servers = new Map<string, net.Server>();
  private admin?: AdminServer;
  private readonly loggers = new Map<string, AccessLogger>();
  private readonly started = Date.now();
  private readonly sockets = new Set<net.Socket>();
  healthFailed = false;
  state: 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' = 'PRE_INITIALIZING';

  constructor(
    private readonly initial: ProxyConfig,
    private readonly opts: ProxyOptions = {},
  ) {}

  get config(): ProxyConfig {
    return this.gen.config;
  }

  get clusters(): Map<string, Cluster> {
    return this.gen.rt.clusters;
  }

  /** When each resource was last added or changed: computed on the first dump or reload. */
  private dumpState?: DumpState;
  private loadedAt = new Date();

  private resourceState(): DumpState {
    return (this.dumpState ??= trackResources(this.gen.config, this.loadedAt));
  }

  configDump(): unknown {
    return configDump(this.gen.config, this.resourceState());
  }

  get uptimeS(): number {
    return Math.floor((Date.now() - this.started) / 1000);
  }

  /** The bound port of a listener (useful with port 0). */
  listenerPort(name: string): number | undefined {
    return this.listeners().find((l) => l.name === name)?.port;
  }

  /** The listeners of the current configuration where they are bound (as the admin /listeners). */
  listeners(): BoundListener[] {
    const out: BoundListener[] = [];
    for (const l of this.gen.config.listeners) {
      const a = this.servers.get(key(l))?.address() as net.AddressInfo | null | undefined;
      if (a) out.push({ name: l.name, host: l.address.host, port: a.port });
    }
    return out;
  }

  get adminPort(): number | undefined {
    return this.admin?.port;
  }

  private logger(path: string): AccessLogger {
    let l = this.loggers.get(path);
    if (!l) this.loggers.set(path, (l = openLogger(path)));
    return l;
  }

  private async build(config: ProxyConfig): Promise<Generation> {
    const clusters = await startClusters(config.clusters, this.stats);
    const rt: Runtime = { clusters, stats: this.stats, logger: (p) => this.logger(p), draining: false };
    const listeners = new Map<string, ListenerRuntime>();
    for (const l of config.listeners) listeners.set(key(l), buildListener(l, rt));
    return { config, rt, listeners };
  }

  async start(): Promise<void> {
    this.gen = await this.build(this.initial);
    this.loadedAt = new Date();
    for (const l of this.initial.listeners) await this.listen(l);
    if (this.initial.admin)
      this.admin = await startAdmin(this, this.initial.admin.address.host, this.initial.admin.address.port);
    this.state = 'LIVE';
    this.stats.setGauge('server.live', 1);
    this.stats.setGauge('server.state', 0);
  }

  private listen(l: ListenerConfig): Promise<void> {
    const k = key(l);
    // the stats name the bound address (the same as the configured one unless it has port 0)
    let at = `${l.address.host}:${l.address.port}`;
    const server = net.createServer({ noDelay: true }, (socket) => {
      this.stats.inc(`listener.${at}.downstream_cx_total`);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      const lr = this.gen.listeners.get(k);
      if (!lr) return socket.destroy();
      acceptConnection(lr, at, socket);
    });
    this.servers.set(k, server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: l.address.host, port: l.address.port, backlog: 1024 }, () => {
        server.off('error', reject);
        at = `${l.address.host}:${(server.address() as net.AddressInfo).port}`;
        resolve();
      });
    });
  }

  /**
   * Swaps in a new configuration: new connections use it at once; connections already accepted
   * finish on the old one (closed after their current request, within the drain time).
   */
  async reload(config: ProxyConfig): Promise<void> {
    const old = this.gen;
    const next = await this.build(config);
    const wanted = new Set(config.listeners.map(key));
    for (const l of config.listeners) {
      const k = key(l);
      if (!this.servers.has(k)) {
        try {
          await this.listen(l);
        } catch (e) {
          stopClusters(next.rt.clusters);
          throw e;
        }
      }
    }
    // the versions and times of the resources this reload leaves as they were are kept
    const previous = this.resourceState();
    this.gen = next;
    this.loadedAt = new Date();
    this.dumpState = trackResources(config, this.loadedAt, previous);
    for (const [k, s] of this.servers)
      if (!wanted.has(k)) {
        s.close();
        this.servers.delete(k);
      }
    this.stats.inc('server.reloads');
    void this.retire(old);
  }

  private async retire(g: Generation): Promise<void> {
    g.rt.draining = true;
    await drainConnections(handlersOf(g), (this.opts.drainTimeS ?? 5) * 1000);
    stopClusters(g.rt.clusters);
  }

  /** Stops accepting, lets connections finish (bounded by the drain time), then closes everything. */
  async drainAndStop(drainTimeS = this.opts.drainTimeS ?? 5): Promise<void> {
    this.state = 'DRAINING';
    for (const s of this.servers.values()) s.close();
    this.gen.rt.draining = true;
    await drainConnections(handlersOf(this.gen), drainTimeS * 1000);
    await this.stop();
  }

  async stop(): Promise<void> {
    for (const s of this.servers.values()) s.close();
    for (const s of this.sockets) s.destroy();
    this.servers.clear();
    stopClusters(this.gen.rt.clusters);
    await this.admin?.close();
    for (const l of this.loggers.values()) l.close();
  }
}
