import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

describe('backoffDelay', () => {
  const policy = { initialMs: 1_000, maxMs: 8_000 };
  it.each([
    { attempt: 1, random: 0, ms: 500 },
    { attempt: 1, random: 1, ms: 1_000 },
    { attempt: 2, random: 0, ms: 1_000 },
    { attempt: 3, random: 1, ms: 4_000 },
    { attempt: 4, random: 0.5, ms: 6_000 },
    { attempt: 5, random: 1, ms: 8_000 },
    { attempt: 50, random: 0, ms: 4_000 },
  ])('waits $ms ms before retry $attempt when the random draw is $random', ({ attempt, random, ms }) => {
    expect(backoffDelay(attempt, policy, () => random)).toBe(ms);
  });

  it('never exceeds the cap and never retries at once, whatever the draw', () => {
    for (let attempt = 1; attempt < 100; attempt += 1) {
      for (const r of [0, 0.3, 0.99, 1, -1, 2]) {
        const ms = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
        expect(ms).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
        expect(ms).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.initialMs / 2);
      }
    }
  });
});
