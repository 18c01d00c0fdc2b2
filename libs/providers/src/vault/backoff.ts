// Capped exponential backoff with jitter for transient Vault failures (network errors, 5xx,
// sealed). Bounded attempts; sleep and randomness are injectable so tests run instantly.
import { onAbort } from './abort-fanout.js';

export interface RetryPolicy {
  /** Total tries including the first; 1 disables retries. Default 3. */
  readonly maxAttempts: number;
  /** Delay before the 2nd try, doubled each time. Default 200 ms. */
  readonly baseDelayMs: number;
  /** Upper bound of one delay. Default 2 s. */
  readonly maxDelayMs: number;
}

/**
 * Short on purpose: these retries ride out a blip (a leader change, a reset connection) in well
 * under a second. A longer outage is answered 503 + Retry-After at once — the caller retries —
 * instead of holding requests while retries stack (ours, the job's, the caller's).
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Delay after failed attempt number `attempt` (1-based): "equal jitter" — half the capped
 * exponential step is fixed, half random — so replicas that failed together spread out but a
 * retry never fires immediately.
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const half = exponential / 2;
  return Math.round(half + random() * half);
}

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    // Through the fan-out: in an outage every item of a job backs off on the same signal at once.
    const unsubscribe =
      signal === undefined
        ? () => undefined
        : onAbort(signal, () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, ms);
  });
