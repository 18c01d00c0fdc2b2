// Callers' rates shared across replicas without a Redis call per request: a replica spends a
// small lease of tokens from the caller's shared bucket in one call and hands them out locally.
// Leases are taken FROM the shared bucket, so all replicas together never allow more than the
// bucket holds (rate and burst stay exact upper bounds). What a lease costs is fairness between
// replicas: one may refuse while another still holds unspent tokens, at most leaseSizeFor(rate)
// of them (1/20 s of the rate, at most 100) for at most LEASE_TTL_MS, after which they are given
// back with that replica's next call for the caller.
import type { Clock } from '@fsm-certs/core';
import type { RateLimitDecision, RateLimiter } from './rate-limit.js';

/** The shared bucket's side: SharedRateLimiter.lease of @fsm-certs/queue. */
export interface RateLeaseSource {
  lease(key: string, ratePerSec: number, want: number, giveBack: number): Promise<{ readonly granted: number; readonly retryAfterSeconds: number }>;
}

/** How much of a second's rate one lease takes. */
const LEASE_SECONDS = 0.05;
/** The most tokens one lease takes, whatever the rate. */
export const MAX_LEASE = 100;
/** How long unspent leased tokens are used before they are given back. */
export const LEASE_TTL_MS = 1_000;
/** Refills a request may wait for when other requests keep taking what each one brings. */
const MAX_REFILLS = 4;

/** Tokens one call takes for a caller of this rate: 1/20 s of it, between 1 and MAX_LEASE. */
export function leaseSizeFor(ratePerSec: number): number {
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(ratePerSec * LEASE_SECONDS)));
}

interface Lease {
  readonly rate: number;
  tokens: number;
  expiresAt: number;
  /** Unspent tokens of an expired lease, given back with the next call. */
  giveBack: number;
  refill: Promise<RateLimitDecision> | undefined;
}

const ALLOWED: RateLimitDecision = { allowed: true, retryAfterSeconds: 0 };

export class LeasedRateLimiter implements RateLimiter {
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly source: RateLeaseSource,
    private readonly clock: Clock,
    /** Callers whose leases are kept at most; beyond it the least recently added is dropped. */
    private readonly maxKeys = 10_000,
  ) {}

  async take(key: string, ratePerSec: number): Promise<RateLimitDecision> {
    for (let refills = 0; refills < MAX_REFILLS; refills++) {
      const lease = this.current(key, ratePerSec);
      if (lease.tokens >= 1) {
        lease.tokens -= 1;
        return ALLOWED;
      }
      // Concurrent requests of one caller share one call.
      lease.refill ??= this.refill(key, lease).finally(() => {
        lease.refill = undefined;
      });
      const decision = await lease.refill;
      if (!decision.allowed) return decision;
    }
    const one = await this.source.lease(key, ratePerSec, 1, 0);
    return one.granted >= 1 ? ALLOWED : { allowed: false, retryAfterSeconds: one.retryAfterSeconds };
  }

  private current(key: string, rate: number): Lease {
    let lease = this.leases.get(key);
    if (lease === undefined || lease.rate !== rate) {
      // A changed rate (a policy change) starts afresh; the old lease's few tokens lapse.
      lease = { rate, tokens: 0, expiresAt: 0, giveBack: 0, refill: undefined };
      this.leases.delete(key);
      this.leases.set(key, lease);
      if (this.leases.size > this.maxKeys) {
        const oldest = this.leases.keys().next();
        if (oldest.done !== true) this.leases.delete(oldest.value);
      }
    } else if (lease.tokens > 0 && lease.expiresAt <= this.clock.now()) {
      lease.giveBack += Math.floor(lease.tokens);
      lease.tokens = 0;
    }
    return lease;
  }

  private async refill(key: string, lease: Lease): Promise<RateLimitDecision> {
    const giveBack = lease.giveBack;
    lease.giveBack = 0;
    let reply: { readonly granted: number; readonly retryAfterSeconds: number };
    try {
      reply = await this.source.lease(key, lease.rate, leaseSizeFor(lease.rate), giveBack);
    } catch (error) {
      lease.giveBack += giveBack;
      throw error;
    }
    if (reply.granted < 1) return { allowed: false, retryAfterSeconds: reply.retryAfterSeconds };
    lease.tokens += reply.granted;
    lease.expiresAt = this.clock.now() + LEASE_TTL_MS;
    return ALLOWED;
  }
}
