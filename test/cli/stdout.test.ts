import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeChunked } from '../../src/cli/stdout.js';

/** A stream that keeps what it is given, calling back after a turn of the event loop (as a pipe may). */
function collector(): { stream: Writable; bytes: () => Buffer; writes: () => number } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 1 << 16,
    write(chunk: Buffer, _encoding, done) {
      parts.push(Buffer.from(chunk));
      setImmediate(done);
    },
  });
  return { stream, bytes: () => Buffer.concat(parts), writes: () => parts.length };
}

describe('writeChunked', () => {
  it('writes the texts in order, in UTF-8, the separator between each two', async () => {
    const texts = [
      'b'.repeat((5 << 20) / 2 + 3), // larger than a chunk: sent in slices of its own
      'name: café ✓\n',
      '',
      ...Array.from({ length: 5000 }, (_, i) => `n: ${i}${i % 7 ? '' : ' é'}\n`),
    ];
    const out = collector();
    expect(await writeChunked(out.stream, texts, '---\n')).toBe('done');
    expect(out.bytes().toString('utf8')).toBe(texts.join('---\n'));
    // chunks of about a MiB, not one write per text
    expect(out.writes()).toBeLessThan(20);
  });
});
