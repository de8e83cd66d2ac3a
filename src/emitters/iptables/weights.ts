/**
 * Turning the mesh's percentages into what netfilter can draw: iptables' `statistic` match tries the
 * endpoints in order, each with a conditional probability; nftables' `numgen random mod M` picks a
 * bucket, each endpoint owning a range of buckets.
 */

/**
 * The conditional probabilities kube-proxy writes: p_i = w_i / (w_i + ... + w_n). Taking endpoint
 * i with p_i after endpoints 1..i-1 were passed over gives it w_i / sum(w) overall. The last is 1.
 */
export function conditionalProbabilities(weights: readonly number[]): number[] {
  const out: number[] = [];
  let rest = weights.reduce((a, b) => a + b, 0);
  for (const w of weights) {
    out.push(rest > 0 ? w / rest : 0);
    rest -= w;
  }
  return out;
}

/** `%0.10f`, as kube-proxy prints the probability (iptables reads it into 31 bits anyway). */
export function formatProbability(p: number): string {
  return p.toFixed(10);
}

export interface Buckets {
  /** The `mod` of `numgen random mod M`. */
  readonly modulus: number;
  /** Per weight, how many of the M values draw it (0 for a weight that gets none). */
  readonly counts: readonly number[];
  /** True when every weight got exactly its share (no rounding). */
  readonly exact: boolean;
}

/** The largest modulus tried for an exact split; beyond it, shares are rounded to 1/1000. */
export const MAX_MODULUS = 1000;

/**
 * The smallest M for which `numgen random mod M` gives every weight exactly its share (45/45/10 is
 * mod 20, thirds are mod 3), so each service's map has few elements. When no M up to MAX_MODULUS is
 * exact, M = MAX_MODULUS and the shares are rounded by largest remainder.
 */
export function bucketCounts(weights: readonly number[]): Buckets {
  const total = weights.reduce((a, b) => a + b, 0);
  const whole = (x: number) => Math.abs(x - Math.round(x)) < 1e-9;
  let modulus = MAX_MODULUS;
  for (let m = 1; m <= MAX_MODULUS; m++)
    if (weights.every((w) => whole((w * m) / total))) {
      modulus = m;
      break;
    }
  const shares = weights.map((w) => (w * modulus) / total);
  const counts = shares.map((s) => Math.floor(s + 1e-9));
  let left = modulus - counts.reduce((a, b) => a + b, 0);
  const order = shares.map((s, i) => ({ i, r: s - counts[i]! })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    if (weights[i]! > 0) {
      counts[i]!++;
      left--;
    }
  }
  return { modulus, counts, exact: weights.every((w) => whole((w * modulus) / total)) };
}
