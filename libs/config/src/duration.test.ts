import { describe, expect, it } from 'vitest';
import { parseGoDurationMs } from './duration.js';

describe('parseGoDurationMs reads Go duration syntax', () => {
  it.each([
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['87600h', 87_600 * 3_600_000],
    ['24h0m0s', 86_400_000],
    ['0', 0],
  ])('%s is %d ms', (input, ms) => {
    expect(parseGoDurationMs(input)).toBe(ms);
  });

  it.each(['', '1 day', '24', 'h', '1hh', '1.5.h', '10x'])('refuses %j', (input) => {
    expect(parseGoDurationMs(input)).toBeUndefined();
  });
});
