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
 * Runs synchronous CPU-heavy sections one at a time, in event-loop turns of at most `budgetMs`
 * of such work, so timers (lock renewal, heartbeat) and I/O get a turn between slices. Lanes
 * that merely yielded would all resume in the same turn and sign back to back for seconds.
 */
export class CpuGate {
  private readonly queue: Array<() => void> = [];
  private scheduled = false;

  /**
   * @param budgetMs CPU time one turn may spend on queued sections; default 10 ms.
   * @param now Milliseconds clock the budget is measured with (tests pass their own).
   */
  constructor(
    private readonly budgetMs = 10,
    private readonly now: () => number = () => performance.now(),
  ) {}

  run<T>(section: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        try {
          resolve(section());
        } catch (error) {
          reject(error);
        }
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const start = this.now();
    // Always run at least one section per turn, then more while the budget lasts.
    do {
      const next = this.queue.shift();
      if (next === undefined) return;
      next();
    } while (this.now() - start < this.budgetMs);
    if (this.queue.length > 0) this.schedule();
  }
}
