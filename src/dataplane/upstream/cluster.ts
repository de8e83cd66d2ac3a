import dns from 'node:dns/promises';
import net from 'node:net';
import type { ClusterConfig } from '../config/cluster.js';
import { ResponseParser } from '../codec/http1.js';
import { H2Pool } from './h2-pool.js';
import { Host, type AcquireCallback, type UpstreamConnection } from './host.js';
import { UpConn } from './http1-conn.js';
import { leastRequest, newLbState, randomPick, ringHash, roundRobin } from './lb.js';
import { OutlierDetector } from './outlier.js';
import type { Stat, Stats } from '../admin/stats.js';
import { dial } from '../listener/tls.js';

/** The read buffer of plaintext upstream connections (reads are handled one at a time). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

type Waiter = { host: Host; cb: AcquireCallback };

/** One cluster at run time: hosts, load balancing, connection pools, circuit breakers, health. */
export class Cluster {
  hosts: Host[] = [];
  readonly lb = newLbState();
  activeRq = 0;
  activeRetries = 0;
  connections = 0;
  private pending: Waiter[] = [];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  readonly p: string;
  /** Prefix of upstream_rq_<code> and upstream_rq_<N>xx. */
  readonly pRq: string;
  /** The stats every request touches, resolved once. */
  readonly sRqTotal: Stat;
  readonly sRqActive: Stat;
  private readonly sRqCode: Stat[] = [];
  private readonly sRqClass: Stat[] = [];
  /** HTTP/2 sessions, when the cluster speaks HTTP/2 upstream (h2-upstream.ts). */
  readonly h2: H2Pool | undefined;
  readonly outlier?: OutlierDetector;

  constructor(
    readonly config: ClusterConfig,
    readonly stats: Stats,
  ) {
    this.p = `cluster.${config.name}.`;
    this.pRq = `${this.p}upstream_rq_`;
    this.sRqTotal = stats.counter(`${this.p}upstream_rq_total`);
    this.sRqActive = stats.gaugeStat(`${this.p}upstream_rq_active`);
    this.h2 = config.http2 ? new H2Pool(this, config.http2) : undefined;
    if (config.outlier)
      this.outlier = new OutlierDetector(
        config.outlier,
        stats,
        this.p,
        () => this.hosts,
        () => this.updateMembership(),
      );
  }

  /** upstream_rq_<status> and upstream_rq_<N>xx of a response. */
  countResponse(status: number): void {
    (this.sRqCode[status] ??= this.stats.counter(`${this.pRq}${status}`)).value++;
    const n = (status / 100) | 0;
    (this.sRqClass[n] ??= this.stats.counter(`${this.pRq}${n}xx`)).value++;
  }

