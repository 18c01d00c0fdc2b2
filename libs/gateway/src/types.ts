// Small shared types of the gateway lib.

/** Injected so tests control time (rate limits, latency, renewAt comparisons). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
