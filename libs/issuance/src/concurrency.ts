// Helpers that keep a batch from monopolising the event loop. Issuing is CPU-bound (key
// generation, signing) between Redis round trips; if a whole batch signed in one go, BullMQ's
// lock-renewal timer could not run and the job would be declared stalled while still working.

/** Lets timers and I/O callbacks run before the next CPU-heavy step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Maps with at most `limit` calls in flight, preserving order; work progresses item by item. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    for (;;) {
      const index = next;
      next += 1;
      if (index >= items.length) return;
      // Indexes below items.length always hold an element; the cast-free check keeps TS honest.
      const value = items[index];
      if (value === undefined) continue;
      results[index] = await fn(value, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Runs synchronous CPU-heavy sections one at a time, each in its own event-loop turn, so timers
 * (lock renewal, heartbeat) get a turn between any two of them. Concurrent lanes that merely
 * yielded would all resume in the same turn and sign back to back.
 */
export class CpuGate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => T): Promise<T> {
    const result = this.tail.then(async () => {
      await yieldToEventLoop();
      return section();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
