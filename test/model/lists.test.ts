import { describe, expect, it } from 'vitest';
import { fitted } from '../../src/model/lists.js';

describe('fitted', () => {
  it('copies a short list built by push to one of its own length, with the same items', () => {
    for (let n = 1; n < 17; n++) {
      const built: { i: number }[] = [];
      for (let i = 0; i < n; i++) built.push({ i });
      const out = fitted(built);
      expect(out).not.toBe(built);
      expect(out).toEqual(built);
      // the items themselves are shared, not copied
      expect(out.every((x, i) => x === built[i])).toBe(true);
    }
  });

  it('keeps an empty list and a long one as they are (no room to give back, or little)', () => {
    const empty: number[] = [];
    expect(fitted(empty)).toBe(empty);
    const long = Array.from({ length: 17 }, (_, i) => i);
    expect(fitted(long)).toBe(long);
  });
});
