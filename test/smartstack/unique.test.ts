import { describe, expect, it } from 'vitest';
import { diagnostic, type Diagnostic } from '../../src/model/diagnostics.js';
import { uniqueDiagnostics } from '../../src/smartstack/index.js';

const warn = (message: string, pointer?: string): Diagnostic =>
  diagnostic('MG3002', message, { ...(pointer === undefined ? {} : { pointer }), target: 'haproxy' });

describe('uniqueDiagnostics', () => {
  it('keeps the first of each code, pointer and message, in order', () => {
    const a = warn('a', '/spec/routes/0');
    const b = warn('b', '/spec/routes/0');
    const c = warn('a', '/spec/routes/1');
    const d = diagnostic('MG3005', 'a', { pointer: '/spec/routes/0', target: 'haproxy' });
    const e = warn('a');
    const list = [a, b, warn('a', '/spec/routes/0'), c, d, e, warn('b', '/spec/routes/0'), warn('a')];
    const out = uniqueDiagnostics(list);
    expect(out).toEqual([a, b, c, d, e]);
    // the very objects, not copies
    expect(out[0]).toBe(a);
    expect(out[4]).toBe(e);
  });

  it('tells apart many messages on one pointer, and drops their repeats', () => {
    const many = Array.from({ length: 50 }, (_, i) => warn(`route ${i}: cannot enforce`, '/spec/access/0'));
    const repeats = many.map((d) => warn(d.message, d.pointer));
    const out = uniqueDiagnostics([...many.slice(0, 30), ...repeats, ...many.slice(30)]);
    expect(out).toEqual(many);
    expect(out.map((d) => d.message)).toEqual(many.map((d) => d.message));
  });

  it('does not take one pointer and message for another that join into the same text', () => {
    const out = uniqueDiagnostics([warn('b|a', '/x'), warn('a', '/x|b')]);
    expect(out).toHaveLength(2);
  });
});
