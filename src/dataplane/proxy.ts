import net from 'node:net';
import type tls from 'node:tls';
import { acceptTls, matchChain, readClientHello, secureContext } from './tls.js';
import type { ChainConfig, ListenerConfig, ProxyConfig } from './config.js';
import { HttpConnectionManager, rbacAllows, type Runtime } from './hcm.js';
import type { RouteRequest } from './router.js';
import { openLogger, type AccessLogger } from './accesslog.js';
import { Stats } from './stats.js';
import { TcpProxy } from './tcp.js';
import { Cluster } from './upstream.js';
import { startAdmin, type AdminServer } from './admin.js';
import { drainConnections } from './listener/drain.js';

type Handler = HttpConnectionManager | TcpProxy;

/** Envoy's listener_filters_timeout: how long the tls_inspector waits for a ClientHello. */
const LISTENER_FILTERS_TIMEOUT_MS = 15_000;

interface ListenerRuntime {
  config: ListenerConfig;
  handlers: Handler[];
  /** One secure context per TLS chain (undefined for plaintext chains). */
  contexts: (tls.SecureContext | undefined)[];
}

interface Generation {
  config: ProxyConfig;
  rt: Runtime;
  listeners: Map<string, ListenerRuntime>;
}

/** Network RBAC sees no HTTP request: header and path permissions never match. */
const NETWORK_REQUEST: RouteRequest = { method: '', path: '', authority: '', header: () => undefined };

/**
 * Envoy's first filter chain criterion: chains naming the destination port, else those naming
 * none. Indices into `chains`.
 */
function chainsFor(chains: ChainConfig[], port: number | undefined): number[] {
  const all = chains.map((_, i) => i);
  const exact = all.filter((i) => chains[i]!.destinationPort === port);
  return exact.length ? exact : all.filter((i) => chains[i]!.destinationPort === undefined);
}

const handlersOf = (g: Generation): Handler[] => [...g.listeners.values()].flatMap((l) => l.handlers);
/**
 * A listener's identity across reloads: its address, so that a reload keeps the listening socket.
 * Port 0 (the OS picks) names no address, so the listener's name tells two such listeners apart.
 */
const key = (l: ListenerConfig) =>
  l.address.port === 0 ? `${l.address.host}:0/${l.name}` : `${l.address.host}:${l.address.port}`;

/** Where a listener is bound: with port 0, the port the OS picked. */
export interface BoundListener {
  name: string;
  host: string;
  port: number;
}

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
export class Proxy {
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
    const clusters = new Map<string, Cluster>();
    for (const c of config.clusters) clusters.set(c.name, new Cluster(c, this.stats));
    await Promise.all([...clusters.values()].map((c) => c.start()));
    const rt: Runtime = { clusters, stats: this.stats, logger: (p) => this.logger(p), draining: false };
    const listeners = new Map<string, ListenerRuntime>();
    for (const l of config.listeners) {
      const handlers = l.chains.map((c) =>
        c.network.kind === 'http'
          ? new HttpConnectionManager(c.network.hcm, rt, c.tls ? 'https' : 'http')
          : new TcpProxy(c.network.tcp, rt),
      );
      const contexts = l.chains.map((c) => (c.tls ? secureContext(c.tls) : undefined));
      listeners.set(key(l), { config: l, handlers, contexts });
    }
    return { config, rt, listeners };
  }

  async start(): Promise<void> {
    this.gen = await this.build(this.initial);
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
      const chains = lr.config.chains;
      // destination_port: the connection's local port. With original_dst Envoy uses the address
      // before an iptables REDIRECT (SO_ORIGINAL_DST), which Node cannot read: a connection that
      // was not redirected keeps its local address in Envoy too.
      const byPort = chainsFor(chains, socket.localPort);
      const noMatch = () => {
        this.stats.inc(`listener.${at}.no_filter_chain_match`);
        socket.destroy();
      };
      if (!byPort.length) return noMatch();
      const rejectTls = (why: string) => {
        if (process.env.MESHGEN_DEBUG) process.stderr.write(`tls reject: ${why}\n`);
        this.stats.inc(`listener.${at}.ssl.connection_error`);
      };
      if (!lr.config.tlsInspector) {
        // no inspector: a plaintext chain takes the connection; TLS chains are chosen by SNI while
        // the handshake runs
        if (!chains[byPort[0]!]!.tls) return this.dispatch(lr, at, byPort[0]!, socket, null);
        return acceptTls(
          socket,
          byPort.map((i) => chains[i]!),
          byPort.map((i) => lr.contexts[i]!),
          (s, j, peer) => this.dispatch(lr, at, byPort[j]!, s, peer),
          rejectTls,
        );
      }
      // tls_inspector: the ClientHello's SNI and ALPN (or plaintext) choose the chain, as in Envoy;
      // the bytes read go back to the socket for the chain's filters
      const got: Buffer[] = [];
      const timer = setTimeout(() => socket.destroy(), LISTENER_FILTERS_TIMEOUT_MS);
      socket.once('close', () => clearTimeout(timer));
      socket.on('error', () => socket.destroy());
      const onData = (buf: Buffer) => {
        got.push(buf);
        const all = got.length === 1 ? buf : Buffer.concat(got);
        const hello = readClientHello(all);
        if (hello === 'more') return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.pause();
        socket.unshift(all);
        const i = matchChain(chains, byPort, hello);
        if (i < 0) return noMatch();
        if (!chains[i]!.tls) return this.dispatch(lr, at, i, socket, null);
        acceptTls(
          socket,
          [chains[i]!],
          [lr.contexts[i]!],
          (s, _j, peer) => this.dispatch(lr, at, i, s, peer),
          rejectTls,
        );
      };
      socket.on('data', onData);
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

  /** Network RBAC filters of the chain, then its terminal filter. */
  private dispatch(lr: ListenerRuntime, at: string, i: number, s: net.Socket, peer: string[] | null): void {
    for (const r of lr.config.chains[i]!.rbac) {
      if (!rbacAllows(r, NETWORK_REQUEST, peer)) {
        this.stats.inc(`listener.${at}.rbac.denied`);
        return void s.destroy();
      }
      this.stats.inc(`listener.${at}.rbac.allowed`);
    }
    lr.handlers[i]!.onConnection(s, peer);
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
          for (const c of next.rt.clusters.values()) c.stop();
          throw e;
        }
      }
    }
    this.gen = next;
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
    for (const c of g.rt.clusters.values()) c.stop();
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
    for (const c of this.gen.rt.clusters.values()) c.stop();
    await this.admin?.close();
    for (const l of this.loggers.values()) l.close();
  }
}
