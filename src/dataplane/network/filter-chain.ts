import type net from 'node:net';
import type { ChainConfig } from '../config/listener.js';
import { HttpConnectionManager } from '../http/conn-manager.js';
import type { Runtime } from '../runtime.js';
import { networkRbacAllows } from './rbac.js';
import { TcpProxy } from './tcp-proxy.js';

/** A chain's terminal network filter: http_connection_manager or tcp_proxy. */
export interface NetworkFilter {
  onConnection(socket: net.Socket, peer: string[] | null): void;
  /** Starts the drain (listener/drain.ts). */
  drain(): void;
  /** The drain time is over: closes what is idle. */
  closeIdle?(): void;
  readonly activeConnections: number;
}

/** The terminal filter of a filter chain, built for one configuration's runtime. */
export function terminalFilter(c: ChainConfig, rt: Runtime): NetworkFilter {
  return c.network.kind === 'http'
    ? new HttpConnectionManager(c.network.hcm, rt, c.tls ? 'https' : 'http')
    : new TcpProxy(c.network.tcp, rt);
}

/** A connection through a chain: its network RBAC filters, then its terminal filter. */
export function runChain(
  c: ChainConfig,
  terminal: NetworkFilter,
  s: net.Socket,
  peer: string[] | null,
  rt: Runtime,
  statPrefix: string,
): void {
  if (!networkRbacAllows(c.rbac, peer, rt.stats, statPrefix)) return void s.destroy();
  terminal.onConnection(s, peer);
}
