import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainConfig } from '../../../src/dataplane/config/listener.js';
import { matchChain, readClientHello } from '../../../src/dataplane/listener/tls.js';

/** The first bytes a real TLS client (Node's OpenSSL) sends: its ClientHello. */
async function clientHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  let resolve!: (b: Buffer) => void;
  const got = new Promise<Buffer>((r) => (resolve = r));
  const server = net.createServer((s) => {
    s.once('data', (d) => {
      resolve(d);
      s.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const c = tls.connect({ host: '127.0.0.1', port, ...opts });
  c.on('error', () => {});
  const b = await got;
  c.destroy();
  await new Promise((r) => server.close(r));
  return b;
}

describe('tls_inspector: reading the ClientHello', () => {
  let withBoth: Buffer;
  beforeAll(async () => {
    withBoth = await clientHello({ servername: 'api.example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  });
  afterAll(() => {});

  it('finds SNI and ALPN in a real ClientHello', () => {
    expect(readClientHello(withBoth)).toEqual({
      tls: true,
      sni: 'api.example.com',
      alpn: ['h2', 'http/1.1'],
    });
  });

  it('asks for more bytes until the first record is complete', () => {
    expect(readClientHello(withBoth.subarray(0, 3))).toBe('more');
    expect(readClientHello(withBoth.subarray(0, withBoth.length - 1))).toBe('more');
  });

  it('a hello without SNI or ALPN, and plaintext', async () => {
    const bare = await clientHello({});
    expect(readClientHello(bare)).toEqual({ tls: true, alpn: [] });
    expect(readClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({ tls: false, alpn: [] });
  });

  it('a record whose lengths lie is TLS without SNI or ALPN, not an exception', () => {
    const b = Buffer.from(withBoth);
    b.writeUInt16BE(0xffff, 5 + 4 + 2 + 32 + 1 + b[5 + 4 + 2 + 32]!); // cipher_suites length
    expect(readClientHello(b)).toEqual({ tls: true, alpn: [] });
  });
});

describe("tls_inspector: Envoy's filter chain order", () => {
  const chain = (serverNames: string[], transportProtocol?: string, alpn: string[] = []): ChainConfig =>
    ({ serverNames, transportProtocol, applicationProtocols: alpn, rbac: [] }) as unknown as ChainConfig;
  const chains = [
    chain(['*.example.com'], 'tls'),
    chain(['api.example.com'], 'tls'),
    chain([], 'tls', ['h2']),
    chain([], 'tls'),
    chain([], 'raw_buffer'),
  ];
  const all = chains.map((_, i) => i);

  it('exact server name, then the longest wildcard, then chains naming none', () => {
    expect(matchChain(chains, all, { tls: true, sni: 'API.example.com', alpn: [] })).toBe(1);
    expect(matchChain(chains, all, { tls: true, sni: 'www.example.com', alpn: [] })).toBe(0);
    expect(matchChain(chains, all, { tls: true, sni: 'other.org', alpn: ['h2'] })).toBe(2);
    expect(matchChain(chains, all, { tls: true, sni: 'other.org', alpn: ['http/1.1'] })).toBe(3);
  });

  it('transport protocol, then ALPN; no fallback out of a matched branch', () => {
    expect(matchChain(chains, all, { tls: false, alpn: [] })).toBe(4);
    const tlsOnlyAlpn = [chain([], 'tls', ['h2']), chain([], undefined)];
    expect(matchChain(tlsOnlyAlpn, [0, 1], { tls: true, alpn: ['http/1.1'] })).toBe(-1);
    expect(matchChain(tlsOnlyAlpn, [0, 1], { tls: false, alpn: [] })).toBe(1);
  });
});
