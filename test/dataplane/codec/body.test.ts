import { describe, expect, it } from 'vitest';
import { RequestBody, type BodySink } from '../../../src/dataplane/codec/body.js';

/** A source that counts the times it was paused and resumed. */
function source() {
  const s = { paused: false, pauses: 0, resumes: 0 };
  return {
    s,
    src: {
      pause: () => {
        s.paused = true;
        s.pauses++;
      },
      resume: () => {
        s.paused = false;
        s.resumes++;
      },
    },
  };
}

/** A sink that takes `room` bytes before it says it is full, then waits for more room. */
function sink(room = Infinity) {
  const got: Buffer[] = [];
  const k = {
    got,
    ended: false,
    room,
    take: (): BodySink => ({
      data: (b) => {
        got.push(b);
        k.room -= b.length;
        return k.room > 0;
      },
      end: () => (k.ended = true),
    }),
  };
  return k;
}

const kb = (n: number, fill = 97) => Buffer.alloc(n * 1024, fill);

describe('RequestBody', () => {
  it('holds what no sink took, pauses its source above the limit and resumes it at half', () => {
    const { s, src } = source();
    const body = new RequestBody(src, 64 * 1024, undefined);
    for (let i = 0; i < 4; i++) body.push(kb(16));
    expect(s.paused).toBe(false);
    body.push(kb(1));
    expect(s.paused).toBe(true);
    const k = sink(40 * 1024);
    const out = k.take();
    body.attach(out);
    // the sink took 48 KiB (full after its third chunk): 17 KiB are left, less than half the limit
    expect(Buffer.concat(k.got).length).toBe(48 * 1024);
    expect(s.paused).toBe(false);
    expect(s.resumes).toBe(1);
    k.room = Infinity;
    body.drained(out);
    body.end();
    expect(Buffer.concat(k.got).length).toBe(65 * 1024);
    expect(k.ended).toBe(true);
    expect(body.complete).toBe(true);
  });

  it('a drain from a sink that was detached is not taken for the current one', () => {
    const body = new RequestBody(source().src, 1024, undefined);
    const a = sink(1);
    const first = a.take();
    body.attach(first);
    body.push(Buffer.from('x'));
    body.detach();
    const b = sink(1);
    body.attach(b.take());
    body.push(Buffer.from('y'));
    body.push(Buffer.from('z'));
    expect(Buffer.concat(b.got).toString()).toBe('y');
    body.drained(first);
    expect(Buffer.concat(b.got).toString()).toBe('y');
  });

  it('kept whole, a body is given again from its start to a new sink, and whole() has it all', () => {
    const body = new RequestBody(source().src, 1024, 6);
    let abandoned = 0;
    body.keep(() => abandoned++);
    const a = sink();
    body.attach(a.take());
    body.push(Buffer.from('abc'));
    body.detach();
    body.push(Buffer.from('def'));
    body.end();
    const b = sink();
    body.attach(b.take());
    expect(Buffer.concat(b.got).toString()).toBe('abcdef');
    expect(b.ended).toBe(true);
    expect(body.whole()?.toString()).toBe('abcdef');
    expect(abandoned).toBe(0);
    expect(body.replayable).toBe(true);
  });

  it('stops keeping a body that grows past the limit, once, telling every keeper', () => {
    const body = new RequestBody(source().src, 8, undefined);
    const told: string[] = [];
    body.keep(() => told.push('retry'));
    body.keep(() => told.push('shadow'));
    const a = sink();
    body.attach(a.take());
    body.push(Buffer.from('12345'));
    expect(told).toEqual([]);
    body.push(Buffer.from('6789'));
    expect(told).toEqual(['retry', 'shadow']);
    body.push(Buffer.from('0'));
    body.end();
    expect(told).toHaveLength(2);
    expect(body.replayable).toBe(false);
    expect(body.whole()).toBeUndefined();
    // the sink still got every byte
    expect(Buffer.concat(a.got).toString()).toBe('1234567890');
  });

  it('a body a sink already took (and dropped) cannot be kept: the keeper is told at once', () => {
    const body = new RequestBody(source().src, 1024, undefined);
    body.attach(sink().take());
    body.push(Buffer.from('a'));
    let told = 0;
    body.keep(() => told++);
    expect(told).toBe(1);
    expect(body.replayable).toBe(false);
  });

  it('the observer sees each chunk as it arrives, whenEnded runs at the end', () => {
    const body = new RequestBody(source().src, 1024, undefined);
    const seen: string[] = [];
    body.observer = (b) => seen.push(b.toString());
    let ended = false;
    body.whenEnded(() => (ended = true));
    body.push(Buffer.from('a'));
    body.push(Buffer.from('b'));
    expect(ended).toBe(false);
    body.end();
    expect(seen).toEqual(['a', 'b']);
    expect(ended).toBe(true);
    expect(body.received).toBe(2);
  });
});
