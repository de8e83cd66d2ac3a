import { describe, expect, it } from 'vitest';
import { literalReplacement, matcher, quoteMeta, ruleString } from '../../../src/emitters/traefik/syntax.js';
import { seededRandom } from '../../support/random.js';
import { parseRule, readGoString } from './rule-interpreter.js';

const SEED = Number(process.env.MESHGEN_SEED ?? 20261205);
/** What the schema lets through to a rule: printable ASCII, tab, non-ASCII (no control characters). */
const ALPHABET = [
  ' ',
  '\t',
  '`',
  '"',
  '\\',
  "'",
  '(',
  ')',
  ',',
  '&',
  '|',
  '!',
  '$',
  '\uFEFF',
  'é',
  '漢',
  '😀',
  'a',
  'Z',
  '0',
  '/',
];

function randomString(random: () => number): string {
  const n = 1 + Math.floor(random() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return s;
}

describe('ruleString', () => {
  it('writes backticks where a raw string holds the value', () => {
    expect(ruleString('/api/v1')).toBe('`/api/v1`');
    expect(ruleString('say "hi" \\ now')).toBe('`say "hi" \\ now`');
  });

  it('writes double quotes for a backtick or a byte-order mark', () => {
    expect(ruleString('a`b')).toBe('"a`b"');
    expect(ruleString('a"`\\')).toBe('"a\\"`\\\\"');
    expect(ruleString('\uFEFFx')).toBe('"\\uFEFFx"');
  });

  it(`reads back as the same value through Go's string literal rules (seed ${SEED})`, () => {
    const random = seededRandom(SEED);
    for (let i = 0; i < 2000; i++) {
      const value = randomString(random);
      const quoted = ruleString(value);
      const read = readGoString(quoted, 0);
      expect(read.end, quoted).toBe(quoted.length);
      expect(read.value, quoted).toBe(value);
      // and as one argument of one matcher in a rule
      const rule = parseRule(`${matcher('Header', 'x-a', value)} && Method(\`GET\`)`);
      expect(rule).toMatchObject({ op: 'and', left: { op: 'call', name: 'Header', args: ['x-a', value] } });
    }
  });

  it('refuses what the schema refuses (a bug if it gets there)', () => {
    expect(() => ruleString('a\nb')).toThrow(/bug/);
    expect(() => ruleString('')).toThrow(/bug/);
  });
});

describe('quoteMeta and literalReplacement', () => {
  it('make a regular expression and a replacement that hold the value literally', () => {
    const random = seededRandom(SEED + 1);
    const specials = ['.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$', '\\', 'a', '/'];
    for (let i = 0; i < 500; i++) {
      let v = '';
      for (let k = 0; k < 8; k++) v += specials[Math.floor(random() * specials.length)];
      expect(new RegExp(`^${quoteMeta(v)}$`).test(v), v).toBe(true);
      expect(new RegExp(`^${quoteMeta(v)}$`).test(`${v}x`), v).toBe(false);
    }
    // Go's ReplaceAllString reads `$$` as `$` and `$1` as the group, as JavaScript's replace does
    expect('/api/x'.replace(/^\/api(.*)$/, `${literalReplacement('/v$1/')}$1`)).toBe('/v$1//x');
  });
});
