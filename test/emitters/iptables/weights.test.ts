import { describe, expect, it } from 'vitest';
import {
  bucketCounts,
  conditionalProbabilities,
  formatProbability,
  MAX_MODULUS,
} from '../../../src/emitters/iptables/weights.js';

/** The overall chance of endpoint i: passed over by 1..i-1, then taken with p_i. */
function overall(p: readonly number[]): number[] {
  let pass = 1;
  return p.map((pi) => {
    const take = pass * pi;
    pass *= 1 - pi;
    return take;
  });
}

describe('conditionalProbabilities', () => {
  it.each([
    [
      [50, 50],
      [0.5, 1],
    ],
    [
      [35, 35, 30],
      [0.35, 35 / 65, 1],
    ],
    [
      [80, 20],
      [0.8, 1],
    ],
    [[100], [1]],
  ])('gives %j as %j', (weights, expected) => {
    const p = conditionalProbabilities(weights);
    p.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it.each([[[90, 5, 5]], [[10 / 3, 10 / 3, 10 / 3, 45, 45]], [[1, 2, 3, 4, 90]], [[0, 60, 40]]])(
    'chains back to the weights %j',
    (weights) => {
      const total = weights.reduce((a, b) => a + b, 0);
      overall(conditionalProbabilities(weights)).forEach((v, i) =>
        expect(v).toBeCloseTo(weights[i]! / total, 12),
      );
    },
  );

  it('prints ten decimals, as kube-proxy does', () => {
    expect(formatProbability(1 / 3)).toBe('0.3333333333');
    expect(formatProbability(0.5)).toBe('0.5000000000');
  });
});

describe('bucketCounts', () => {
  it('uses the smallest modulus that gives every weight exactly its share', () => {
    expect(bucketCounts([80, 20])).toEqual({ modulus: 5, exact: true, counts: [4, 1] });
    expect(bucketCounts([45, 45, 10])).toEqual({ modulus: 20, exact: true, counts: [9, 9, 2] });
    expect(bucketCounts([1, 1, 1])).toEqual({ modulus: 3, exact: true, counts: [1, 1, 1] });
    expect(bucketCounts([99, 1])).toEqual({ modulus: 100, exact: true, counts: [99, 1] });
    expect(bucketCounts([22.5, 22.5, 55])).toEqual({ modulus: 40, exact: true, counts: [9, 9, 22] });
  });

  it('rounds over 1000 values by largest remainder when no small modulus is exact, covering every value once', () => {
    const weights = [
      33 / 7,
      33 / 7,
      33 / 7,
      33 / 7,
      33 / 7,
      33 / 7,
      33 / 7,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
      67 / 11,
    ];
    const b = bucketCounts(weights);
    expect(b.modulus).toBe(MAX_MODULUS);
    expect(b.exact).toBe(false);
    expect(b.counts.reduce((a, c) => a + c, 0)).toBe(MAX_MODULUS);
    b.counts.forEach((c, i) => expect(Math.abs(c - weights[i]! * 10)).toBeLessThan(1));
  });

  it('gives a zero weight no value', () => {
    expect(bucketCounts([0, 100]).counts).toEqual([0, 1]);
  });
});
