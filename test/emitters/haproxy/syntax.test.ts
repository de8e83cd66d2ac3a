import { describe, expect, it } from 'vitest';
import { comment, fetch, logFormat, word } from '../../../src/emitters/haproxy/syntax.js';

/** HAProxy 2.6's word splitting as word() relies on it: blanks split, '...' literal, \ escapes outside. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      expect(end, `unmatched quote in ${line}`).toBeGreaterThan(i);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\') {
      cur = (cur ?? '') + (line[++i] ?? '');
    } else if (c === ' ' || c === '\t') {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else if (c === '#' && cur === undefined) break;
    else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

describe('haproxy.cfg syntax for mesh strings', () => {
  it.each([
    ['x-user', 'x-user'],
    ['/api/v1', '/api/v1'],
    ['a b', "'a b'"],
    ["it's", `'it'\\''s'`],
    ['#not-a-comment', "'#not-a-comment'"],
    ['${HOME}', "'${HOME}'"],
    ['"q"\\', `'"q"\\'`],
  ])('keeps %j one literal word: %s', (value, written) => {
    expect(word(value)).toBe(written);
    expect(words(`set-header ${word(value)} end`)).toEqual(['set-header', value, 'end']);
  });

  it('doubles % in log-format arguments, which HAProxy expands after splitting words', () => {
    expect(logFormat('100%')).toBe('100%%');
    expect(logFormat('%[src] x')).toBe("'%%[src] x'");
  });

  it('quotes a sample fetch argument that the argument parser would split or unquote', () => {
    expect(fetch('req.fhdr', 'x-user')).toBe('req.fhdr(x-user)');
    expect(fetch('urlp', 'a,b')).toBe(`'urlp("a,b")'`);
    expect(fetch('req.fhdr', "x'y")).toBe(`'req.fhdr("x'\\''y")'`);
    expect(words(`if { ${fetch('urlp', 'a)b')} -m found }`)).toEqual([
      'if',
      '{',
      'urlp("a)b")',
      '-m',
      'found',
      '}',
    ]);
  });

  it.each(['a\nb', 'a\rb', 'a\0b'])(
    'refuses a line break or NUL (%j), which no quoting can hold',
    (value) => {
      expect(() => word(value)).toThrow(/bug/);
    },
  );

  it('keeps a comment on its line', () => {
    expect(comment('route "a"\nglobal\u2028x')).toBe('route "a"?global?x');
  });
});
