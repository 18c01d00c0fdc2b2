import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GO_DURATION_PATTERN, formatDuration, parseDuration, parseDurationMs } from './duration.js';
import { CoreError } from './errors.js';

const H = 3_600_000;
const M = 60_000;

describe('parseDuration reads Go duration syntax', () => {
  it.each([
    ['the default service cert validity "24h"', '24h', 24 * H],
    ['hours and minutes "1h30m"', '1h30m', 90 * M],
    ['fractional hours "1.5h"', '1.5h', 90 * M],
    ['minutes "30m"', '30m', 30 * M],
    ['seconds "90s"', '90s', 90_000],
    ['a decade "87600h"', '87600h', 87_600 * H],
    ['milliseconds "500ms"', '500ms', 500],
    ["Go's own String() output \"1h0m0s\"", '1h0m0s', H],
    ['a leading plus sign "+10m"', '+10m', 10 * M],
    ['zero without a unit "0"', '0', 0],
    ['microseconds "1500us"', '1500us', 1.5],
    ['a micro sign "2µs"', '2µs', 0.002],
    ['fraction without integer part ".5h"', '.5h', 30 * M],
  ])('parses %s', (_name, input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    ['empty input', ''],
    ['blank input', '   '],
    ['a negative value', '-1h'],
    ['a number without unit', '10'],
    ['an unknown unit', '3d'],
    ['words', 'one hour'],
    ['a dangling dot', '.h'],
    ['trailing garbage', '1h30'],
    ['an overflowing value', '9999999999999h'],
  ])('rejects %s with INVALID_DURATION naming the input', (_name, input) => {
    let error: unknown;
    try {
      parseDuration(input);
    } catch (caught) {
      error = caught;
    }
    if (!(error instanceof CoreError)) throw new Error(`expected a CoreError, got ${String(error)}`);
    expect(error.code).toBe('INVALID_DURATION');
    expect(error.retryable).toBe(false);
    expect(error.httpStatus).toBe(400);
    expect(error.message).toContain(JSON.stringify(input));
  });
});

describe('parseDurationMs gives the whole milliseconds every contract stores', () => {
  it.each([
    ['fractional hours "1.1h", which floating point would make 3960000.0000000005', '1.1h', 3_960_000],
    ['fractional hours "2.2h"', '2.2h', 7_920_000],
    ['the default service cert validity "24h"', '24h', 24 * H],
    ['a decade "87600h"', '87600h', 87_600 * H],
    ['half a millisecond "500us", rounded up', '500us', 1],
    ['just under half a millisecond "499999ns", rounded down', '499999ns', 0],
    ['"1.5ms", rounded half up', '1.5ms', 2],
    ['a sub-millisecond tail "10m0.0004s"', '10m0.0004s', 10 * M],
  ])('reads %s', (_name, input, expected) => {
    const ms = parseDurationMs(input);
    expect(ms).toBe(expected);
    expect(Number.isInteger(ms)).toBe(true);
  });

  it('refuses what parseDuration refuses', () => {
    expect(() => parseDurationMs('3d')).toThrow(CoreError);
  });
});

describe("formatDuration prints Go's time.Duration.String()", () => {
  it.each([
    ['a day', 24 * H, '24h0m0s'],
    ['an hour and a half', 90 * M, '1h30m0s'],
    ['ninety seconds', 90_000, '1m30s'],
    ['a decade', 87_600 * H, '87600h0m0s'],
    ['zero', 0, '0s'],
    ['half a second', 500, '500ms'],
    ['one and a half seconds', 1_500, '1.5s'],
    ['1.5 milliseconds', 1.5, '1.5ms'],
    ['two microseconds', 0.002, '2µs'],
    ['a negative minute', -M, '-1m0s'],
  ])('formats %s', (_name, ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it.each(['24h', '1h30m', '1.5h', '30m', '90s', '87600h', '500ms', '1h0m0s'])('round-trips %s through format and parse', (input) => {
    const ms = parseDuration(input);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('GO_DURATION_PATTERN', () => {
  // The pattern is what API documents publish; parseDuration is what the server runs. They must
  // agree on every string, or a document would promise what the server refuses (or the reverse).
  const text = fc.oneof(
    fc.stringMatching(GO_DURATION_PATTERN, { size: 'small' }),
    fc.string({ unit: fc.constantFrom('0', '1', '9', '.', '+', '-', 'h', 'm', 's', 'n', 'u', 'µ', 'μ', ' ', 'x'), maxLength: 12 }),
  );

  it('accepts exactly the strings parseDuration reads (too-large values aside)', () => {
    fc.assert(
      fc.property(text, (input) => {
        let parsed = true;
        try {
          parseDuration(input);
        } catch (error) {
          // A well-formed duration beyond int64 nanoseconds is refused for its size, not its form.
          parsed = error instanceof CoreError && error.message.includes('too large');
        }
        expect(GO_DURATION_PATTERN.test(input), JSON.stringify(input)).toBe(parsed);
      }),
      { numRuns: 2000, seed: 20260101 },
    );
  });
});
