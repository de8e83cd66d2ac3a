import http from 'node:http';
import type net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convertBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import { OutlierDetector, outlierConfig, type OutlierHost } from '../../../src/dataplane/upstream/outlier.js';
import type { Proxy } from '../../../src/dataplane/server.js';
import { Stats } from '../../../src/dataplane/admin/stats.js';
import { boundPorts, cluster, httpBootstrap, request, startProxy, type Obj } from '../helpers.js';

/** A backend answering JSON naming itself; with failEvery n, every n-th request gets a 500. */
interface Flaky {
  port: number;
  seen: number;
  failEvery: number;
  close(): Promise<void>;
}
async function flaky(name: string): Promise<Flaky> {
  const sockets = new Set<net.Socket>();
  const b: Flaky = { port: 0, seen: 0, failEvery: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    b.seen++;
    req.resume();
    const fail = b.failEvery > 0 && b.seen % b.failEvery === 0;
    res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ backend: name }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  b.port = (server.address() as net.AddressInfo).port;
  b.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  };
  return b;
}

let hosts: Flaky[] = [];
const proxies: Proxy[] = [];
beforeAll(async () => {
  hosts = await Promise.all(['h0', 'h1', 'h2', 'h3'].map(flaky));
});
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()));
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  for (const h of hosts) {
    h.seen = 0;
    h.failEvery = 0;
  }
});

async function proxyWith(od: Obj, admin?: number): Promise<{ port: number; p: Proxy }> {
  const p = await startProxy(
    httpBootstrap(
      0,
      [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }],
      [
        cluster(
          'c',
          hosts.map((h) => h.port),
          { outlier_detection: od },
        ),
      ],
      { admin },
    ),
  );
  const port = boundPorts(p)[0]!;
  proxies.push(p);
  return { port, p };
}

/** Sends requests until the stat reaches n (bounded by time), returns how many were sent. */
async function until(port: number, p: Proxy, stat: string, n: number, ms = 6000): Promise<number> {
  const end = Date.now() + ms;
  let sent = 0;
  while (p.stats.get(stat) < n && Date.now() < end) {
    await request(port, '/');
    sent++;
  }
  return sent;
}

const OD = 'cluster.c.outlier_detection.';

