import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificates } from '../../src/certs/issue.js';
import { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { meshFrom } from '../support/meshes.js';
import { outside, TRAVERSALS } from '../support/paths.js';
import { freePorts } from '../support/processes.js';
import { emittedConfig } from './helpers.js';

/**
 * The inbound listener of the sidecar the envoy target writes for a backend whose access rule lets
 * checkout POST to /refund* only, run in meshgen proxy (moved to 127.0.0.2, beside the app on
 * 127.0.0.1, as emitted-sidecar.test.ts explains), called over mTLS as checkout.
 */
let dir: string;
let app: TestBackend;
let proxy: Proxy;
let appPort: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-path-'));
  app = await startBackend('payments', 'v1');
  appPort = app.port;
  const [paymentsPort, checkoutPort, checkoutApp, admin] = await freePorts(4);
  const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: pay }
spec:
  namespace: pay
  mtls: { mode: strict }
  backends:
    - name: payments
      port: ${paymentsPort}
      versions: [{ name: v1, endpoints: ["127.0.0.1:${appPort}"] }]
    - name: checkout
      port: ${checkoutPort}
      versions: [{ name: v1, endpoints: ["127.0.0.1:${checkoutApp}"] }]
  access:
    - backend: payments
      allow: [{ from: [checkout], paths: ["/refund*"], methods: [POST] }]
`);
  for (const f of await issueCertificates(mesh)) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.contents);
  }
  const config = emittedConfig(mesh, 'sidecar-payments.yaml', {
    settings: { certDir: dir, adminPort: String(admin), inboundPort: String(appPort) },
  });
  const inbound = config.listeners.find((l) => l.name === 'inbound')!;
  inbound.address = { host: '127.0.0.2', port: appPort };
  config.listeners = [inbound];
  proxy = new Proxy(config, { drainTimeS: 1 });
  await proxy.start();
});

afterAll(async () => {
  await proxy?.stop();
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** POST path as checkout (mTLS); the status and location of the answer. */
function post(p: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = tls.connect({
      host: '127.0.0.2',
      port: appPort,
      ca: fs.readFileSync(path.join(dir, 'ca.crt')),
      cert: fs.readFileSync(path.join(dir, 'checkout.crt')),
      key: fs.readFileSync(path.join(dir, 'checkout.key')),
      checkServerIdentity: () => undefined, // SPIFFE URI SAN, no host name
    });
    s.once('secureConnect', () =>
      s.write(`POST ${p} HTTP/1.1\r\nhost: payments\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`),
    );
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () =>
      resolve({ status: Number(got.slice(9, 12)), location: /^location: (.*)\r$/m.exec(got)?.[1] }),
    );
  });
}

describe('path normalization in the emitted sidecar (meshgen proxy)', () => {
  afterEach(() => app.reset());

  it('lets checkout POST to /refund/…', async () => {
    expect((await post('/refund/7')).status).toBe(200);
    expect(app.seen.at(-1)?.path).toBe('/refund/7');
  });

  it.each(TRAVERSALS)('keeps %s from reaching the app as anything but /refund…', async (p) => {
    const r = await post(p);
    // UNESCAPE_AND_REDIRECT: the client is sent to the decoded path, which RBAC then checks
    if (r.status === 307) expect((await post(r.location!)).status).toBe(403);
    expect(
      outside(
        app.seen.map((s) => s.path),
        '/refund',
      ),
    ).toEqual([]);
  });
});
