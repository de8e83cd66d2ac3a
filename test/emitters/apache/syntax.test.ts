import { describe, expect, it } from 'vitest';
import {
  comment,
  exprRegex,
  exprString,
  headerValue,
  literalPattern,
  quoted,
  substitutionText,
} from '../../../src/emitters/apache/syntax.js';
import { render } from '../../../src/render.js';
import { exampleMesh } from '../../support/meshes.js';

describe('httpd.conf syntax for mesh strings', () => {
  it('double-quotes a word, escaping " and keeping ${ from the config reader', () => {
    expect(quoted('plain')).toBe('"plain"');
    expect(quoted('a "b" \\c')).toBe('"a \\"b\\" \\c"');
    expect(quoted('${HOME} and $x')).toBe('"${MG_DOLLAR}{HOME} and $x"');
    // the config reader reads \\ and \" as escapes, any other backslash as itself
    expect(quoted('a\\\\b\\')).toBe(String.raw`"a\\\b\\"`);
    expect(quoted(String.raw`\x2e`)).toBe(String.raw`"\x2e"`);
  });

  it("keeps a user's backslash-r a backslash and an r in a header value, not a CR", () => {
    // mod_headers reads \\ as one backslash and \r as CR; the config reader reads \\ as one
    expect(headerValue(String.raw`8\r`)).toBe(String.raw`"8\\\r"`);
  });

  it('writes every character of a literal that is not a letter or digit as \\xHH bytes', () => {
    expect(literalPattern('a.b#"c')).toBe('a\\x2eb\\x23\\x22c');
    expect(literalPattern('é')).toBe('\\xc3\\xa9');
  });

  it('keeps a regex meaning the same while no character can end m#...#', () => {
    expect(exprRegex('^/a#b\\.c[%"]+$')).toBe('m#^\\x2fa\\x23b\\x2ec[\\x25\\x22]+$#');
    expect(exprRegex('\\d+\\/x', 'i')).toBe('m#\\d+\\x2fx#i');
    expect(exprRegex('a${2}')).toBe('m#a$(?:){2}#');
  });

  it('escapes ap_expr strings, mod_headers values and rewrite substitutions', () => {
    expect(exprString("x-h'a")).toBe("'x-h\\'a'");
    expect(exprString('x$9')).toBe("'x\\$9'");
    expect(headerValue(String.raw`50% \ "q"`)).toBe(String.raw`"50%% \\\ \"q\""`);
    expect(substitutionText('/a$1%2')).toBe('/a\\$1\\%2');
  });

  it.each(['a\nb', 'a\rb', 'a\0b'])('refuses a line break or NUL (%j)', (value) => {
    expect(() => quoted(value)).toThrow(/bug/);
    expect(() => exprRegex(value)).toThrow(/bug/);
  });

  it('keeps comments on one line', () => {
    expect(comment('a\nb\u2028c')).toBe('a?b?c');
  });
});

describe('apache versions', () => {
  it('renders for 2.4.30 and later, and refuses an older release (MG4003)', () => {
    const ok = render(exampleMesh('hello'), { targets: ['apache'], settings: { version: '2.4.30' } });
    expect(ok.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const old = render(exampleMesh('hello'), { targets: ['apache'], settings: { version: '2.2.34' } });
    expect(old.diagnostics.some((d) => d.code === 'MG4003' && d.severity === 'error')).toBe(true);
  });
});
