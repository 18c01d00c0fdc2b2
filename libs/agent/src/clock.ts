// Time for the agent: core's Clock plus a way to wait on it, so a test can move the agent's
// time past a certificate's renewAt (ManualClock.advance) instead of waiting hours. Every wait
// of the agent — the renewal, the backoff between retries — goes through `sleep`.
import type { Clock } from '@fsm-certs/core';

export interface AgentClock extends Clock {
  /** Resolves after `ms` of this clock's time, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** setTimeout's delay is a signed 32-bit number of ms (~24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemAgentClock: AgentClock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const deadline = Date.now() + Math.max(0, ms);
      let timer: NodeJS.Timeout;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const arm = (): void => {
        const left = deadline - Date.now();
        if (left <= 0) return done();
        timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      signal.addEventListener('abort', done, { once: true });
      arm();
    });
  },
};

interface Sleeper {
  readonly until: number;
  readonly resolve: () => void;
}

/**
 * A clock that moves only when told to. Sleepers wake when `advance`/`set` passes their
 * deadline; `sleepers` tells a test that the agent is waiting (so advancing now means something).
 */
export class ManualClock implements AgentClock {
  private current: number;
  private readonly waiting = new Set<Sleeper>();

  constructor(startMs: number = Date.now()) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  /** How many waits are pending on this clock. */
  get sleepers(): number {
    return this.waiting.size;
  }

  /** The earliest pending deadline, if any. */
  get nextWake(): number | undefined {
    let next: number | undefined;
    for (const s of this.waiting) if (next === undefined || s.until < next) next = s.until;
    return next;
  }

  advance(ms: number): void {
    this.set(this.current + ms);
  }

  set(ms: number): void {
    this.current = Math.max(this.current, ms);
    for (const sleeper of [...this.waiting]) {
      if (sleeper.until <= this.current) {
        this.waiting.delete(sleeper);
        sleeper.resolve();
      }
    }
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || ms <= 0) return resolve();
      const sleeper: Sleeper = {
        until: this.current + ms,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.waiting.delete(sleeper);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(sleeper);
    });
  }
}
