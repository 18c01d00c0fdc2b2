// Time and randomness are injected so tests are deterministic; production uses these.

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Uniform in [0, 1); used for renewal jitter and spreads. */
export type RandomSource = () => number;

export const defaultRandom: RandomSource = Math.random;
