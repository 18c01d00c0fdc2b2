// Per-token token bucket: `ratePerSec` refills per second up to `burst`. One bucket per token
// name; the set of names comes from config, so the map is bounded.
import type { Clock } from '@fsm-certs/core';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** When not allowed: seconds until one request's worth has refilled. */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly clock: Clock,
    burst?: number,
  ) {
    if (!(ratePerSec > 0)) throw new Error('ratePerSec must be > 0');
    this.burst = burst ?? ratePerSec * 2;
  }

  take(key: string): RateLimitDecision {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
      bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.ratePerSec);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSec)) };
  }
}