describe('outlier detection with traffic', () => {
  it('success rate: a host failing every other request is ejected and traffic moves away', async () => {
    hosts[1]!.failEvery = 2;
    const { port, p } = await proxyWith(
      {
        interval: '0.3s',
        base_ejection_time: '30s',
        max_ejection_percent: 50,
        consecutive_5xx: 1000,
        success_rate_minimum_hosts: 4,
        success_rate_request_volume: 10,
        success_rate_stdev_factor: 1000,
      },
      0,
    );
    await until(port, p, `${OD}ejections_enforced_success_rate`, 1);
    // admin /clusters: the ejected host's flag and its success rate in the interval that ejected it
    const clusters = (await request(p.adminPort!, '/clusters')).body;
    expect(clusters).toMatch(/^c::outlier::success_rate_average::/m);
    expect(clusters).toContain(`c::127.0.0.1:${hosts[1]!.port}::health_flags::/failed_outlier_check`);
    const sr = Number(
      new RegExp(`^c::127.0.0.1:${hosts[1]!.port}::success_rate::(.*)$`, 'm').exec(clusters)?.[1],
    );
    expect(sr).toBeGreaterThan(30);
    expect(sr).toBeLessThan(60);
    expect(p.stats.get(`${OD}ejections_detected_success_rate`)).toBe(1);
    expect(p.stats.get(`${OD}ejections_enforced_success_rate`)).toBe(1);
    expect(p.stats.get(`${OD}ejections_enforced_total`)).toBe(1);
    expect(p.stats.get(`${OD}ejections_active`)).toBe(1);
    expect(p.stats.get('cluster.c.membership_healthy')).toBe(3);
    const before = hosts.map((h) => h.seen);
    for (let i = 0; i < 30; i++) expect((await request(port, '/')).status).toBe(200);
    expect(hosts[1]!.seen).toBe(before[1]);
    for (const i of [0, 2, 3]) expect(hosts[i]!.seen - before[i]!).toBe(10);
  });

  it('success rate with Envoy default stdev factor (1.9) does not eject a 50% host among 4', async () => {
    hosts[1]!.failEvery = 2;
    const { port, p } = await proxyWith({
      interval: '0.2s',
      consecutive_5xx: 1000,
      success_rate_minimum_hosts: 4,
      success_rate_request_volume: 10,
    });
    const end = Date.now() + 1500;
    while (Date.now() < end) await request(port, '/');
    // mean 87.5, stdev 21.65: threshold 87.5 - 1.9 * 21.65 = 46.4 < 50
    expect(p.stats.get(`${OD}ejections_detected_success_rate`)).toBe(0);
    expect(p.stats.get(`${OD}ejections_active`)).toBe(0);
  });

  it('failure percentage ejects a host over the threshold; it is not enforced by default', async () => {
    hosts[2]!.failEvery = 2;
    const base = {
      interval: '0.3s',
      consecutive_5xx: 1000,
      enforcing_success_rate: 0,
      failure_percentage_threshold: 40,
      failure_percentage_minimum_hosts: 4,
      failure_percentage_request_volume: 10,
    };
    const off = await proxyWith(base);
    await until(off.port, off.p, `${OD}ejections_detected_failure_percentage`, 1);
    expect(off.p.stats.get(`${OD}ejections_detected_failure_percentage`)).toBeGreaterThanOrEqual(1);
    expect(off.p.stats.get(`${OD}ejections_enforced_total`)).toBe(0);
    await off.p.stop();
    hosts[2]!.seen = 0;

    const { port, p } = await proxyWith({ ...base, enforcing_failure_percentage: 100 });
    await until(port, p, `${OD}ejections_enforced_failure_percentage`, 1);
    expect(p.stats.get(`${OD}ejections_enforced_failure_percentage`)).toBe(1);
    const before = hosts[2]!.seen;
    for (let i = 0; i < 20; i++) expect((await request(port, '/')).status).toBe(200);
    expect(hosts[2]!.seen).toBe(before);
  });

  it('max_ejection_percent: with two failing hosts of four and 25%, only one is ejected', async () => {
    hosts[0]!.failEvery = 1;
    hosts[3]!.failEvery = 1;
    const { port, p } = await proxyWith({
      interval: '0.3s',
      consecutive_5xx: 1000,
      enforcing_success_rate: 0,
      max_ejection_percent: 25,
      enforcing_failure_percentage: 100,
      failure_percentage_threshold: 50,
      failure_percentage_minimum_hosts: 4,
      failure_percentage_request_volume: 5,
    });
    await until(port, p, `${OD}ejections_overflow`, 1);
    expect(p.stats.get(`${OD}ejections_enforced_total`)).toBe(1);
    expect(p.stats.get(`${OD}ejections_active`)).toBe(1);
    expect(p.stats.get(`${OD}ejections_overflow`)).toBeGreaterThanOrEqual(1);
    expect(p.stats.get('cluster.c.membership_healthy')).toBe(3);
  });

  it('consecutive gateway failures eject when enforced (502/503/504 only)', async () => {
    const { port, p } = await proxyWith({
      interval: '10s',
      consecutive_5xx: 1000,
      consecutive_gateway_failure: 3,
      enforcing_consecutive_gateway_failure: 100,
      max_ejection_percent: 50,
    });
    await hosts[3]!.close(); // connect failures count as 503
    for (let i = 0; i < 16; i++) await request(port, '/');
    expect(p.stats.get(`${OD}ejections_detected_consecutive_gateway_failure`)).toBe(1);
    expect(p.stats.get(`${OD}ejections_enforced_consecutive_gateway_failure`)).toBe(1);
    for (let i = 0; i < 12; i++) expect((await request(port, '/')).status).toBe(200);
    hosts[3] = await flaky('h3');
  });
});

