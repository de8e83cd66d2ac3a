import type net from 'node:net';
import type tls from 'node:tls';
import type { ChainConfig, ListenerConfig } from '../config/listener.js';
import { runChain, terminalFilter, type NetworkFilter } from '../network/filter-chain.js';
import type { Runtime } from '../runtime.js';
import { acceptTls, matchChain, readClientHello, secureContext } from './tls.js';

/** Envoy's listener_filters_timeout: how long the tls_inspector waits for a ClientHello. */
const LISTENER_FILTERS_TIMEOUT_MS = 15_000;

/** A listener of one configuration: its chains' terminal filters and TLS contexts. */
export interface ListenerRuntime {
  config: ListenerConfig;
  handlers: NetworkFilter[];
  /** One secure context per TLS chain (undefined for plaintext chains). */
  contexts: (tls.SecureContext | undefined)[];
  rt: Runtime;
}

export function buildListener(l: ListenerConfig, rt: Runtime): ListenerRuntime {
  return {
    config: l,
    handlers: l.chains.map((c) => terminalFilter(c, rt)),
    contexts: l.chains.map((c) => (c.tls ? secureContext(c.tls) : undefined)),
    rt,
  };
}

/**
 * Envoy's first filter chain criterion: chains naming the destination port, else those naming
 * none. Indices into `chains`.
 */
function chainsFor(chains: ChainConfig[], port: number | undefined): number[] {
  const all = chains.map((_, i) => i);
  const exact = all.filter((i) => chains[i]!.destinationPort === port);
  return exact.length ? exact : all.filter((i) => chains[i]!.destinationPort === undefined);
}

/**
 * A connection accepted by a listener bound at `at`: its filter chain chosen (destination port,
 * then SNI, ALPN and transport by the tls_inspector or the TLS handshake), then run.
 */
export function acceptConnection(lr: ListenerRuntime, at: string, socket: net.Socket): void {
  const stats = lr.rt.stats;
  const chains = lr.config.chains;
  // destination_port: the connection's local port. With original_dst Envoy uses the address
  // before an iptables REDIRECT (SO_ORIGINAL_DST), which Node cannot read: a connection that
  // was not redirected keeps its local address in Envoy too.
  const byPort = chainsFor(chains, socket.localPort);
  const noMatch = () => {
    stats.inc(`listener.${at}.no_filter_chain_match`);
    socket.destroy();
  };
  if (!byPort.length) return noMatch();
  const rejectTls = (why: string) => {
    if (process.env.MESHGEN_DEBUG) process.stderr.write(`tls reject: ${why}\n`);
    stats.inc(`listener.${at}.ssl.connection_error`);
  };
  const dispatch = (i: number, s: net.Socket, peer: string[] | null) =>
    runChain(chains[i]!, lr.handlers[i]!, s, peer, lr.rt, `listener.${at}.`);
  if (!lr.config.tlsInspector) {
    // no inspector: a plaintext chain takes the connection; TLS chains are chosen by SNI while
    // the handshake runs
    if (!chains[byPort[0]!]!.tls) return dispatch(byPort[0]!, socket, null);
    return acceptTls(
      socket,
      byPort.map((i) => chains[i]!),
      byPort.map((i) => lr.contexts[i]!),
      (s, j, peer) => dispatch(byPort[j]!, s, peer),
      rejectTls,
    );
  }
  inspect(socket, (hello) => {
    const i = matchChain(chains, byPort, hello);
    if (i < 0) return noMatch();
    if (!chains[i]!.tls) return dispatch(i, socket, null);
    acceptTls(socket, [chains[i]!], [lr.contexts[i]!], (s, _j, peer) => dispatch(i, s, peer), rejectTls);
  });
}

/**
 * tls_inspector: the ClientHello's SNI and ALPN (or plaintext) choose the chain, as in Envoy; the
 * bytes read go back to the socket for the chain's filters.
 */
function inspect(
  socket: net.Socket,
  then: (hello: Exclude<ReturnType<typeof readClientHello>, 'more'>) => void,
): void {
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
    then(hello);
  };
  socket.on('data', onData);
}
