import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificates } from '../../src/certs/issue.js';
import { Proxy } from '../../src/dataplane/server.js';
import { meshFrom } from '../support/meshes.js';
import { freePorts } from '../support/processes.js';
import { emittedConfig } from './helpers.js';

/**
 * A sidecar bootstrap the envoy target writes, run in meshgen proxy: its inbound listener
 * terminates mTLS and applies the access rules (network RBAC) to a TCP backend.
 *
 * Interception stand-in: the emitted inbound listener binds 0.0.0.0:<inboundPort> and matches
 * chains on the original destination port. Node cannot read SO_ORIGINAL_DST, so the proxy matches
 * the connection's local port; the test sets inboundPort to the app's port and moves the listener
 * from 0.0.0.0 to 127.0.0.2 (loopback), beside the app on 127.0.0.1:<port>, so a connection to it
 * looks like a redirected one. Nothing else of the db sidecar is changed; of the cache sidecar only
 * the inbound listener runs (its outbound listeners are the db sidecar's, already bound).
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-sidecar-'));
let app: net.Server;
let appPort: number;
let proxy: Proxy;
let cache: net.Server;
let cachePort: number;
let cacheProxy: Proxy;

beforeAll(async () => {
  app = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  appPort = (app.address() as net.AddressInfo).port;
  cache = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => cache.listen(0, '127.0.0.1', () => r()));
  cachePort = (cache.address() as net.AddressInfo).port;
  // every port different from the others (and from the two apps', which are bound)
  const [dbPort, apiPort, otherPort, admin, cacheBackendPort, apiApp, otherApp, cacheAdmin] =
    await freePorts(8);
  const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: s }
spec:
  namespace: s
  mtls: { mode: strict }
  backends:
    - name: db
      port: ${dbPort}
      protocol: tcp
      versions: [{ name: v1, endpoints: ["127.0.0.1:${appPort}"] }]
    - name: cache
      port: ${cacheBackendPort}
      protocol: tcp
      mtls: { mode: permissive }
      versions: [{ name: v1, endpoints: ["127.0.0.1:${cachePort}"] }]
    - name: api
      port: ${apiPort}
      protocol: http
      versions: [{ name: v1, endpoints: ["127.0.0.1:${apiApp}"] }]
    - name: other
      port: ${otherPort}
      protocol: http
      versions: [{ name: v1, endpoints: ["127.0.0.1:${otherApp}"] }]
  access:
    - backend: db
      allow:
        - from: [api]
`);
  for (const f of await issueCertificates(mesh)) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.contents);
  }
  const config = emittedConfig(mesh, 'sidecar-db.yaml', {
    settings: { certDir: dir, adminPort: String(admin), inboundPort: String(appPort) },
  });
  const inbound = config.listeners.find((l) => l.name === 'inbound')!;
  expect(inbound.address).toEqual({ host: '0.0.0.0', port: appPort });
  expect(inbound.chains.map((c) => c.destinationPort)).toContain(appPort);
  inbound.address = { host: '127.0.0.2', port: appPort };
  proxy = new Proxy(config, { drainTimeS: 1 });
  await proxy.start();
  // the cache's sidecar: permissive mTLS, so a TLS and a plaintext chain on the inbound listener
  const config2 = emittedConfig(mesh, 'sidecar-cache.json', {
    format: 'json',
    settings: { certDir: dir, adminPort: String(cacheAdmin), inboundPort: String(cachePort) },
  });
  const inbound2 = config2.listeners.find((l) => l.name === 'inbound')!;
  expect(inbound2.chains.map((c) => c.transportProtocol).sort()).toEqual(['raw_buffer', 'tls']);
  inbound2.address = { host: '127.0.0.2', port: cachePort };
  // the outbound listeners are the same as the db sidecar's, already bound: keep the inbound one
  config2.listeners = [inbound2];
  cacheProxy = new Proxy(config2, { drainTimeS: 1 });
  await cacheProxy.start();
});

afterAll(async () => {
  await proxy?.stop();
  await cacheProxy?.stop();
  await new Promise((r) => app?.close(r));
  await new Promise((r) => cache?.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Connects as `who` (mTLS with its issued certificate), sends a line, resolves what came back. */
function call(who: string | null, port = appPort): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const opts = { host: '127.0.0.2', port };
    const s: net.Socket = who
      ? tls.connect({
          ...opts,
          ca: fs.readFileSync(path.join(dir, 'ca.crt')),
          cert: fs.readFileSync(path.join(dir, `${who}.crt`)),
          key: fs.readFileSync(path.join(dir, `${who}.key`)),
          checkServerIdentity: () => undefined, // SPIFFE URI SAN, no host name
        })
      : net.connect(opts);
    s.once(who ? 'secureConnect' : 'connect', () => s.write('ping\n'));
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\n')) s.end();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    setTimeout(() => s.destroy(), 3000);
  });
}

describe('the emitted sidecar inbound listener in meshgen proxy', () => {
  it('lets an allowed identity through over mTLS', async () => {
    expect(await call('api')).toBe('ping\n');
  });

  it('closes the connection of an identity the access rules do not allow (network RBAC)', async () => {
    const before = proxy.stats.get(`listener.127.0.0.2:${appPort}.rbac.denied`) ?? 0;
    expect(await call('other')).toBe('');
    expect(proxy.stats.get(`listener.127.0.0.2:${appPort}.rbac.denied`)).toBe(before + 1);
  });

  it('refuses plaintext under strict mTLS (no raw_buffer chain)', async () => {
    expect(await call(null)).toBe('');
  });

  it('takes mTLS and plaintext on one listener under permissive mTLS (tls_inspector)', async () => {
    expect(await call('api', cachePort)).toBe('ping\n');
    expect(await call(null, cachePort)).toBe('ping\n');
  });
});
