import { describe, expect, it } from 'vitest';
import { cookieVar, headerVar, literal, q, word } from '../../../src/emitters/nginx/syntax.js';

describe('nginx.conf syntax for mesh strings', () => {
  it.each([
    ['plain', '"plain"'],
    ['a "b" \\c', '"a \\"b\\" \\\\c"'],
    ['x; return 200 y; #', '"x; return 200 y; #"'],
    ['{ }', '"{ }"'],
  ])('double-quotes %j with \\ and " escaped', (value, written) => {
    expect(q(value)).toBe(written);
  });

  it('writes a literal $ where nginx expands variables as a variable defined to hold "$"', () => {
    expect(literal('$http_host and ${x}')).toBe('"${mg_dollar}http_host and ${mg_dollar}{x}"');
    expect(q('$uri')).toBe('"$uri"');
  });

  it('leaves plain words bare and quotes the rest', () => {
    expect(word('x-trace')).toBe('x-trace');
    expect(word('[::1]:80')).toBe('[::1]:80');
    expect(word("x'$")).toBe('"x\'$"');
  });

  it('names header and cookie variables only where nginx can read them', () => {
    expect(headerVar('X-User')).toBe('$http_x_user');
    expect(headerVar('x_user')).toBeUndefined(); // underscores_in_headers off: dropped
    expect(headerVar('x.trace')).toBeUndefined(); // ignore_invalid_headers on: dropped
    expect(cookieVar('session_id')).toBe('$cookie_session_id');
    expect(cookieVar('s.id')).toBeUndefined();
  });

  it.each(['a\nb', 'a\rb', 'a\0b'])('refuses a line break or NUL (%j)', (value) => {
    expect(() => q(value)).toThrow(/bug/);
  });
});
