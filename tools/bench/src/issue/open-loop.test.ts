import { describe, expect, it } from 'vitest';
import { loadResult } from './load.js';
import { poissonArrivals, runOpenLoop, type LoadTimer } from './open-loop.js';

/** Virtual time: each sleep is a timer; the earliest pending one fires next, once everything runnable has run. */
function virtualTimer(): LoadTimer & { after(ms: number): Promise<void> } {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const advance = (): void => {
    timers.sort((a, b) => a.at - b.at);
    const timer = timers.shift();
    if (timer === undefined) return;
    now = Math.max(now, timer.at);
    timer.fire();
  };
  const after = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      timers.push({ at: now + ms, fire: resolve });
      setImmediate(advance);
    });
  return { now: () => now, sleep: after, after };
}

describe('poissonArrivals', () => {
  it('gives the offered rate times the duration arrivals, within four standard deviations, for every seed', () => {
    // 1,000/s for 10 s: Poisson with mean 10,000 and standard deviation 100.
    for (let seed = 1; seed <= 20; seed++) {
      const times = poissonArrivals({ ratePerSecond: 1000, durationMs: 10_000, seed });
      expect(times.length).toBeGreaterThan(9_600);
      expect(times.length).toBeLessThan(10_400);
    }
  });

  it('spaces arrivals by exponential gaps: as many gaps above the mean as e^-1 of them, within its bound', () => {
    const times = poissonArrivals({ ratePerSecond: 500, durationMs: 20_000, seed: 3 });
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    const share = gaps.filter((g) => g > 2).length / gaps.length;
    // Binomial over ~10,000 gaps at p = 0.368: standard deviation ~0.005.
    expect(share).toBeGreaterThan(Math.exp(-1) - 0.02);
    expect(share).toBeLessThan(Math.exp(-1) + 0.02);
  });

  it('repeats the same times for the same seed and others for another seed', () => {
    const a = poissonArrivals({ ratePerSecond: 2000, durationMs: 1000, seed: 11 });
    expect(poissonArrivals({ ratePerSecond: 2000, durationMs: 1000, seed: 11 })).toEqual(a);
    expect(poissonArrivals({ ratePerSecond: 2000, durationMs: 1000, seed: 12 })).not.toEqual(a);
  });

  it('stops at the arrival bound and inside the duration, in ascending order', () => {
    const bounded = poissonArrivals({ ratePerSecond: 1000, durationMs: 10_000, seed: 5, maxArrivals: 250 });
    expect(bounded).toHaveLength(250);
    const times = poissonArrivals({ ratePerSecond: 1000, durationMs: 2_000, seed: 5 });
    expect(times.every((t, i) => t >= 0 && t < 2_000 && (i === 0 || t >= (times[i - 1] ?? 0)))).toBe(true);
  });

  it('refuses a rate that is not above zero', () => {
    expect(() => poissonArrivals({ ratePerSecond: 0, durationMs: 1000, seed: 1 })).toThrow(/above 0/);
  });
});

describe('percentiles', () => {
  it('reports p99.9 only when at least 1,000 answers can say it', () => {
    const many = loadResult({ latencies: Array.from({ length: 2000 }, (_, i) => 2000 - i), errors: 0, seconds: 2, firstError: undefined });
    expect(many).toMatchObject({ requests: 2000, throughput: 1000, p50Ms: 1000, p99Ms: 1980, p999Ms: 1998 });
    expect(loadResult({ latencies: [1, 2, 3], errors: 1, seconds: 1, firstError: 'boom' })).not.toHaveProperty('p999Ms');
  });
});

