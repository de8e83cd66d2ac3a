import { describe, expect, it } from 'vitest';
import { iptablesComment, lineComment } from '../../../src/emitters/iptables/text.js';

describe('comments in iptables and nftables plans', () => {
  it('keeps an iptables comment one double-quoted argument of at most 256 bytes', () => {
    expect(iptablesComment('shop/web 10.96.0.10:80')).toBe('"shop/web 10.96.0.10:80"');
    expect(iptablesComment('a"b\\c\nd -j ACCEPT')).toBe('"abcd -j ACCEPT"');
    const long = iptablesComment('é'.repeat(300));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(257);
    expect(long).not.toContain('\uFFFD');
  });

  it('keeps a comment line on its line', () => {
    expect(lineComment('a\nflush ruleset')).toBe('a?flush ruleset');
  });
});
