// Renewals give way to interactive issuance (issue 15). Both run in one ca-service process and
// share its CPU: a mass renewal running on every lane of the rotate worker doubles the signing
// work an interactive request queues behind. While any issue job is in flight here, renewals
// shrink to `whileInteractive` lanes (default 1: they never stop, so a storm still finishes in
// its window under constant load); once the last issue job ends they take all their lanes again.
// Event-driven: a renewal waiting for a lane is woken by the job that frees one, or by the end
// of interactive work, never by a timer.

export interface RenewalYieldOptions {
  /** Renewals allowed at once when nothing interactive runs (the rotate worker's concurrency). */
  readonly lanes: number;
  /** Renewals allowed at once while an issue job is in flight; default 1. */
  readonly whileInteractive?: number;
}

/** A BullMQ processor: the job, its lock token and the signal that cancels it. */
type Processor<J, R> = (job: J, token?: string, signal?: AbortSignal) => Promise<R>;

export class RenewalYield {
  private interactive = 0;
  private renewing = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly lanes: number;
  private readonly whileInteractive: number;

  constructor(options: RenewalYieldOptions) {
    this.lanes = Math.max(1, Math.floor(options.lanes));
    this.whileInteractive = Math.min(this.lanes, Math.max(0, Math.floor(options.whileInteractive ?? 1)));
  }

  /**
   * Wraps the issue processor: its jobs count as interactive work while they run. The wrapper
   * declares all three parameters because BullMQ hands a processor the cancellation signal only
   * when its `length` is 3 or more (worker.cancelAllJobs on shutdown depends on it).
   */
  interactiveWork<J, R>(processor: Processor<J, R>): Processor<J, R> {
    return async (job: J, token?: string, signal?: AbortSignal): Promise<R> => {
      this.interactive += 1;
      try {
        return await processor(job, token, signal);
      } finally {
        this.interactive -= 1;
        this.wake();
      }
    };
  }

  /**
   * Waits for a renewal lane; resolves with the function that frees it. Rejects with the signal's
   * reason if it aborts first (the job is then handed back, see cancelled-job.ts).
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const release = (): void => {
      this.renewing -= 1;
      this.wake();
    };
    if (this.waiting.length === 0 && this.renewing < this.limit()) {
      this.renewing += 1;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const take = (): void => {
        signal?.removeEventListener('abort', abort);
        this.renewing += 1;
        resolve(once(release));
      };
      const abort = (): void => {
        const at = this.waiting.indexOf(take);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('renewal cancelled while waiting for a lane'));
      };
      if (signal?.aborted === true) {
        abort();
        return;
      }
      signal?.addEventListener('abort', abort, { once: true });
      this.waiting.push(take);
    });
  }

  /** What runs and waits now (for /metrics-style introspection and tests). */
  get state(): { readonly interactive: number; readonly renewing: number; readonly waitingRenewals: number; readonly limit: number } {
    return { interactive: this.interactive, renewing: this.renewing, waitingRenewals: this.waiting.length, limit: this.limit() };
  }

  private limit(): number {
    return this.interactive > 0 ? this.whileInteractive : this.lanes;
  }

  private wake(): void {
    while (this.renewing < this.limit()) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      next();
    }
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
