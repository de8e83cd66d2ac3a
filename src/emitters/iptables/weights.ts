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
  /** Per weight, its inclusive bucket range, or undefined for a weight that gets no bucket. */
  readonly ranges: readonly ({ readonly from: number; readonly to: number } | undefined)[];
  /** True when every weight got exactly its share (no rounding). */
  readonly exact: boolean;
}

/**
 * Splits `modulus` buckets over the weights in proportion (largest remainder). The smallest of 100,
 * 1000 and 10000 that divides every share exactly is used; otherwise 10000 with rounding.
 */
export function bucketRanges(weights: readonly number[]): Buckets {
  const total = weights.reduce((a, b) => a + b, 0);
  const exactFor = (m: number) =>
    weights.every((w) => Math.abs((w * m) / total - Math.round((w * m) / total)) < 1e-9);
  const modulus = [100, 1000, 10000].find(exactFor) ?? 10000;
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
  let next = 0;
  const ranges = counts.map((c) => {
    if (c === 0) return undefined;
    const r = { from: next, to: next + c - 1 };
    next += c;
    return r;
  });
  return { modulus, ranges, exact: exactFor(modulus) };
}
