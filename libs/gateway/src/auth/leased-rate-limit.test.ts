// Callers' rates spent in leases from the shared bucket in a real Redis: fewer calls, and the
// bucket stays an upper bound for all replicas together.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { ManualClock } from '../testing/harness.test-helpers.js';
import { LEASE_TTL_MS, LeasedRateLimiter, leaseSizeFor, type RateLeaseSource } from './leased-rate-limit.js';

const db = usePrivateRedis();

/** The shared bucket under a fresh prefix, with every call it answers recorded. */
function sharedBucket(prefix = `{rate-${randomBytes(4).toString('hex')}}`): { source: RateLeaseSource; calls: Array<{ want: number; giveBack: number; granted: number }>; prefix: string } {
  const shared = new SharedRateLimiter(db.redis, { prefix });
  const calls: Array<{ want: number; giveBack: number; granted: number }> = [];
  return {
    prefix,
    calls,
    source: {
      async lease(key, rate, want, giveBack) {
        const reply = await shared.lease(key, rate, want, giveBack);
        calls.push({ want, giveBack, granted: reply.granted });
        return reply;
      },
    },
  };
}

describe('LeasedRateLimiter', () => {
  it('asks Redis once for a lease of requests, not once per request', async () => {
    const { source, calls } = sharedBucket();
    const limiter = new LeasedRateLimiter(source, new ManualClock());
    const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.take('token:bench', 1000)));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(leaseSizeFor(1000)).toBe(50);
    expect(calls).toEqual([{ want: 50, giveBack: 0, granted: 50 }]);
  });

  it('lets two replicas together spend no more than the shared bucket holds, and refuses with Retry-After when it is empty', async () => {
    const { source, prefix } = sharedBucket();
    const other = sharedBucket(prefix);
    const clock = new ManualClock();
    const replicas = [new LeasedRateLimiter(source, clock), new LeasedRateLimiter(other.source, clock)];
    // A burst of 800, spent in leases of 20.
    const rate = 400;
    const started = Date.now();
    let allowed = 0;
    let refusal: { retryAfterSeconds: number } | undefined;
    for (let i = 0; i < 2_000 && refusal === undefined; i++) {
      const replica = replicas[i % 2];
      if (replica === undefined) break;
      const decision = await replica.take('token:shared', rate);
      if (decision.allowed) allowed++;
      else refusal = decision;
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(refusal?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Redis refills the bucket by its own clock while the loop runs: what that allows is added.
    expect(allowed).toBeLessThanOrEqual(2 * rate + Math.ceil(elapsedSeconds * rate) + 1);
    // The one that refused may leave the other holding at most one lease unspent.
    expect(allowed).toBeGreaterThanOrEqual(2 * rate - leaseSizeFor(rate));
  });

  it('gives back what an expired lease left unspent with its next call', async () => {
    const { source, calls } = sharedBucket();
    const clock = new ManualClock();
    const limiter = new LeasedRateLimiter(source, clock);
    expect((await limiter.take('token:idle', 100)).allowed).toBe(true);
    clock.advance(LEASE_TTL_MS);
    expect((await limiter.take('token:idle', 100)).allowed).toBe(true);
    expect(calls.map((c) => [c.want, c.giveBack])).toEqual([
      [5, 0],
      [5, 4],
    ]);
  });
});
