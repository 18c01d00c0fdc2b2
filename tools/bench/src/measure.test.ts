import { describe, expect, it } from 'vitest';
import { driveLanes, measureInterleaved, measureSync, median, nearestRank, percentile, summarize } from './measure.js';

/** A fake clock that advances 1 ms per reading, so results are exact. */
function fakeClock(): () => number {
  let t = 0;
  return () => t++;
}

describe('bench measurement', () => {
  it('stops at the op bound for slow scenarios', () => {
    let calls = 0;
    const result = measureSync('slow', () => calls++, { durationMs: 1_000_000, maxOps: 5, warmupMs: 0, now: fakeClock() });
    expect(result.ops).toBe(5);
    expect(result.scenario).toBe('slow');
  });

  it('stops at the time bound and reports ops per second', () => {
    const result = measureSync('fast', () => undefined, { durationMs: 100, warmupMs: 0, now: fakeClock() });
    // One clock reading per loop check: ~100 ops in ~100 ms -> ~1000 ops/s.
    expect(result.ops).toBeGreaterThan(90);
    expect(result.ops_per_sec).toBeGreaterThan(900);
    expect(result.ops_per_sec).toBeLessThan(1100);
  });

  it('gives interleaved scenarios the same measured time each', () => {
    const [a, b] = measureInterleaved(
      [{ scenario: 'a', op: () => undefined }, { scenario: 'b', op: () => undefined }],
      { durationMs: 200, sliceMs: 20, warmupMs: 0, now: fakeClock() },
    );
    expect(a?.duration_ms).toBeGreaterThanOrEqual(200);
    expect(b?.duration_ms).toBeGreaterThanOrEqual(200);
    expect(Math.abs((a?.duration_ms ?? 0) - (b?.duration_ms ?? 0))).toBeLessThanOrEqual(25);
  });

  it.each([
    ['both targets met', 8000, 10000, 100, true],
    ['too slow against the crypto floor', 5000, 10000, 100, false],
    ['not 30x faster than @peculiar/x509', 8000, 10000, 300, false],
  ])('summary: %s', (_name, ours, floor, peculiar, met) => {
    expect(summarize(ours, floor, peculiar).targets_met).toBe(met);
  });

  it('takes the median of rounds: the middle value, the mean of the middle two, NaN for none', () => {
    expect(median([1700, 1200, 1500])).toBe(1500);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('driveLanes counts every step of every lane, whatever order the lanes finish their steps in', async () => {
    let steps = 0;
    let turn = 0;
    const done = await driveLanes(4, 30, async () => {
      steps += 1;
      // Lanes take turns at different depths, so their steps end interleaved.
      turn += 1;
      for (let i = 0; i < turn % 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
      return 2;
    });
    expect(steps).toBeGreaterThan(4);
    expect(done).toBe(steps * 2);
  });
});

describe('percentiles', () => {
  it('takes the nearest rank: the smallest value with at least that share at or below it', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect([nearestRank(values, 0.5), nearestRank(values, 0.99), nearestRank(values, 0.999), nearestRank(values, 1)]).toEqual([500, 990, 999, 1000]);
    expect(nearestRank([7], 0.99)).toBe(7);
    expect(nearestRank([], 0.5)).toBeNaN();
  });

  it('sorts a copy of values in any order, and leaves them as they were', () => {
    const values = [40, 10, 30, 20];
    // Nearest rank of 4 values: p50 is the 2nd (20), p90 the 4th (40); a floor rank would say 30 for p50.
    expect([percentile(values, 0.5), percentile(values, 0.9), percentile(values, 0.25)]).toEqual([20, 40, 10]);
    expect(values).toEqual([40, 10, 30, 20]);
  });
});
