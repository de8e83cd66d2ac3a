/**
 * Load balancers as plain functions over a list of hosts: no sockets, so tests can drive them.
 * Each takes the eligible hosts (healthy, not ejected, or all of them in panic mode).
 */
export interface LbHost {
  key: string;
  weight: number;
  /** Requests in flight (LEAST_REQUEST). */
  active: number;
}

export interface LbState {
  rr: number;
  /** Smooth weighted round robin: current weights by host key. */
  current: Map<string, number>;
  ring?: { hashes: Uint32Array; hosts: LbHost[]; keyOf: string };
}

export function newLbState(): LbState {
  return { rr: 0, current: new Map() };
}

export function roundRobin<H extends LbHost>(hosts: H[], st: LbState): H | undefined {
  const n = hosts.length;
  if (n === 0) return undefined;
  let uniform = true;
  for (let i = 1; i < n; i++) if (hosts[i]!.weight !== hosts[0]!.weight) uniform = false;
  if (uniform) return hosts[st.rr++ % n];
  // smooth weighted round robin (as nginx and Envoy's EDF scheduler spread weighted picks)
  let total = 0;
  let best: H | undefined;
  let bestW = -Infinity;
  for (const h of hosts) {
    const w = (st.current.get(h.key) ?? 0) + h.weight;
    st.current.set(h.key, w);
    total += h.weight;
    if (w > bestW) {
      bestW = w;
      best = h;
    }
  }
  st.current.set(best!.key, bestW - total);
  return best;
}

export function randomPick<H extends LbHost>(hosts: H[], rand: () => number = Math.random): H | undefined {
  if (hosts.length === 0) return undefined;
  const total = hosts.reduce((a, h) => a + h.weight, 0);
  let x = rand() * total;
  for (const h of hosts) {
    if (x < h.weight) return h;
    x -= h.weight;
  }
  return hosts[hosts.length - 1];
}

/** Envoy's default LEAST_REQUEST: power of two random choices, fewer active requests wins. */
export function leastRequest<H extends LbHost>(hosts: H[], rand: () => number = Math.random): H | undefined {
  const n = hosts.length;
  if (n <= 1) return hosts[0];
  const a = hosts[Math.floor(rand() * n)]!;
  let b = hosts[Math.floor(rand() * n)]!;
  if (b === a) b = hosts[(hosts.indexOf(a) + 1) % n]!;
  return b.active < a.active ? b : a;
}

/** 32-bit FNV-1a. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // final avalanche (murmur3 fmix32) so near keys spread over the ring
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const MIN_RING = 1024;

/** RING_HASH: consistent hashing on a ring of at least 1024 entries (Envoy's minimum_ring_size). */
export function ringHash<H extends LbHost>(
  hosts: H[],
  st: LbState,
  key: number | undefined,
  rand: () => number = Math.random,
): H | undefined {
  if (hosts.length === 0) return undefined;
  const keyOf = hosts.map((h) => `${h.key}*${h.weight}`).join(',');
  if (!st.ring || st.ring.keyOf !== keyOf) st.ring = buildRing(hosts, keyOf);
  const ring = st.ring;
  const k = key ?? Math.floor(rand() * 0x100000000);
  let lo = 0;
  let hi = ring.hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring.hashes[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return ring.hosts[lo === ring.hashes.length ? 0 : lo] as H;
}

function buildRing(hosts: LbHost[], keyOf: string): NonNullable<LbState['ring']> {
  const total = hosts.reduce((a, h) => a + h.weight, 0);
  const entries: [number, LbHost][] = [];
  for (const h of hosts) {
    const n = Math.max(1, Math.ceil((MIN_RING * h.weight) / total));
    for (let i = 0; i < n; i++) entries.push([hash32(`${h.key}_${i}`), h]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  return { hashes: Uint32Array.from(entries.map((e) => e[0])), hosts: entries.map((e) => e[1]), keyOf };
}
