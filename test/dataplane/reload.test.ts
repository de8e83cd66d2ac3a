import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLoad, type LoadCounts } from '../../bench/steady-load.mjs';
import { convertBootstrap } from '../../src/dataplane/config/bootstrap.js';
import type { Proxy } from '../../src/dataplane/server.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { waitFor } from '../support/processes.js';
import { cluster, httpBootstrap, startProxy, type Obj } from './helpers.js';

/**
 * Reloads under load lose nothing: a keep-alive client (HTTP/1.1, or HTTP/2 retrying nothing) sees
 * every request answered while the proxy swaps configurations and drains the old ones.
 */
let backend: TestBackend;
const proxies: Proxy[] = [];

beforeAll(async () => {
  backend = await startBackend('b', 'v1');
});
afterAll(async () => {
  await backend.close();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

/** Generation n: every response names it, so that the client can tell the reloads happened. */
function generation(n: number): Obj {
  return httpBootstrap(
    0,
    [
      {
        name: 'v',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }],
        response_headers_to_add: [{ header: { key: 'x-generation', value: String(n) } }],
      },
    ],
    [cluster('b', [backend.port])],
  );
}

/** `reloads` reloads, each after the client got some more answers; what the client saw. */
async function reloadUnderLoad(protocol: 'http1' | 'h2', reloads: number) {
  const p = await startProxy(generation(0));
  proxies.push(p);
  const load = startLoad({ port: p.listenerPort('http')!, protocol, connections: 16, sessions: 4 });
  const answered = async (more: number) => {
    const target = load.counts.ok + load.counts.failed + load.counts.dropped + more;
    await waitFor(() => load.counts.ok + load.counts.failed + load.counts.dropped >= target, {
      what: `${more} more answers`,
    });
  };
  try {
    for (let n = 1; n <= reloads; n++) {
      await answered(60);
      const next = convertBootstrap(generation(n));
      await p.reload(next.config!);
    }
    await answered(60);
  } finally {
    await load.stop();
  }
  return { counts: load.counts, sessionsOpened: load.sessionsOpened, p };
}

/** A keep-alive HTTP/1.1 connection sending requests by hand and reading whole responses. */
async function keepAlive(port: number) {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  let data = '';
  let closedAt = 0;
  s.on('data', (d) => (data += d.toString('latin1')));
  s.on('close', () => (closedAt = Date.now()));
  s.on('error', () => {});
  return {
    /** One request; its response head, once the whole response came. */
    async get(): Promise<string> {
      data = '';
      s.write('GET / HTTP/1.1\r\nhost: t\r\n\r\n');
      return waitFor(
        () => {
          const end = data.indexOf('\r\n\r\n');
          const len = /content-length: (\d+)/i.exec(data);
          const whole = len ? data.length >= end + 4 + Number(len[1]) : data.endsWith('\r\n0\r\n\r\n');
          if (end >= 0 && whole) return data.slice(0, end);
          return closedAt ? 'closed without a response' : undefined;
        },
        { what: 'a response' },
      );
    },
    closedAt: () => closedAt,
    destroy: () => s.destroy(),
  };
}

const lost = (c: LoadCounts) => ({
  failed: c.failed,
  dropped: c.dropped,
  unsent: c.unsent,
  outcomes: c.outcomes,
});

describe('reload under load', () => {
  it('answers every HTTP/1.1 keep-alive request across 5 reloads (old connections close after a response)', async () => {
    const { counts, p } = await reloadUnderLoad('http1', 5);
    expect(lost(counts)).toEqual({ failed: 0, dropped: 0, unsent: 0, outcomes: {} });
    expect(counts.ok).toBeGreaterThanOrEqual(360);
    expect(p.stats.get('server.reloads')).toBe(5);
    // the old generations' connections were handed back: the client opened new ones
    expect(p.stats.get('http.ingress.downstream_cx_total')).toBeGreaterThan(16);
  });

  it('answers every HTTP/2 stream across 5 reloads (old sessions get GOAWAY, the client opens new ones)', async () => {
    const { counts, sessionsOpened, p } = await reloadUnderLoad('h2', 5);
    expect(lost(counts)).toEqual({ failed: 0, dropped: 0, unsent: 0, outcomes: {} });
    expect(counts.ok).toBeGreaterThanOrEqual(360);
    expect(p.stats.get('server.reloads')).toBe(5);
    expect(sessionsOpened).toBeGreaterThan(4);
  });

  it('keeps an idle keep-alive connection until the drain time ends; its next request is answered with connection: close', async () => {
    const p = await startProxy(generation(0)); // drain time 1 s
    proxies.push(p);
    const port = p.listenerPort('http')!;
    const [busy, idle] = [await keepAlive(port), await keepAlive(port)];
    try {
      expect(await busy.get()).not.toContain('connection: close');
      expect(await idle.get()).not.toContain('connection: close');
      const reloaded = Date.now();
      await p.reload(convertBootstrap(generation(1)).config!);
      // the client may write its next request at any moment: it is answered, then the connection closes
      const head = await busy.get();
      expect(head).toMatch(/^HTTP\/1\.1 200/);
      expect(head).toContain('x-generation: 0');
      expect(head).toContain('connection: close');
      await waitFor(() => busy.closedAt(), { what: 'the answered connection to close' });
      // the idle one is closed when the drain time ends, not before
      await waitFor(() => idle.closedAt(), { what: 'the idle connection to close' });
      expect(idle.closedAt() - reloaded).toBeGreaterThanOrEqual(900);
    } finally {
      busy.destroy();
      idle.destroy();
    }
  });
});
