import net from 'node:net';
import tls from 'node:tls';
import type { ChainConfig } from '../config/listener.js';
import type { SanMatcher, TlsConfig } from '../config/tls.js';

/**
 * How well a chain's server_names match a server name, as Envoy ranks them: an exact name, then the
 * longest `*.suffix`, then (0) a chain naming none; -1 when the chain names others only.
 */
function serverNameRank(c: ChainConfig, name: string | undefined): number {
  if (!c.serverNames.length) return 0;
  let rank = -1;
  if (name)
    for (const s of c.serverNames) {
      if (s === name) rank = Math.max(rank, 100_000);
      else if (s.startsWith('*.') && name.endsWith(s.slice(1))) rank = Math.max(rank, s.length);
    }
  return rank;
}

/** Envoy's filter chain choice by SNI: the best-ranked chain, or -1 (the connection is closed). */
function selectChain(chains: ChainConfig[], serverName: string | undefined): number {
  const name = serverName?.toLowerCase();
  let best = -1;
  let bestRank = -1;
  chains.forEach((c, i) => {
    const rank = serverNameRank(c, name);
    if (rank > bestRank) {
      best = i;
      bestRank = rank;
    }
  });
  return best;
}

/** What the tls_inspector reads from a connection's first bytes. */
export interface Hello {
  /** The connection starts with a TLS handshake record. */
  tls: boolean;
  /** server_name extension (SNI). */
  sni?: string;
  /** application_layer_protocol_negotiation extension (ALPN), in the client's order. */
  alpn: string[];
}

/** Largest TLS record (2^14 bytes of plaintext, plus the 2048 the record layer may add). */
const MAX_RECORD = 16384 + 2048;

/**
 * Envoy's tls_inspector: the TLS ClientHello at the start of `buf`, or 'more' until its first
 * record is complete. A connection whose first byte is not a handshake record is plaintext. A hello
 * that cannot be read (truncated, fragmented over records) is TLS without SNI or ALPN.
 */
export function readClientHello(buf: Buffer): Hello | 'more' {
  if (buf.length === 0) return 'more';
  if (buf[0] !== 0x16) return { tls: false, alpn: [] };
  if (buf.length < 5) return 'more';
  const recLen = buf.readUInt16BE(3);
  const out: Hello = { tls: true, alpn: [] };
  if (recLen > MAX_RECORD) return out;
  if (buf.length < 5 + recLen) return 'more';
  try {
    let i = 5;
    if (buf[i] !== 1) return out; // not a ClientHello
    const end = Math.min(5 + recLen, i + 4 + buf.readUIntBE(i + 1, 3));
    i += 4 + 2 + 32; // handshake header, legacy_version, random
    i += 1 + buf[i]!; // legacy_session_id
    i += 2 + buf.readUInt16BE(i); // cipher_suites
    i += 1 + buf[i]!; // legacy_compression_methods
    if (i + 2 > end) return out;
    const extEnd = Math.min(end, i + 2 + buf.readUInt16BE(i));
    i += 2;
    while (i + 4 <= extEnd) {
      const type = buf.readUInt16BE(i);
      const e = i + 4 + buf.readUInt16BE(i + 2);
      i += 4;
      if (e > extEnd) break;
      if (type === 0) {
        // server_name: list length, then (name_type, length, name)*; host_name is type 0
        for (let j = i + 2; j + 3 <= e;) {
          const n = buf.readUInt16BE(j + 1);
          if (buf[j] === 0 && j + 3 + n <= e) {
            out.sni = buf.toString('latin1', j + 3, j + 3 + n);
            break;
          }
          j += 3 + n;
        }
      } else if (type === 16) {
        // ALPN: list length, then (length, protocol)*
        for (let j = i + 2; j < e;) {
          const n = buf[j]!;
          if (j + 1 + n > e) break;
          out.alpn.push(buf.toString('latin1', j + 1, j + 1 + n));
          j += 1 + n;
        }
      }
      i = e;
    }
  } catch {
    // a hello shorter than its lengths say: what was read so far
  }
  return out;
}

/**
 * Envoy's filter chain match after the destination port, with what the tls_inspector read: server
 * names (exact, then the longest `*.suffix`, then chains naming none), then transport_protocol,
 * then application_protocols; at each step the chains naming the criterion win over those that do
 * not. The first chain left, or -1.
 */
export function matchChain(chains: ChainConfig[], candidates: number[], hello: Hello): number {
  const name = hello.sni?.toLowerCase();
  let best = -1;
  let c: number[] = [];
  for (const i of candidates) {
    const rank = serverNameRank(chains[i]!, name);
    if (rank < 0) continue;
    if (rank > best) {
      best = rank;
      c = [i];
    } else if (rank === best) c.push(i);
  }
  const proto = hello.tls ? 'tls' : 'raw_buffer';
  const tp = c.filter((i) => chains[i]!.transportProtocol === proto);
  c = tp.length ? tp : c.filter((i) => !chains[i]!.transportProtocol);
  const ap = c.filter((i) => chains[i]!.applicationProtocols.some((p) => hello.alpn.includes(p)));
  c = ap.length ? ap : c.filter((i) => !chains[i]!.applicationProtocols.length);
  return c.length ? c[0]! : -1;
}

