import { describe, expect, it } from 'vitest';
import { pooledRandomBytes, pooledRandomUint } from './random-pool.js';

describe('pooledRandomUint', () => {
  it('draws integers of the asked width whose every bit takes both values, across pool refills', () => {
    for (const bytes of [1, 3, 6]) {
      const seen = Array.from({ length: 8 * bytes }, () => new Set<number>());
      for (let i = 0; i < 3_000; i += 1) {
        const n = pooledRandomUint(bytes);
        expect(Number.isSafeInteger(n) && n >= 0 && n < 2 ** (8 * bytes)).toBe(true);
        for (let bit = 0; bit < 8 * bytes; bit += 1) seen[bit]?.add(Math.floor(n / 2 ** bit) % 2);
      }
      expect(seen.map((values) => values.size)).toEqual(seen.map(() => 2));
    }
  });

  it('never hands out bytes another draw got', () => {
    const view = pooledRandomBytes(4);
    const before = Buffer.from(view);
    const next = pooledRandomUint(4);
    expect(view).toEqual(before);
    // Bytes straight after the view's: equal only by chance (2^-32), never because they overlap.
    expect(next).not.toBe(before.readUInt32BE(0));
  });

  it('refuses a width it cannot return exactly', () => {
    for (const bytes of [0, 7, 1.5]) expect(() => pooledRandomUint(bytes)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});
