import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../../src/meshtest/client.js';
import { StubState, startStub, type Stub } from '../../src/meshtest/stubs.js';

const stubs: Stub[] = [];
afterEach(async () => {
  await Promise.all(stubs.splice(0).map((s) => s.close()));
});

const get = (port: number, tag: string) =>
  send({ port, method: 'GET', path: '/x', host: 'catalog', headers: {}, tag, timeoutMs: 5000 });

describe('stub backends', () => {
  it("answer a late request of an earlier case 200 without taking the current case's failures", async () => {
    const state = new StubState();
    const stub = await startStub(state, 'catalog', 'v2');
    stubs.push(stub);
    state.begin({ catalog: { failFirst: 2, failStatus: 500 } }, 7);
    // a mirror's copy from case 6, arriving once case 7 has begun
    const late = await get(stub.port, '6.12');
    expect(late.status).toBe(200);
    expect(late.from).toBeUndefined();
    const tries = [await get(stub.port, '7.0'), await get(stub.port, '7.0'), await get(stub.port, '7.0')];
    expect(tries.map((t) => t.status)).toEqual([500, 500, 200]);
    expect(tries[2]!.from).toEqual({ backend: 'catalog', version: 'v2' });
    expect(state.received.map((r) => r.tag)).toEqual(['7.0', '7.0', '7.0']);
    // case 17's tags start with "17.", not with case 1's "1."
    state.begin({ catalog: { failFirst: 1 } }, 1);
    expect((await get(stub.port, '17.0')).status).toBe(200);
    expect((await get(stub.port, '1.0')).status).toBe(503);
  });
});
