/**
 * Shared live checks for the proxy targets: a test mesh on ports the test picks, in front of the
 * small test backends, and real requests asserting where they land. Each target's test file starts
 * its own proxy on the rendered files.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { issueCertificates } from '../../src/certs/issue.js';
import { render } from '../../src/render.js';
import type { ResolvedMesh } from '../../src/model/types.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { closedPort } from '../support/processes.js';
import { forInstalled } from '../support/installed.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json?: { backend: string; version: string; path: string; method: string; headers: Record<string, string> };
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  host?: string;
  tls?: { ca: string; cert?: string; key?: string; servername: string };
  timeoutMs?: number;
}

/** One request, no connection reuse. */
export function request(
  address: string,
  port: number,
  urlPath: string,
  o: RequestOptions = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      host: address,
      port,
      path: urlPath,
      method: o.method ?? 'GET',
      headers: { host: o.host ?? 'localhost', ...(o.headers ?? {}) },
      agent: false,
      timeout: o.timeoutMs ?? 10_000,
      ...(o.tls ? { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, servername: o.tls.servername } : {}),
    };
    const req = (o.tls ? https : http).request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        let json: Reply['json'];
        try {
          json = JSON.parse(body) as Reply['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meshgen-${prefix}-`));
}

/**
 * Renders a mesh to one target, for the version of its binary on this machine, and writes its files
 * into dir; fails on error diagnostics.
 */
export function renderTo(
  mesh: ResolvedMesh,
  target: string,
  dir: string,
  settings: Record<string, string> = {},
) {
  const result = render(mesh, { targets: [target], settings: forInstalled(target, settings) });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join('\n'));
  for (const f of result.outputs[0]!.files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.contents);
  }
  return result;
}

/** Writes the mesh's development certificates under dir. */
export async function writeCerts(mesh: ResolvedMesh, dir: string): Promise<void> {
  for (const f of await issueCertificates(mesh)) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.contents);
  }
}

/** The ports the proxy listens on for the behaviour mesh, chosen when it is started. */
export interface LivePorts {
  readonly frontendPort: number;
  readonly echoPort: number;
  readonly dbPort: number;
  readonly yaml: string;
}

export interface LiveSetup {
  readonly backends: { v1: TestBackend; v2: TestBackend; flaky: TestBackend; slow: TestBackend };
  /** How many listening ports the mesh needs (for startOnFreePorts). */
  readonly portCount: number;
  /** The mesh with the proxy's listeners on these ports. */
  mesh(ports: number[]): LivePorts;
  close(): Promise<void>;
}

/**
 * The behaviour mesh: one HTTP frontend whose routes exercise matching order, splits, retries,
 * timeouts, header operations and rewrites, and a backend whose local listener east-west callers use.
 * The backends listen on port 0; the proxy's ports are given to mesh() by whoever starts the proxy.
 */
