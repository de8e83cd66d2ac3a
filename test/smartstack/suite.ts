/**
 * The behaviour every proxy target must show with live traffic, run by each target's test file
 * against its own running proxy.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEmitter } from '../../src/emitters/index.js';
import { meshFrom } from '../support/meshes.js';
import { startOnFreePorts, waitFor, waitForPort, type Started } from '../support/processes.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { outside, TRAVERSALS } from '../support/paths.js';
import {
  liveSetup,
  renderTo,
  request,
  startTlsBackend,
  tempDir,
  writeCerts,
  type LivePorts,
  type LiveSetup,
  type TlsBackend,
} from './live.js';

/** Starts the target's proxy on the files rendered into dir; the suite stops it by pid. */
export type StartProxy = (dir: string) => Started;

/**
 * What a target declares it does differently (its fidelity table and diagnostics say so before any
 * test finds it); absent: what HAProxy and NGINX do.
 */
export interface DeclaredDifferences {
  /** The status answered when a route's timeout fires (504). */
  readonly timeoutStatus?: number;
  /** False: retries only fail over when connecting fails, never after a response (MG3020). */
  readonly retriesAfterResponse?: boolean;
  /** The status a fault abort of 418 answers (418). */
  readonly teapotStatus?: number;
}

export function behaviourSuite(target: string, start: StartProxy, differs: DeclaredDifferences = {}): void {
  const timeoutStatus = differs.timeoutStatus ?? 504;
  const retriesAfterResponse = differs.retriesAfterResponse ?? true;
  const tcp = findEmitter(target)?.fidelity.tcp !== 'unsupported';
  const passthrough = findEmitter(target)?.fidelity['tls-passthrough'] !== 'unsupported';
  describe(`${target} with live traffic`, () => {
    let live: LiveSetup;
    let setup: LivePorts;
    let proxy: Started;
    let rendered: ReturnType<typeof renderTo>;
    /** The target's warnings that a feature is not written (MG3001), as "code message" lines. */
    const notWritten = () =>
      rendered.diagnostics.filter((d) => d.code === 'MG3001').map((d) => `${d.code} ${d.message}`);
    beforeAll(async () => {
      live = await liveSetup();
      ({ proc: proxy } = await startOnFreePorts(
        live.portCount,
        (ports) => {
          setup = live.mesh(ports);
          const dir = tempDir(target);
          rendered = renderTo(meshFrom(setup.yaml), target, dir);
          return start(dir);
        },
        { ready: () => [setup.frontendPort, setup.echoPort, ...(tcp ? [setup.dbPort] : [])] },
      ));
    });
    afterAll(async () => {
      await proxy?.stop();
      await live?.close();
    });
    const get = (p: string, o: Parameters<typeof request>[3] = {}) =>
      request('127.0.0.1', setup.frontendPort, p, o);

    it('routes by header', async () => {
      const r = await get('/anything', { headers: { 'x-version': 'v2' } });
      expect(r.status).toBe(200);
      expect(r.json?.version).toBe('v2');
    });

    it('routes by host', async () => {
      expect((await get('/host', { host: `only.test:${setup.frontendPort}` })).json?.version).toBe('v2');
      expect((await get('/host', { host: 'other.test' })).status).toBe(404);
    });

    it('answers 503 when no endpoint accepts the connection', async () => {
      expect((await get('/down')).status).toBe(503);
    });

    if (!tcp)
      it('declares TCP unsupported (MG3001) and writes no listener for the TCP backend', () => {
        expect(notWritten().join('\n')).toMatch(/tcp/i);
      });
    if (tcp)
      it('splits TCP connections on a TCP backend listener', async () => {
        const seen = { v1: 0, v2: 0 } as Record<string, number>;
        for (let i = 0; i < 100; i++)
          seen[(await request('127.0.0.1', setup.dbPort, '/tcp')).json!.version]!++;
        expect(seen.v1! + seen.v2!).toBe(100);
        expect(seen.v1).toBeGreaterThan(30);
        expect(seen.v2).toBeGreaterThan(30);
      });

    const mirrors = findEmitter(target)?.fidelity.mirror !== 'unsupported';
    it(`${mirrors ? 'mirrors requests to' : 'leaves out (as it declares) the mirror to'} the mirror backend`, async () => {
      const r = await get('/mirror/1');
      expect(r.json?.version).toBe('v1');
      const mirrored = () => live.backends.v2.seen.some((s) => s.path === '/mirror/1');
      if (mirrors) await waitFor(mirrored, { what: 'the mirrored request to reach echo v2' });
      else {
        // a target without mirroring has nothing to wait for: a later request answered by the same
        // backend shows the proxy has finished with the first one, whose copy would be there by now
        expect((await get('/anything', { headers: { 'x-version': 'v2' } })).json?.version).toBe('v2');
      }
      expect(mirrored()).toBe(mirrors);
    });

    it('routes by method', async () => {
      expect((await get('/method', { method: 'DELETE' })).json?.version).toBe('v2');
      expect((await get('/method', { method: 'GET' })).status).toBe(404);
    });

    it('keeps first-match order: a longer prefix written later does not win', async () => {
      const r = await get('/order/b/1');
      expect(r.json?.version).toBe('v1');
      expect(r.headers['x-route']).toBe('order-first');
    });

    it('matches query parameters', async () => {
      expect((await get('/q?debug=1')).json?.version).toBe('v2');
      expect((await get('/q?debug=2')).status).toBe(404);
    });

    it('answers 404 when no route matches, and no backend sees the request', async () => {
      const before = Object.values(live.backends).reduce((n, b) => n + b.seen.length, 0);
      const r = await get('/nothing-here');
      expect(r.status).toBe(404);
      expect(Object.values(live.backends).reduce((n, b) => n + b.seen.length, 0)).toBe(before);
    });

    it('splits 90/10 within ±6 points over 400 requests', async () => {
      let v1 = 0;
      for (let i = 0; i < 400; i++) if ((await get(`/split/${i}`)).json?.version === 'v1') v1++;
      expect(v1 / 400).toBeGreaterThan(0.84);
      expect(v1 / 400).toBeLessThan(0.96);
    });

    if (retriesAfterResponse)
      it('retries: attempts 2 makes 3 tries', async () => {
        const flaky = live.backends.flaky;
        flaky.reset();
        flaky.behave({ failFirst: 2 });
        expect((await get('/retry')).status).toBe(200);
        expect(flaky.seen.length).toBe(3);
        flaky.reset();
        flaky.behave({ failFirst: 10 });
        expect((await get('/retry')).status).toBe(503);
        expect(flaky.seen.length).toBe(3);
      });

    if (!retriesAfterResponse)
      it('retries as declared: a response, whatever its status, is not retried (1 try)', async () => {
        const flaky = live.backends.flaky;
        flaky.reset();
        flaky.behave({ failFirst: 2 });
        expect((await get('/retry')).status).toBe(503);
        expect(flaky.seen.length).toBe(1);
      });

    it('does not retry a route without retries: 1 try', async () => {
      const flaky = live.backends.flaky;
      flaky.reset();
      flaky.behave({ failFirst: 1 });
      expect((await get('/noretry')).status).toBe(503);
      expect(flaky.seen.length).toBe(1);
    });

    it(`answers ${timeoutStatus} when the timeout fires`, async () => {
      live.backends.slow.behave({ delayMs: 2000 });
      const t0 = Date.now();
      const r = await get('/slow');
      expect(r.status).toBe(timeoutStatus);
      expect(Date.now() - t0).toBeLessThan(1500);
    });

    it(`${retriesAfterResponse ? 'retries' : 'does not retry (as declared)'} a try that runs past perTryTimeout, then answers ${timeoutStatus}`, async () => {
      const slow = live.backends.slow;
      slow.reset();
      slow.behave({ delayMs: 1500 });
      const t0 = Date.now();
      expect((await get('/slow-retry')).status).toBe(timeoutStatus);
      expect(Date.now() - t0).toBeLessThan(1200);
      expect(slow.seen.filter((r) => r.path === '/slow-retry').length).toBe(retriesAfterResponse ? 2 : 1);
    });

    it('aborts with the fault status, and the backend never sees the request', async () => {
      const flaky = live.backends.flaky;
      flaky.reset();
      expect((await get('/abort')).status).toBe(differs.teapotStatus ?? 418);
      expect(flaky.seen.length).toBe(0);
    });

    it('sets, adds and removes request and response headers', async () => {
      live.backends.v1.behave({ headers: { 'x-secret': 's', 'x-served-by': 'app' } });
      const r = await get('/headers', { headers: { 'x-env': 'dev', 'x-via': 'client', 'x-debug': '1' } });
      live.backends.v1.behave({});
      const seen = r.json!.headers;
      expect(seen['x-env']).toBe('prod');
      expect(String(seen['x-via'])).toMatch(/client.*meshgen/);
      expect(seen['x-debug']).toBeUndefined();
      expect(r.headers['x-served-by']).toBe('echo');
      expect(r.headers['x-secret']).toBeUndefined();
    });

    it('rewrites the path prefix and the host, keeping the query', async () => {
      const r = await get('/old/items?a=1');
      expect(r.json?.path).toBe('/new/items?a=1');
      expect(r.json?.headers.host).toBe('rewritten.internal');
    });

    it('serves east-west callers on the backend local listener', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add((await request('127.0.0.1', setup.echoPort, '/')).json!.version);
      expect([...seen].sort()).toEqual(['v1', 'v2']);
    });
  });

  describe(`${target} with mTLS`, () => {
    const ports: Record<string, number> = {};
    let dir: string;
    let secure: TlsBackend;
    let proxy: Started;
    let yamlText: string;
    const meshText = (at: Record<string, number>, endpoint: number) => `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: secure }
spec:
  namespace: sec
  trustDomain: test.local
  mtls: { mode: strict }
  backends:
    - name: secure
      port: ${at.secure}
      versions: [{ name: v1, endpoints: ["127.0.0.1:${endpoint}"] }]
    - name: vault
      port: ${at.vault}
      protocol: tcp
      versions: [{ name: v1, endpoints: ["127.0.0.1:${endpoint}"] }]
  frontends:
    - { name: pass, address: 127.0.0.1, port: ${at.pass}, protocol: tls-passthrough, hosts: [secure.sec] }
    - name: gate
      address: 127.0.0.1
      port: ${at.frontend}
      protocol: https
      hosts: [secure.test]
      tls: { certificate: ${dir}/certs/site.crt, key: ${dir}/certs/site.key, clientCa: ${dir}/certs/clients-ca.crt }
  routes:
    - name: in
      parent: { frontend: gate }
      to: [{ backend: secure }]
    - name: through
      parent: { frontend: pass }
      to: [{ backend: vault }]
  access:
    - backend: secure
      allow:
        - { from: [gate], paths: [/hello, /ok/*], methods: [GET] }
        - { from: [gate], paths: ["/refund*"], methods: [POST] }
`;
    let mtlsRendered: ReturnType<typeof renderTo>;
    beforeAll(async () => {
      dir = tempDir(`${target}-mtls`);
      // the certificates name identities, not ports: issued first, they let the endpoint listen on
      // port 0 before the mesh names its port
      await writeCerts(
        meshFrom(meshText({ frontend: 1, secure: 2, pass: 3, vault: 4 }, 5)),
        path.join(dir, 'certs'),
      );
      secure = await startTlsBackend('secure', path.join(dir, 'certs'));
      ({ proc: proxy } = await startOnFreePorts(
        4,
        ([frontend, eastWest, pass, vault]) => {
          Object.assign(ports, { frontend, secure: eastWest, pass, vault });
          yamlText = meshText(ports, secure.port);
          mtlsRendered = renderTo(meshFrom(yamlText), target, dir, { certDir: path.join(dir, 'certs') });
          return start(dir);
        },
        { ready: () => [ports.frontend!, ports.secure!, ...(passthrough ? [ports.pass!] : [])] },
      ));
    });
    afterAll(async () => {
      await proxy?.stop();
      await secure?.close();
    });
    const tlsTo = (cert?: string) => ({
      ca: fs.readFileSync(path.join(dir, 'certs', 'ca.crt'), 'utf8'),
      servername: 'secure.test',
      ...(cert
        ? {
            cert: fs.readFileSync(path.join(dir, 'certs', `${cert}.crt`), 'utf8'),
            key: fs.readFileSync(path.join(dir, 'certs', `${cert}.key`), 'utf8'),
          }
        : {}),
    });

    it('refuses a client without a certificate at a frontend with clientCa', async () => {
      const outcome = await request('127.0.0.1', ports.frontend!, '/', {
        host: 'secure.test',
        tls: tlsTo(),
      }).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(outcome === 'refused' || outcome === 400).toBe(true);
    });

    it('refuses a client whose certificate another CA signed', async () => {
      const other = tempDir(`${target}-other`);
      await writeCerts(meshFrom(yamlText), other);
      const tls = {
        ...tlsTo(),
        cert: fs.readFileSync(path.join(other, 'secure.crt'), 'utf8'),
        key: fs.readFileSync(path.join(other, 'secure.key'), 'utf8'),
      };
      const outcome = await request('127.0.0.1', ports.frontend!, '/', { host: 'secure.test', tls }).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(outcome === 'refused' || outcome === 400).toBe(true);
    });

    it('lets a mesh client in and calls the endpoint with mTLS as the frontend identity', async () => {
      const r = await request('127.0.0.1', ports.frontend!, '/hello', {
        host: 'secure.test',
        tls: tlsTo('secure'),
      });
      expect(r.status).toBe(200);
      expect(secure.peers.at(-1)).toBe('spiffe://test.local/ns/sec/sa/gate');
    });

    if (!passthrough)
      it('declares TLS passthrough unsupported (MG3001)', () => {
        const warned = mtlsRendered.diagnostics.filter((d) => d.code === 'MG3001').map((d) => d.message);
        expect(warned.join('\n')).toMatch(/passthrough/i);
      });
    if (passthrough)
      it('passes TLS through by SNI: the endpoint sees the client certificate itself', async () => {
        const tls = { ...tlsTo('vault'), servername: 'secure.sec' };
        const r = await request('127.0.0.1', ports.pass!, '/through', { host: 'secure.sec', tls });
        expect(r.status).toBe(200);
        expect(secure.peers.at(-1)).toBe('spiffe://test.local/ns/sec/sa/vault');
        const other = await request('127.0.0.1', ports.pass!, '/', {
          host: 'other.sec',
          tls: { ...tls, servername: 'other.sec' },
        }).then(
          (x) => x.status,
          () => 'closed',
        );
        expect(other).toBe('closed');
      });

    it('keeps the access rules for the frontend identity: paths and methods, 403 otherwise', async () => {
      const call = (p: string, method = 'GET') =>
        request('127.0.0.1', ports.frontend!, p, { method, host: 'secure.test', tls: tlsTo('secure') });
      expect((await call('/ok/1')).status).toBe(200);
      const seen = secure.peers.length;
      expect((await call('/hello', 'POST')).status).toBe(403);
      expect((await call('/other')).status).toBe(403);
      expect((await call('/okay')).status).toBe(403);
      expect(secure.peers.length).toBe(seen);
    });

    it('keeps paths that pass a rule for /refund* from reaching anything else of the app', async () => {
      const post = (p: string) =>
        request('127.0.0.1', ports.frontend!, p, {
          method: 'POST',
          host: 'secure.test',
          tls: tlsTo('secure'),
        });
      const from = secure.paths.length;
      expect((await post('/refund/7')).status).toBe(200);
      // dots inside names are no dot segments
      expect((await post('/refund/.well-known/a..b.txt')).status).toBe(200);
      const statuses: Record<string, number> = {};
      for (const p of TRAVERSALS) statuses[p] = (await post(p)).status;
      // refused (400) or denied (403), or passed on as a path the app reads under /refund
      expect(outside(secure.paths.slice(from), '/refund'), JSON.stringify(statuses)).toEqual([]);
    });

    it('calls the endpoint with mTLS from the east-west listener', async () => {
      const r = await request('127.0.0.1', ports.secure!, '/ew');
      expect(r.status).toBe(200);
      expect(secure.peers.at(-1)).toBe('spiffe://test.local/ns/sec/sa/secure');
    });
  });

  describe(`${target} with backends sharing port 8080`, () => {
    let proxy: Started;
    let dir: string;
    const backends: TestBackend[] = [];
    beforeAll(async () => {
      for (const n of ['alpha', 'beta', 'gamma']) backends.push(await startBackend(n, 'v1'));
      const yaml = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: same-port }
spec:
  namespace: apps-${target}
  mtls: { mode: disabled }
  backends:
${backends.map((b) => `    - { name: ${b.name}, port: 8080, versions: [{ name: v1, endpoints: ["${b.address}"] }] }`).join('\n')}
`;
      dir = tempDir(`${target}-8080`);
      renderTo(meshFrom(yaml), target, dir);
      proxy = start(dir);
    });
    afterAll(async () => {
      await proxy?.stop();
      await Promise.all(backends.map((b) => b.close()));
    });

    it('gives each backend its own loopback address, named in the hosts file, and routes <backend>:8080 to it', async () => {
      const hosts = new Map<string, string>();
      for (const line of fs.readFileSync(path.join(dir, 'hosts'), 'utf8').split('\n')) {
        if (!line.trim() || line.startsWith('#')) continue;
        const [address, ...names] = line.split(/\s+/);
        for (const n of names) hosts.set(n, address!);
      }
      const addresses = new Set(backends.map((b) => hosts.get(b.name)));
      expect(addresses.size).toBe(3);
      for (const b of backends) {
        const address = hosts.get(b.name)!;
        expect(net.isIPv4(address) && address.startsWith('127.')).toBe(true);
        expect(hosts.get(`${b.name}.apps-${target}`)).toBe(address);
        await waitForPort(8080, address);
        const r = await request(address, 8080, '/who', { host: `${b.name}:8080` });
        expect(r.json?.backend).toBe(b.name);
      }
    });
  });
}
