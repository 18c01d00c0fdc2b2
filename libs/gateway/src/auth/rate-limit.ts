// Token buckets: `ratePerSec` refills per second up to a burst of twice that. The in-process
// bucket here limits failed authentications per client address (a bounded map: the oldest
// address is forgotten first); redis-rate-limit.ts shares callers' buckets across replicas.
import type { Clock } from '@fsm-certs/core';
import { burstOf } from '@fsm-certs/queue';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** When not allowed: seconds until one request's worth has refilled. */
  readonly retryAfterSeconds: number;
}

/** Spends one request of `key`'s bucket at `ratePerSec` (burst: twice the rate). */
export interface RateLimiter {
  take(key: string, ratePerSec: number): Promise<RateLimitDecision>;
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
    /** Buckets kept at most; beyond it the least recently inserted is dropped. */
    private readonly maxKeys = 100_000,
  ) {
    if (!(ratePerSec > 0)) throw new Error('ratePerSec must be > 0');
    this.burst = burst ?? ratePerSec * 2;
  }

  private refilled(key: string): Bucket {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(key, bucket);
      if (this.buckets.size > this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
    } else {
      const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
      bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.ratePerSec);
      bucket.updatedAt = now;
    }
    return bucket;
  }

  private decision(bucket: Bucket): RateLimitDecision {
    if (bucket.tokens >= 1) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSec)) };
  }

  take(key: string): RateLimitDecision {
    const bucket = this.refilled(key);
    const decision = this.decision(bucket);
    if (decision.allowed) bucket.tokens -= 1;
    return decision;
  }

  /** Whether take() would allow now, without spending. */
  peek(key: string): RateLimitDecision {
    if (!this.buckets.has(key)) return { allowed: true, retryAfterSeconds: 0 };
    return this.decision(this.refilled(key));
  }
}

/** One in-process bucket per key and rate, for a single replica (tests, or no Redis). */
export class LocalRateLimiter implements RateLimiter {
  private readonly byRate = new Map<number, TokenBucketLimiter>();
  constructor(private readonly clock: Clock) {}
  async take(key: string, ratePerSec: number): Promise<RateLimitDecision> {
    let limiter = this.byRate.get(ratePerSec);
    if (limiter === undefined) {
      limiter = new TokenBucketLimiter(ratePerSec, this.clock, burstOf(ratePerSec));
      this.byRate.set(ratePerSec, limiter);
    }
    return limiter.take(key);
  }
}