describe('outlier detector timing', () => {
  const mk = (od: Obj) => {
    const hs: OutlierHost[] = [{ ejected: false }, { ejected: false }, { ejected: false }];
    const stats = new Stats();
    const d = new OutlierDetector(
      outlierConfig(od),
      stats,
      'cluster.x.',
      () => hs,
      () => {},
    );
    return { hs, stats, d };
  };

  it('ejects for base_ejection_time times the ejection count, capped by max_ejection_time', () => {
    const { hs, d } = mk({ consecutive_5xx: 2, base_ejection_time: '10s', max_ejection_time: '25s' });
    const h = hs[0]!;
    const fail = () => {
      d.report(h, 500);
      d.report(h, 500);
    };
    fail();
    expect(h.ejected).toBe(true);
    const t0 = h.od!.ejectedAt;
    d.tick(t0 + 9_999);
    expect(h.ejected).toBe(true);
    d.tick(t0 + 10_000);
    expect(h.ejected).toBe(false);
    fail();
    const t1 = h.od!.ejectedAt;
    d.tick(t1 + 19_999);
    expect(h.ejected).toBe(true);
    d.tick(t1 + 20_000);
    expect(h.ejected).toBe(false);
    fail();
    fail(); // ignored while ejected
    const t2 = h.od!.ejectedAt;
    d.tick(t2 + 24_999);
    expect(h.ejected).toBe(true);
    d.tick(t2 + 25_000); // 3 x 10s capped at 25s
    expect(h.ejected).toBe(false);
  });

  it('success rate: mean and threshold as Envoy computes them (population stdev)', () => {
    const hs: OutlierHost[] = [0, 1, 2, 3, 4].map(() => ({ ejected: false }));
    const d = new OutlierDetector(
      outlierConfig({ success_rate_request_volume: 10, success_rate_stdev_factor: 1000 }),
      new Stats(),
      'cluster.x.',
      () => hs,
      () => {},
    );
    // rates 100, 100, 100, 100, 50: mean 90, stdev 20, threshold 90 - 1.0 * 20 = 70
    hs.forEach((h, i) => {
      for (let n = 0; n < 10; n++) d.report(h, i === 4 && n % 2 === 0 ? 500 : 200);
    });
    d.tick();
    expect(d.srAverage).toBeCloseTo(90, 9);
    expect(d.srThreshold).toBeCloseTo(70, 9);
    expect(hs[4]!.od!.successRate).toBe(50);
    expect(hs[4]!.ejected).toBe(true);
    expect(hs.filter((h) => h.ejected).length).toBe(1);
    d.tick(); // nothing reported in this interval: no evaluation
    expect(d.srAverage).toBe(-1);
  });

  it('a passing active health check returns an ejected host unless turned off', () => {
    const on = mk({ consecutive_5xx: 1 });
    on.d.report(on.hs[0]!, 503);
    expect(on.hs[0]!.ejected).toBe(true);
    on.d.healthCheckPassed(on.hs[0]!);
    expect(on.hs[0]!.ejected).toBe(false);
    expect(on.stats.get('cluster.x.outlier_detection.ejections_active')).toBe(0);
    const off = mk({ consecutive_5xx: 1, successful_active_health_check_uneject_host: false });
    off.d.report(off.hs[0]!, 503);
    off.d.healthCheckPassed(off.hs[0]!);
    expect(off.hs[0]!.ejected).toBe(true);
  });

  it('a 2xx resets the consecutive counters; Envoy defaults apply', () => {
    const c = outlierConfig({});
    expect(c).toMatchObject({
      consecutive5xx: 5,
      intervalMs: 10_000,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 10,
      enforcingConsecutive5xx: 100,
      consecutiveGatewayFailure: 5,
      enforcingConsecutiveGatewayFailure: 0,
      enforcingSuccessRate: 100,
      successRateMinimumHosts: 5,
      successRateRequestVolume: 100,
      successRateStdevFactor: 1.9,
      failurePercentageThreshold: 85,
      enforcingFailurePercentage: 0,
      failurePercentageMinimumHosts: 5,
      failurePercentageRequestVolume: 50,
      unejectOnHealthCheck: true,
    });
    const { hs, d } = mk({ consecutive_5xx: 3, max_ejection_percent: 100 });
    const h = hs[1]!;
    d.report(h, 500);
    d.report(h, 500);
    d.report(h, 200);
    d.report(h, 500);
    d.report(h, 500);
    expect(h.ejected).toBe(false);
    d.report(h, 500);
    expect(h.ejected).toBe(true);
  });
});

describe('outlier detection configuration', () => {
  it('accepts the success rate and failure percentage fields and refuses split local origin errors', () => {
    const boot = (od: Obj) =>
      httpBootstrap(
        1,
        [{ name: 'v', domains: ['*'], routes: [] }],
        [cluster('c', [2], { outlier_detection: od })],
      );
    expect(
      convertBootstrap(
        boot({ enforcing_success_rate: 100, failure_percentage_threshold: 50, max_ejection_time: '60s' }),
      ).errors,
    ).toEqual([]);
    const r = convertBootstrap(boot({ split_external_local_origin_errors: true }));
    expect(r.errors.map((e) => `${e.path}: ${e.message}`).join()).toMatch(
      /outlier_detection\/split_external_local_origin_errors: field split_external_local_origin_errors .* not implemented by meshgen proxy/,
    );
  });
});
