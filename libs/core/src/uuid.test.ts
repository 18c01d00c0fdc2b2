import { describe, expect, it } from 'vitest';
import { randomUuid } from './uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomUuid', () => {
  it('returns lower-case version 4 UUIDs, across pool refills', () => {
    for (let i = 0; i < 1_000; i += 1) {
      const id = randomUuid();
      expect(id).toMatch(V4);
    }
  });

  it('never repeats, and each of the 122 random bits takes both values', () => {
    const ids = Array.from({ length: 20_000 }, () => randomUuid());
    expect(new Set(ids).size).toBe(ids.length);
    const hex = ids.map((id) => id.replaceAll('-', ''));
    // Every hex digit position that is not fixed (version, variant's top bits) sees many values.
    for (let at = 0; at < 32; at += 1) {
      const seen = new Set(hex.map((h) => h[at]));
      expect(seen.size, `digit ${at}`).toBe(at === 12 ? 1 : at === 16 ? 4 : 16);
    }
  });
});
