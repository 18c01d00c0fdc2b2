// Retry pacing after a failure: exponential, capped, with "equal jitter" (half the delay fixed,
// half random) so a mesh of agents that lost the gateway together does not come back in step,
// and no retry is ever immediate.
import type { RandomSource } from '@fsm-certs/core';

export interface BackoffPolicy {
  /** Delay before the first retry; default 1 s. */
  readonly initialMs: number;
  /** The cap of the exponential growth; default 60 s. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000 };

/** The wait before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: RandomSource): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
