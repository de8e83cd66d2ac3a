import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type EchoReply, type TestBackend } from '../support/backends.js';
import { meshFrom } from '../support/meshes.js';
import { request, startEmittedGateway } from './helpers.js';

/**
 * Traffic through a bootstrap the envoy target writes: a small mesh rendered to envoy, its gateway
 * run in meshgen proxy, real requests to backends on 127.0.0.1.
 */
let v1: TestBackend;
let v2: TestBackend;
let flaky: TestBackend;
let proxy: Proxy;
let port: number;

beforeAll(async () => {
  v1 = await startBackend('app', 'v1');
  v2 = await startBackend('app', 'v2');
  flaky = await startBackend('flaky', 'v1');
  const mesh = meshFrom(`
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: t }
spec:
  namespace: t
  mtls: { mode: disabled }
  backends:
    - name: app
      port: 8080
      protocol: http
      versions:
        - { name: v1, endpoints: ["${v1.address}"] }
        - { name: v2, endpoints: ["${v2.address}"] }
    - name: flaky
      port: 8081
      protocol: http
      versions: [{ name: v1, endpoints: ["${flaky.address}"] }]
  frontends:
    - name: edge
      address: 127.0.0.1
      port: 8000 # the proxy is moved to port 0
      protocol: http
  routes:
    - name: beta
      parent: { frontend: edge }
      match: [{ path: { prefix: /app }, headers: { x-beta: { exact: "1" } } }]
      to: [{ backend: app, version: v2 }]
    - name: app
      parent: { frontend: edge }
      match: [{ path: { prefix: /app } }]
      to:
        - { backend: app, version: v1, weight: 80 }
        - { backend: app, version: v2, weight: 20 }
    - name: flaky
      parent: { frontend: edge }
      match: [{ path: { prefix: /flaky } }]
      to: [{ backend: flaky }]
      retries: { attempts: 2, on: ["503"] }
    - name: slow
      parent: { frontend: edge }
      match: [{ path: { prefix: /slow } }]
      to: [{ backend: flaky }]
      timeout: 300ms
    - name: broken
      parent: { frontend: edge }
      match: [{ path: { prefix: /broken } }]
      to: [{ backend: app, version: v1 }]
      fault: { abort: { status: 418, percent: 100 } }
    - name: percent
      parent: { frontend: edge }
      match: [{ path: { prefix: /percent } }]
      to: [{ backend: app, version: v1 }]
      headers:
        request: { set: { x-pct: "100% %START_TIME% %%PROTOCOL%%" } }
        response: { add: { x-res: "%PROTOCOL% 5%" } }
    - name: utf8
      parent: { frontend: edge }
      match: [{ path: { prefix: /utf8 }, headers: { x-lang: { exact: "日本語 é" } } }]
      to: [{ backend: app, version: v1 }]
      headers:
        request: { set: { x-set: "ü € 😀" } }
`);
  proxy = await startEmittedGateway(mesh);
  port = proxy.listenerPort('edge')!;
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([v1, v2, flaky].map((b) => b?.close()));
});

const reply = (body: string) => JSON.parse(body) as EchoReply;

describe('the emitted gateway in meshgen proxy', () => {
  it('splits by weight (80/20 within tolerance)', async () => {
    const n = 200;
    let onV2 = 0;
    for (let i = 0; i < n; i++) {
      const r = await request(port, '/app/x');
      expect(r.status).toBe(200);
      if (reply(r.body).version === 'v2') onV2++;
    }
    // 20% of 200 = 40; a binomial sd of ~5.7, so 20..60 is a 3.5 sd band
    expect(onV2).toBeGreaterThan(20);
    expect(onV2).toBeLessThan(60);
  });

  it('routes on a header before the split', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await request(port, '/app/beta', { headers: { 'x-beta': '1' } });
      expect(reply(r.body).version).toBe('v2');
    }
  });

  it('answers 404 when no route matches', async () => {
    const before = v1.seen.length + v2.seen.length + flaky.seen.length;
    expect((await request(port, '/nowhere')).status).toBe(404);
    expect(v1.seen.length + v2.seen.length + flaky.seen.length).toBe(before);
  });

  it('retries a failing backend: attempts 2 => 3 tries', async () => {
    flaky.reset();
    flaky.behave({ failFirst: 2, failStatus: 503 });
    const ok = await request(port, '/flaky/a');
    expect(ok.status).toBe(200);
    expect(flaky.seen.length).toBe(3);
    flaky.reset();
    flaky.behave({ failFirst: 10, failStatus: 503 });
    const failed = await request(port, '/flaky/b');
    expect(failed.status).toBe(503);
    expect(flaky.seen.length).toBe(3);
    flaky.reset();
    flaky.behave({});
  });

  it('answers 504 when the route timeout passes', async () => {
    flaky.reset();
    flaky.behave({ delayMs: 1000 });
    const t0 = Date.now();
    const r = await request(port, '/slow/x');
    const took = Date.now() - t0;
    expect(r.status).toBe(504);
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(900);
    flaky.reset();
    flaky.behave({});
  });

  it('aborts with the route fault (per-route fault config) and leaves other routes alone', async () => {
    const before = v1.seen.length;
    const r = await request(port, '/broken/x');
    expect(r.status).toBe(418);
    expect(v1.seen.length).toBe(before);
    expect((await request(port, '/app/ok', { headers: { 'x-beta': '1' } })).status).toBe(200);
  });

  it('matches and sets header values with non-ASCII characters as the bytes of their UTF-8 form', async () => {
    // Envoy compares and writes header values as bytes; the codec reads each byte as one latin1 character
    const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    const r = await request(port, '/utf8/x', { headers: { 'x-lang': bytes('日本語 é') } });
    expect(r.status, r.body).toBe(200);
    expect(reply(r.body).headers['x-set']).toBe(bytes('ü € 😀'));
    expect((await request(port, '/utf8/x', { headers: { 'x-lang': bytes('日本語') } })).status).toBe(404);
  });

  it('sends header values holding % as the mesh wrote them, not as Envoy format operators', async () => {
    const r = await request(port, '/percent/x');
    expect(r.status).toBe(200);
    expect(reply(r.body).headers['x-pct']).toBe('100% %START_TIME% %%PROTOCOL%%');
    expect(r.headers['x-res']).toBe('%PROTOCOL% 5%');
  });
});