export async function liveSetup(): Promise<LiveSetup> {
  const v1 = await startBackend('echo', 'v1');
  const v2 = await startBackend('echo', 'v2');
  const flaky = await startBackend('flaky', 'v1');
  const slow = await startBackend('slow', 'v1');
  const closed = await closedPort(); // nothing listens there
  const mesh = ([frontendPort, echoPort, flakyPort, slowPort, downPort, dbPort]: number[]): LivePorts => {
    const yaml = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: live }
spec:
  namespace: live
  mtls: { mode: disabled }
  backends:
    - name: echo
      port: ${echoPort}
      versions:
        - { name: v1, endpoints: ["${v1.address}"] }
        - { name: v2, endpoints: ["${v2.address}"] }
    - name: flaky
      port: ${flakyPort}
      versions: [{ name: v1, endpoints: ["${flaky.address}"] }]
    - name: slow
      port: ${slowPort}
      versions: [{ name: v1, endpoints: ["${slow.address}"] }]
    - name: down
      port: ${downPort}
      versions: [{ name: v1, endpoints: ["127.0.0.1:${closed}"] }]
    - name: db
      port: ${dbPort}
      protocol: tcp
      versions:
        - { name: v1, endpoints: ["${v1.address}"] }
        - { name: v2, endpoints: ["${v2.address}"] }
  frontends:
    - { name: web, address: 127.0.0.1, port: ${frontendPort}, protocol: http }
  routes:
    - name: by-host
      parent: { frontend: web, hosts: [only.test] }
      match: [{ path: { prefix: /host } }]
      to: [{ backend: echo, version: v2 }]
    - name: by-header
      parent: { frontend: web }
      match: [{ headers: { x-version: { exact: v2 } } }]
      to: [{ backend: echo, version: v2 }]
    - name: by-method
      parent: { frontend: web }
      match: [{ path: { prefix: /method }, method: DELETE }]
      to: [{ backend: echo, version: v2 }]
    - name: order-first
      parent: { frontend: web }
      match: [{ path: { prefix: /order } }]
      to: [{ backend: echo, version: v1 }]
      headers: { response: { set: { x-route: order-first } } }
    - name: order-second
      parent: { frontend: web }
      match: [{ path: { prefix: /order/b } }]
      to: [{ backend: echo, version: v2 }]
      headers: { response: { set: { x-route: order-second } } }
    - name: split
      parent: { frontend: web }
      match: [{ path: { prefix: /split } }]
      to:
        - { backend: echo, version: v1, weight: 90 }
        - { backend: echo, version: v2, weight: 10 }
    - name: retry
      parent: { frontend: web }
      match: [{ path: { prefix: /retry } }]
      to: [{ backend: flaky }]
      retries: { attempts: 2, on: ["503"] }
    - name: no-retry
      parent: { frontend: web }
      match: [{ path: { prefix: /noretry } }]
      to: [{ backend: flaky }]
    - name: abort
      parent: { frontend: web }
      match: [{ path: { prefix: /abort } }]
      to: [{ backend: flaky }]
      fault: { abort: { status: 418, percent: 100 } }
    - name: slow-retry
      parent: { frontend: web }
      match: [{ path: { prefix: /slow-retry } }]
      to: [{ backend: slow }]
      retries: { attempts: 1, perTryTimeout: 200ms, on: [gateway-error] }
    - name: slow
      parent: { frontend: web }
      match: [{ path: { prefix: /slow } }]
      to: [{ backend: slow }]
      timeout: 300ms
    - name: headers
      parent: { frontend: web }
      match: [{ path: { prefix: /headers } }]
      to: [{ backend: echo, version: v1 }]
      headers:
        request: { set: { x-env: prod }, add: { x-via: meshgen }, remove: [x-debug] }
        response: { set: { x-served-by: echo }, remove: [x-secret] }
    - name: rewrite
      parent: { frontend: web }
      match: [{ path: { prefix: /old/ } }]
      to: [{ backend: echo, version: v1 }]
      rewrite: { pathPrefix: /new/, host: rewritten.internal }
    - name: mirror
      parent: { frontend: web }
      match: [{ path: { prefix: /mirror } }]
      to: [{ backend: echo, version: v1 }]
      mirror: { backend: echo, version: v2, percent: 100 }
    - name: down
      parent: { frontend: web }
      match: [{ path: { prefix: /down } }]
      to: [{ backend: down }]
    - name: db-split
      parent: { backend: db }
      to:
        - { backend: db, version: v1, weight: 50 }
        - { backend: db, version: v2, weight: 50 }
    - name: query
      parent: { frontend: web }
      match: [{ path: { exact: /q }, queryParams: { debug: { exact: "1" } } }]
      to: [{ backend: echo, version: v2 }]
`;
    return { frontendPort: frontendPort!, echoPort: echoPort!, dbPort: dbPort!, yaml };
  };
  return {
    backends: { v1, v2, flaky, slow },
    portCount: 6,
    mesh,
    async close() {
      await Promise.all([v1, v2, flaky, slow].map((b) => b.close()));
    },
  };
}

export interface TlsBackend {
  readonly port: number;
  readonly address: string;
  /** URI SANs of the client certificates seen, one entry per request. */
  readonly peers: string[];
  /** Request targets seen (path and query as received), one entry per request. */
  readonly paths: string[];
  close(): Promise<void>;
}

/** An HTTPS endpoint that requires a client certificate from the CA and records its URI SAN. */
export async function startTlsBackend(name: string, certDir: string, port = 0): Promise<TlsBackend> {
  const peers: string[] = [];
  const paths: string[] = [];
  const server = https.createServer(
    {
      cert: fs.readFileSync(path.join(certDir, `${name}.crt`)),
      key: fs.readFileSync(path.join(certDir, `${name}.key`)),
      ca: fs.readFileSync(path.join(certDir, 'ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const cert = (req.socket as TLSSocket).getPeerCertificate();
      const uri = /URI:([^,\s]+)/.exec(cert.subjectaltname ?? '')?.[1] ?? '';
      peers.push(uri);
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          backend: name,
          version: 'v1',
          path: req.url,
          method: req.method,
          headers: req.headers,
          peer: uri,
        }),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    address: `127.0.0.1:${actual}`,
    peers,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
