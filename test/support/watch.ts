import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { onTestFailed } from 'vitest';
import type { Started } from './processes.js';

/* The meshes and probes of the `meshgen watch` tests (test/cli/watch*.test.ts). */

/**
 * The watch tests' mesh: frontend `edge` on `port`; backend api's service port `servicePort`, where
 * HAProxy and NGINX listen for its callers (127.0.0.1:<servicePort>): a port of the test's own, as
 * test files run side by side. Its endpoints come from the store unless `endpoints` lists them (a
 * mesh file).
 */
export function mesh(
  port: number,
  servicePort: number,
  routeTimeout = '5s',
  endpoints: readonly string[] = [],
): string {
  const listed = endpoints.length
    ? `\n          endpoints: [${endpoints.map((e) => `"${e}"`).join(', ')}]`
    : '';
  return `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: live
spec:
  mtls: { mode: disabled }
  backends:
    - name: api
      port: ${servicePort}
      protocol: http
      versions:
        - name: v1${listed}
  frontends:
    - name: edge
      address: 127.0.0.1
      port: ${port}
      protocol: http
  routes:
    - name: all
      parent: { frontend: edge }
      to: [{ backend: api }]
      timeout: ${routeTimeout}
`;
}

/** The value of a metric in metrics.prom (undefined while the file or the line is missing). */
export function metric(dir: string, name: string): number | undefined {
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, 'metrics.prom'), 'utf8');
  } catch {
    return undefined; // not written yet
  }
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The ports of the backends that answered `n` requests through the proxy. */
export async function reached(port: number, n = 30): Promise<Set<number>> {
  const ports = new Set<number>();
  for (let i = 0; i < n; i++) {
    const body = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(res.statusCode === 200 ? b : ''));
      });
      req.on('error', () => resolve(''));
    });
    if (body) ports.add((JSON.parse(body) as { port: number }).port);
  }
  return ports;
}

/** A mesh whose one route splits api between v1 and v2, neither listing an endpoint. */
export function splitMesh(port: number, servicePort: number, v1: number, v2: number): string {
  return `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: live
spec:
  mtls: { mode: disabled }
  backends:
    - name: api
      port: ${servicePort}
      protocol: http
      versions:
        - name: v1
        - name: v2
  frontends:
    - name: edge
      address: 127.0.0.1
      port: ${port}
      protocol: http
  routes:
    - name: all
      parent: { frontend: edge }
      to:
        - { backend: api, version: v1, weight: ${v1} }
        - { backend: api, version: v2, weight: ${v2} }
`;
}

/** The versions that answered `n` requests through the proxy, each on a new connection, 8 at a time. */
export async function split(port: number, n: number): Promise<{ v1: number; v2: number; failed: number }> {
  const counts = { v1: 0, v2: 0, failed: 0 };
  let next = 0;
  const one = () =>
    new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(res.statusCode === 200 ? b : ''));
      });
      req.on('error', () => resolve(''));
    });
  const worker = async () => {
    while (next++ < n) {
      const body = await one();
      const version = body ? (JSON.parse(body) as { version: string }).version : '';
      if (version === 'v1' || version === 'v2') counts[version]++;
      else counts.failed++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return counts;
}

/** The pids of the proxies a watcher said it started ("started haproxy (pid N)"), in order. */
export function startedPids(watcherOutput: string): number[] {
  return [...watcherOutput.matchAll(/started \S+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

/**
 * Stops, by pid, any proxy a watcher said it started that still runs: the watcher stops its proxy
 * when it stops, but one killed before it could would leave it running. Run after the watcher was
 * stopped.
 */
export function stopStartedProxies(watcherOutput: string): void {
  for (const pid of startedPids(watcherOutput)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** On a failure, the last lines a process the test started printed (the watcher's log, the proxy's). */
export function printOnFailure(name: string, p: Started, lines = 80): void {
  onTestFailed(() => {
    const tail = p.output().split('\n').slice(-lines).join('\n');
    console.log(`--- ${name} (pid ${p.child.pid}) printed, last ${lines} lines:\n${tail}`);
  });
}