export function secureContext(t: TlsConfig): tls.SecureContext {
  return tls.createSecureContext({ cert: t.cert, key: t.key, ca: t.ca });
}

interface PeerCert {
  subject?: Record<string, string | string[]>;
  subjectaltname?: string;
}

function sanList(cert: PeerCert): { type: string; value: string }[] {
  if (!cert.subjectaltname) return [];
  return cert.subjectaltname.split(', ').map((e) => {
    const i = e.indexOf(':');
    const t = e.slice(0, i);
    return { type: t === 'IP Address' ? 'IP_ADDRESS' : t, value: e.slice(i + 1) };
  });
}

/** True if some SAN of the certificate satisfies some matcher (Envoy's match_typed_subject_alt_names). */
function sanMatches(cert: PeerCert, matchers: SanMatcher[]): boolean {
  if (!matchers.length) return true;
  const sans = sanList(cert);
  return matchers.some((m) => sans.some((s) => s.type === m.type && m.test(s.value)));
}

/** Envoy's authenticated principal: URI SANs, else DNS SANs, else the subject. */
function principals(cert: PeerCert): string[] {
  const sans = sanList(cert);
  const uris = sans.filter((s) => s.type === 'URI').map((s) => s.value);
  if (uris.length) return uris;
  const dns = sans.filter((s) => s.type === 'DNS').map((s) => s.value);
  if (dns.length) return dns;
  const subj = cert.subject
    ? Object.entries(cert.subject)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',')
    : '';
  return subj ? [subj] : [];
}

/**
 * Terminates TLS on an accepted socket with the filter chain SNI selects; calls `ready` with the
 * chain index and the peer's principals once the handshake and client verification pass.
 */
export function acceptTls(
  socket: net.Socket,
  chains: ChainConfig[],
  contexts: tls.SecureContext[],
  ready: (s: tls.TLSSocket, chain: number, peer: string[] | null) => void,
  onReject: (reason: string) => void,
): void {
  let chosen = selectChain(chains, undefined);
  const requestCert = chains.some((c) => c.tls?.ca);
  const alpn = [...new Set(chains.flatMap((c) => c.tls?.alpn ?? []))].filter(
    (p) => p === 'http/1.1' || p === 'h2',
  );
  const s = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: contexts[Math.max(chosen, 0)],
    requestCert,
    rejectUnauthorized: false,
    ALPNProtocols: alpn.length ? alpn : undefined,
    SNICallback: (name, cb) => {
      chosen = selectChain(chains, name);
      cb(null, contexts[Math.max(chosen, 0)]);
    },
  });
  s.on('error', () => s.destroy());
  s.once('secure', () => {
    if (chosen < 0) {
      onReject('no filter chain matches');
      return void s.destroy();
    }
    const t = chains[chosen]!.tls!;
    const cert = s.getPeerCertificate() as PeerCert & { raw?: Buffer };
    const presented = !!cert && !!cert.raw;
    if (t.requireClientCert && !presented) {
      onReject('no client certificate');
      return void s.destroy();
    }
    // a TLSSocket made by hand (not by tls.Server) does not set `authorized`: ask OpenSSL
    const verifyError = (
      s as unknown as { _handle?: { verifyError(): Error | null } }
    )._handle?.verifyError();
    if (presented && t.ca && verifyError) {
      onReject(`client certificate not trusted: ${verifyError.message}`);
      return void s.destroy();
    }
    if (presented && !sanMatches(cert, t.sans)) {
      onReject('client certificate SAN does not match');
      return void s.destroy();
    }
    ready(s, chosen, presented ? principals(cert) : null);
  });
}

/** An upstream connection, TLS when the cluster has a transport socket; `ready` fires once usable. */
export function dial(
  host: string,
  port: number,
  t: TlsConfig | undefined,
  onread?: net.OnReadOpts,
): { socket: net.Socket; readyEvent: string } {
  if (!t) return { socket: net.connect({ host, port, onread }), readyEvent: 'connect' };
  const socket = tls.connect({
    host,
    port,
    servername: t.sni ?? (net.isIP(host) ? undefined : host),
    ca: t.ca,
    cert: t.cert,
    key: t.key,
    ALPNProtocols: t.alpn.length ? t.alpn : undefined,
    rejectUnauthorized: !!t.ca,
    checkServerIdentity: (_h, cert) =>
      sanMatches(cert as PeerCert, t.sans) ? undefined : new Error('upstream certificate SAN does not match'),
  });
  return { socket, readyEvent: 'secureConnect' };
}
