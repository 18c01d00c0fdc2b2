// The CPU gate and the bounded map: a long batch of synchronous work must leave room for
// timers (BullMQ renews job locks from a timer), and results keep their order.
import { describe, expect, it } from 'vitest';
import { CpuGate, mapWithConcurrency } from './concurrency.js';

describe('CpuGate', () => {
  it('runs queued CPU work in event-loop turns of at most its budget, so timers and I/O get a turn between them', async () => {
    let now = 0;
    const gate = new CpuGate(10, () => now);
    const order: string[] = [];
    let done = false;
    // Stands for everything else the process must do (a lock renewal, a socket read): it asks for
    // a turn of the event loop, again and again, while the work lasts.
    const otherWork = (): void => {
      if (done) return;
      order.push('other');
      setImmediate(otherWork);
    };
    setImmediate(otherWork);
    // Forty lanes queue 8 ms sections at once, as a batch of key generations would.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        gate.run(() => {
          now += 8;
          order.push(`section ${i}`);
        }),
      ),
    );
    done = true;
    const turns = order.join(',').split('other').map((turn) => turn.split(',').filter((entry) => entry !== ''));
    // 10 ms of budget: a turn runs one 8 ms section, and a second because the first left 2 ms.
    expect(Math.max(...turns.map((t) => t.length))).toBe(2);
    expect(turns.flat()).toHaveLength(40);
  });

  it('gives other work a turn after a section that spent the budget, then runs the rest in order', async () => {
    let now = 0;
    const gate = new CpuGate(10, () => now);
    const order: string[] = [];
    const first = gate.run(() => {
      now += 12;
      order.push('first');
    });
    setImmediate(() => order.push('other'));
    const second = gate.run(() => order.push('second'));
    const third = gate.run(() => order.push('third'));
    await Promise.all([first, second, third]);
    expect(order).toEqual(['first', 'other', 'second', 'third']);
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
      // Finishes n event-loop turns later: lanes finish out of order.
      for (let turn = 0; turn < n; turn++) await new Promise((r) => setImmediate(r));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
  });
});