describe('runOpenLoop', () => {
  it('sends every arrival at its time whatever the answers, and times each from its arrival', async () => {
    const timer = virtualTimer();
    const times = poissonArrivals({ ratePerSecond: 200, durationMs: 5_000, seed: 9 });
    const sentAt: number[] = [];
    // Every request takes 3 ms and one in ten takes 40: they overlap, and none holds the next back.
    const result = await runOpenLoop({
      ratePerSecond: 200,
      durationMs: 5_000,
      seed: 9,
      maxOutstanding: 1000,
      timer,
      request: (seq) => {
        sentAt.push(timer.now());
        return timer.after(seq % 10 === 9 ? 40 : 3);
      },
    });
    expect(sentAt).toHaveLength(times.length);
    // The virtual timer fires on time: each request left at its arrival time exactly.
    sentAt.forEach((t, i) => expect(t).toBeCloseTo(times[i] ?? NaN, 9));
    expect(result).toMatchObject({ offeredPerSecond: 200, arrivals: times.length, requests: times.length, errors: 0, dropped: 0, unfinished: 0 });
    expect(result.p50Ms).toBeCloseTo(3, 9);
    expect(result.p99Ms).toBeCloseTo(40, 9);
    expect(result.startLagP99Ms).toBeCloseTo(0, 9);
    expect(result.peakOutstanding).toBeGreaterThan(1);
  });

  it('counts arrivals beyond the outstanding bound as dropped instead of waiting for an answer', async () => {
    const timer = virtualTimer();
    let sent = 0;
    let open = 0;
    let mostOpen = 0;
    // 1,000/s against requests of 100 ms: about 100 would be unanswered at once; the bound is 10.
    const result = await runOpenLoop({
      ratePerSecond: 1000,
      durationMs: 1_000,
      seed: 4,
      maxOutstanding: 10,
      timer,
      request: async () => {
        sent += 1;
        open += 1;
        mostOpen = Math.max(mostOpen, open);
        await timer.after(100);
        open -= 1;
      },
    });
    expect(mostOpen).toBe(10);
    expect(result.peakOutstanding).toBe(10);
    expect(result.dropped).toBeGreaterThan(0);
    expect(result.dropped + sent).toBe(result.arrivals);
    expect(result.requests).toBe(sent);
    // Nothing waited for a free place: every request still took its 100 ms from its own arrival.
    expect(result.p99Ms).toBeCloseTo(100, 9);
  });

  it('counts failures and, past the drain bound, requests never answered', async () => {
    const timer = virtualTimer();
    const result = await runOpenLoop({
      ratePerSecond: 100,
      durationMs: 1_000,
      seed: 2,
      maxOutstanding: 1000,
      drainMs: 500,
      timer,
      request: async (seq) => {
        if (seq === 0) return new Promise<void>(() => undefined);
        if (seq % 2 === 0) throw new Error(`refused ${seq}`);
        await timer.after(1);
      },
    });
    expect(result.unfinished).toBe(1);
    expect(result.errors).toBe(Math.floor((result.arrivals - 1) / 2));
    expect(result.firstError).toBe('refused 2');
    expect(result.requests + result.errors + result.unfinished).toBe(result.arrivals);
  });

  it('warms up on a stream of its own and measures the same stream as without it', async () => {
    const plain = virtualTimer();
    const cold = await runOpenLoop({ ratePerSecond: 300, durationMs: 2_000, seed: 8, maxOutstanding: 100, timer: plain, request: () => plain.after(2) });
    const warmClock = virtualTimer();
    const seqs: number[] = [];
    let measuring = false;
    let measuredFrom = -1;
    const warm = await runOpenLoop({
      ratePerSecond: 300,
      durationMs: 2_000,
      warmupMs: 1_000,
      seed: 8,
      maxOutstanding: 100,
      timer: warmClock,
      onMeasureStart: () => (measuring = true),
      request: (seq) => {
        seqs.push(seq);
        if (measuring && measuredFrom < 0) measuredFrom = seq;
        return warmClock.after(2);
      },
    });
    expect(warm.arrivals).toBe(cold.arrivals);
    expect(warm.requests).toBe(cold.requests);
    // Names never repeat: the measured stream's numbers follow the warm-up's.
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(measuredFrom).toBeGreaterThan(200);
  });
});
