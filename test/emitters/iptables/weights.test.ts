import { describe, expect, it } from 'vitest';
import {
  bucketRanges,
  conditionalProbabilities,
  formatProbability,
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

describe('bucketRanges', () => {
  it('uses mod 100 when every weight is a whole percent', () => {
    expect(bucketRanges([80, 20])).toEqual({
      modulus: 100,
      exact: true,
      ranges: [
        { from: 0, to: 79 },
        { from: 80, to: 99 },
      ],
    });
  });

  it('uses a finer modulus when a share needs it', () => {
    expect(bucketRanges([45, 45, 5, 5]).modulus).toBe(100);
    expect(bucketRanges([22.5, 22.5, 55])).toMatchObject({ modulus: 1000, exact: true });
  });

  it('rounds thirds over 10000 buckets by largest remainder, covering every bucket once', () => {
    const b = bucketRanges([1, 1, 1]);
    expect(b).toMatchObject({ modulus: 10000, exact: false });
    expect(b.ranges).toEqual([
      { from: 0, to: 3333 },
      { from: 3334, to: 6666 },
      { from: 6667, to: 9999 },
    ]);
  });

  it('gives a zero weight no bucket', () => {
    expect(bucketRanges([0, 100]).ranges).toEqual([undefined, { from: 0, to: 99 }]);
  });
});
