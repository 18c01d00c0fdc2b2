import { describe, expect, it } from 'vitest';
import { computeRenewAt } from './renew-at.js';

const HOUR = 3_600_000;
const notBefore = new Date('2030-01-01T00:00:00Z');
const notAfter = new Date(notBefore.getTime() + 24 * HOUR);

describe('computeRenewAt', () => {
  it('starts renewal at the last third of the lifetime when the jitter is zero', () => {
    expect(computeRenewAt(notBefore, notAfter, () => 0).toISOString()).toBe('2030-01-01T16:00:00.000Z');
  });

  it('moves renewal earlier by at most half the window with full jitter', () => {
    expect(computeRenewAt(notBefore, notAfter, () => 1).toISOString()).toBe('2030-01-01T12:00:00.000Z');
  });

  it('clamps a random source outside [0, 1] to the window', () => {
    expect(computeRenewAt(notBefore, notAfter, () => -5).toISOString()).toBe('2030-01-01T16:00:00.000Z');
    expect(computeRenewAt(notBefore, notAfter, () => 7).toISOString()).toBe('2030-01-01T12:00:00.000Z');
  });

  it('answers notBefore for a certificate with no lifetime, so it is due at once', () => {
    expect(computeRenewAt(notBefore, notBefore, () => 0.5).getTime()).toBe(notBefore.getTime());
  });

  it('spreads certificates issued together across the window', () => {
    let state = 1;
    const random = (): number => ((state = (state * 16807) % 2147483647) - 1) / 2147483646;
    const times = new Set(Array.from({ length: 100 }, () => computeRenewAt(notBefore, notAfter, random).getTime()));
    expect(times.size).toBeGreaterThan(90);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(notBefore.getTime() + 12 * HOUR);
      expect(t).toBeLessThanOrEqual(notBefore.getTime() + 16 * HOUR);
    }
  });
});