  /** Resolves endpoints, runs the first health checks (bounded), starts timers. */
  async start(): Promise<void> {
    await this.resolve();
    if (this.config.type !== 'STATIC') {
      const t = setInterval(() => void this.resolve(), 5000);
      t.unref();
      this.timers.push(t);
    }
    const hc = this.config.health;
    if (hc) {
      for (const h of this.hosts) h.healthy = false;
      await Promise.race([
        Promise.all(this.hosts.map((h) => this.check(h))),
        sleep(Math.max(hc.timeoutMs, 1000)),
      ]);
      const t = setInterval(() => {
        for (const h of this.hosts) void this.check(h);
      }, hc.intervalMs);
      t.unref();
      this.timers.push(t);
    }
    const od = this.outlier;
    if (od) {
      const t = setInterval(() => od.tick(), od.cfg.intervalMs);
      t.unref();
      this.timers.push(t);
    }
    this.updateMembership();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const h of this.hosts) for (const c of h.idle) c.socket.destroy();
    this.h2?.stop();
  }

  private async resolve(): Promise<void> {
    const next: Host[] = [];
    const eps = this.config.endpoints;
    for (const ep of eps) {
      let addrs: string[];
      if (net.isIP(ep.address.host)) addrs = [ep.address.host];
      else {
        try {
          const found = await dns.lookup(ep.address.host, {
            all: true,
            family: this.config.dnsFamily || undefined,
          });
          addrs = found.map((a) => a.address);
        } catch {
          addrs = [];
        }
        if (this.config.type === 'LOGICAL_DNS') addrs = addrs.slice(0, 1);
      }
      for (const a of addrs) {
        const key = `${a}:${ep.address.port}`;
        const old = this.hosts.find((h) => h.key === key);
        next.push(old ?? new Host({ host: a, port: ep.address.port }, ep.weight, ep.address.host));
      }
    }
    if (this.hosts.length && next.length === 0) return; // keep the last good resolution
    this.hosts = next;
    this.updateMembership();
  }

  updateMembership(): void {
    this.stats.setGauge(`${this.p}membership_total`, this.hosts.length);
    this.stats.setGauge(
      `${this.p}membership_healthy`,
      this.hosts.filter((h) => h.healthy && !h.ejected).length,
    );
  }

  /** Hosts eligible for load balancing; all of them in panic mode (under 50% available, Envoy's default). */
  eligible(): Host[] {
    let n = 0;
    for (const h of this.hosts) if (h.healthy && !h.ejected) n++;
    if (n === this.hosts.length) return this.hosts;
    if (n * 100 < 50 * this.hosts.length) {
      this.stats.inc(`${this.p}lb_healthy_panic`);
      return this.hosts;
    }
    return this.hosts.filter((h) => h.healthy && !h.ejected);
  }

  choose(hashKey?: number, exclude?: Set<Host>): Host | undefined {
    let hosts = this.eligible();
    if (exclude?.size) {
      const rest = hosts.filter((h) => !exclude.has(h));
      if (rest.length) hosts = rest;
    }
    switch (this.config.lbPolicy) {
      case 'ROUND_ROBIN':
        return roundRobin(hosts, this.lb);
      case 'LEAST_REQUEST':
        return leastRequest(hosts);
      case 'RANDOM':
        return randomPick(hosts);
      case 'RING_HASH':
        return ringHash(hosts, this.lb, hashKey);
    }
  }

  /**
   * A connection to host: an idle one, a new one, or (at max_connections) a place in the pending
   * queue; for an HTTP/2 cluster a new stream (`downstreamH2`: the request came over HTTP/2).
   */
  acquire(host: Host, cb: AcquireCallback, downstreamH2 = false): void {
    const h2 = this.h2;
    if (h2 !== undefined && (downstreamH2 || !h2.downstreamOnly)) return h2.acquire(host, cb);
    while (host.idle.length) {
      const c = host.idle.pop()!;
      if (!c.closed) return cb(null, c);
    }
    if (this.connections >= this.config.circuit.maxConnections) {
      if (this.pending.length >= this.config.circuit.maxPending) {
        this.stats.inc(`${this.p}upstream_rq_pending_overflow`);
        return cb('overflow');
      }
      this.stats.inc(`${this.p}upstream_cx_overflow`);
      this.pending.push({ host, cb });
      return;
    }
    this.connect(host, cb);
  }

  private connect(host: Host, cb: AcquireCallback): void {
    this.connections++;
    host.cxActive++;
    this.stats.inc(`${this.p}upstream_cx_total`);
    this.stats.gauge(`${this.p}upstream_cx_active`, 1);
    // plaintext: reads land in one shared buffer and go straight to the parser (no stream events)
    const onread: net.OnReadOpts | undefined = this.config.tls
      ? undefined
      : {
          buffer: READ_BUFFER,
          callback: (n, b) => {
            conn.onData(Buffer.from(b.buffer, b.byteOffset, n));
            return true;
          },
        };
    const { socket, readyEvent } = dial(host.address.host, host.address.port, this.config.tls, onread);
    socket.setNoDelay(true);
    const conn = new UpConn(socket, host, this, !!onread);
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      this.stats.inc(`${this.p}upstream_cx_connect_timeout`);
      this.stats.inc(`${this.p}upstream_cx_connect_fail`);
      socket.destroy();
      cb('connect');
    }, this.config.connectTimeoutMs);
    socket.once(readyEvent, () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.connected = true;
      cb(null, conn);
    });
    socket.once('close', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.stats.inc(`${this.p}upstream_cx_connect_fail`);
      cb('connect');
    });
  }

  connectionClosed(c: UpConn): void {
    this.connections--;
    c.host.cxActive--;
    this.stats.gauge(`${this.p}upstream_cx_active`, -1);
    const i = c.host.idle.indexOf(c);
    if (i >= 0) c.host.idle.splice(i, 1);
    this.drainPending();
  }

  /** The request on c is over: keep the connection for reuse or close it. */
  release(c: UpstreamConnection, reusable: boolean): void {
    if (!reusable || c.closed || this.stopped) {
      c.socket.destroy();
      return;
    }
    const w = this.pending.findIndex((p) => p.host === c.host);
    if (w >= 0) {
      const [waiter] = this.pending.splice(w, 1);
      waiter!.cb(null, c);
      return;
    }
    c.host.idle.push(c);
  }

  private drainPending(): void {
    while (this.pending.length && this.connections < this.config.circuit.maxConnections) {
      const w = this.pending.shift()!;
      this.connect(w.host, w.cb);
    }
  }

  /** Drops a waiter (its request timed out or went away). */
  cancelPending(cb: AcquireCallback): void {
    const i = this.pending.findIndex((p) => p.cb === cb);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** Outlier detection input: a response status (local failures are reported as 503). */
  report(host: Host, status: number): void {
    this.outlier?.report(host, status);
  }

  /** One active health check of host (HTTP GET of the configured path, or a TCP connect). */
  private check(h: Host): Promise<void> {
    const hc = this.config.health!;
    this.stats.inc(`${this.p}health_check.attempt`);
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.destroy();
        if (ok) {
          this.stats.inc(`${this.p}health_check.success`);
          this.outlier?.healthCheckPassed(h);
          h.hcFail = 0;
          h.hcOk++;
          if (!h.healthy && (h.hcOk >= hc.healthyThreshold || !this.everChecked.has(h))) h.healthy = true;
        } else {
          this.stats.inc(`${this.p}health_check.failure`);
          h.hcOk = 0;
          h.hcFail++;
          if (h.healthy && h.hcFail >= hc.unhealthyThreshold) h.healthy = false;
        }
        this.everChecked.add(h);
        this.updateMembership();
        resolve();
      };
      const timer = setTimeout(() => finish(false), hc.timeoutMs);
      const { socket: s, readyEvent } = dial(h.address.host, h.address.port, this.config.tls);
      s.on('error', () => finish(false));
      s.on('close', () => finish(false));
      s.once(readyEvent, () => {
        if (!hc.http) return finish(true);
        const host = hc.http.host ?? this.config.name;
        s.write(
          `GET ${hc.http.path} HTTP/1.1\r\nhost: ${host}\r\nuser-agent: Envoy/HC\r\nconnection: close\r\n\r\n`,
        );
        const parser = new ResponseParser(
          (head) => finish(head.status === 200),
          () => {},
          () => {},
        );
        parser.reset(false);
        s.on('data', (d: Buffer) => {
          try {
            parser.push(d);
          } catch {
            finish(false);
          }
        });
      });
    });
  }

  private readonly everChecked = new WeakSet<Host>();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
