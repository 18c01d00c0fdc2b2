// The CPU gate and the bounded map: a long batch of synchronous work must leave room for
// timers (BullMQ renews job locks from a timer), and results keep their order.
import { describe, expect, it } from 'vitest';
import { CpuGate, mapWithConcurrency } from './concurrency.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // burn CPU like key generation does
  }
}

describe('CpuGate', () => {
  it('lets a timer fire between sections even when many lanes queue CPU work at once', async () => {
    const gate = new CpuGate(10);
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    const start = performance.now();
    await Promise.all(Array.from({ length: 40 }, () => gate.run(() => busy(8))));
    clearInterval(timer);
    const elapsed = performance.now() - start;
    // ~320 ms of CPU work: a gate-less run would block the timer for all of it.
    expect(elapsed).toBeGreaterThan(300);
    const gaps = ticks.map((t, i) => t - (ticks[i - 1] ?? start));
    expect(ticks.length).toBeGreaterThan(8);
    expect(Math.max(...gaps)).toBeLessThan(150);
  });

  it('passes results and errors of each section back to its caller', async () => {
    const gate = new CpuGate();
    const ok = gate.run(() => 42);
    const failed = gate.run(() => {
      throw new Error('sign failed');
    });
    const after = gate.run(() => 'still running');
    await expect(ok).resolves.toBe(42);
    await expect(failed).rejects.toThrow('sign failed');
    await expect(after).resolves.toBe('still running');
  });
});

describe('mapWithConcurrency', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
  });
});
