// Helpers that keep a batch from monopolising the event loop. Issuing is CPU-bound (key
// generation, signing) between Redis round trips; if a whole batch signed in one go, BullMQ's
// lock-renewal timer could not run and the job would be declared stalled while still working.
import { Worker, type Job } from 'bullmq';
import type { JobJson } from 'bullmq';

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

/**
 * A BullMQ worker that does not search for more work right after taking a job out of a blocking
 * wait. BullMQ 6's main loop, having taken a job, asks Redis for another (moveToActive) to fill its
 * concurrency. After a blocking wait that search is wasted: taking a job always puts the queue's
 * marker back (moveToActive's prepareJobForProcessing calls addBaseMarkerIfNeeded), so the loop
 * then pops that marker at once and searches a third time before it blocks. A lone job cost three
 * moveToActive calls and two BZPOPMINs, the first two sent on the processor's event loop just as
 * it starts. Here the first of those searches is answered "drained" without asking: the loop goes
 * straight to its blocking wait, which the marker ends at once, and the search after it finds any
 * job added meanwhile. So no job is left waiting, and a lone job costs two moveToActive calls.
 * Jobs taken by a search or by moveToFinished's fetch-next (a busy queue) keep BullMQ's own fill.
 */
export class MarkerAwareWorker<D, R, N extends string = string> extends Worker<D, R, N> {
  /** The next job taken comes out of a blocking wait (BZPOPMIN returned). */
  private afterWait = false;
  private skipNextFill = false;

  protected override getBlockTimeout(blockUntil: number): number {
    // Called by BullMQ just before it blocks on the marker.
    this.afterWait = true;
    return super.getBlockTimeout(blockUntil);
  }

  protected override async nextJobFromJobData(jobData?: JobJson, jobId?: string, token?: string): Promise<Job<D, R, N>> {
    const tookJob = jobData !== undefined && jobData !== null;
    this.skipNextFill = this.afterWait && tookJob;
    this.afterWait = false;
    return super.nextJobFromJobData(jobData, jobId, token);
  }

  protected override moveToActive(token: string, name?: string): Promise<Job<D, R, N>> {
    if (this.skipNextFill) {
      this.skipNextFill = false;
      // "No job": BullMQ marks itself drained, so its next fetch is the blocking wait.
      return this.nextJobFromJobData(undefined, undefined, token);
    }
    return super.moveToActive(token, name);
  }
}
