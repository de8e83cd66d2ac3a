import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLoad, type LoadCounts } from '../../bench/steady-load.mjs';
import { convertBootstrap } from '../../src/dataplane/config.js';
import type { Proxy } from '../../src/dataplane/proxy.js';
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
});
