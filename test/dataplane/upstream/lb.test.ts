import { describe, expect, it } from 'vitest';
import {
  leastRequest,
  newLbState,
  randomPick,
  ringHash,
  roundRobin,
  type LbHost,
} from '../../../src/dataplane/upstream/lb.js';

const hosts = (n: number, weights?: number[]): LbHost[] =>
  Array.from({ length: n }, (_, i) => ({ key: `h${i}`, weight: weights?.[i] ?? 1, active: 0 }));

describe('load balancers', () => {
  it('round robin cycles, and spreads by weight when weights differ', () => {
    const st = newLbState();
    const hs = hosts(3);
    expect([1, 2, 3, 4, 5, 6].map(() => roundRobin(hs, st)!.key)).toEqual([
      'h0',
      'h1',
      'h2',
      'h0',
      'h1',
      'h2',
    ]);
    const w = hosts(2, [3, 1]);
    const st2 = newLbState();
    const picks = Array.from({ length: 8 }, () => roundRobin(w, st2)!.key);
    expect(picks.filter((k) => k === 'h0').length).toBe(6);
  });
  it('least request prefers the host with fewer active requests', () => {
    const hs = hosts(2);
    hs[0]!.active = 5;
    let seq = [0, 0.9];
    const rand = () => seq.shift()!;
    expect(leastRequest(hs, rand)!.key).toBe('h1');
    seq = [0.9, 0];
    expect(leastRequest(hs, rand)!.key).toBe('h1');
  });
  it('random covers all hosts', () => {
    const seen = new Set(Array.from({ length: 200 }, () => randomPick(hosts(3))!.key));
    expect(seen.size).toBe(3);
  });
  it('ring hash is consistent per key and moves few keys when a host goes', () => {
    const hs = hosts(4);
    const st = newLbState();
    const keys = Array.from({ length: 400 }, (_, i) => (i * 2654435761) >>> 0);
    const before = keys.map((k) => ringHash(hs, st, k)!.key);
    expect(keys.map((k) => ringHash(hs, st, k)!.key)).toEqual(before);
    expect(new Set(before).size).toBe(4);
    const after = keys.map((k) => ringHash(hs.slice(0, 3), st, k)!.key);
    const moved = before.filter((b, i) => b !== after[i] && b !== 'h3').length;
    // entries per host grow with fewer hosts (as Envoy sizes its ring), so a few keys move
    expect(moved).toBeLessThan(keys.length * 0.2);
  });
  it('no hosts: undefined', () => {
    expect(roundRobin([], newLbState())).toBeUndefined();
    expect(ringHash([], newLbState(), 1)).toBeUndefined();
  });
});
