// A token bucket per caller kept in Redis, so every gateway replica spends from the same bucket
// (N replicas must not allow N times the rate). One script call per request: refill by the time
// elapsed on Redis's clock (replicas' clocks may disagree), spend one, say when to retry.
// lease() spends up to N at once (a gateway then hands them out locally) and gives back what an
// earlier lease left unspent.
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { luaScript, runScript } from '../redis/run-script.js';

export interface SharedRateDecision {
  readonly allowed: boolean;
  /** When not allowed: whole seconds until one request's worth has refilled (at least 1). */
  readonly retryAfterSeconds: number;
}

export interface SharedRateLease {
  /** Tokens spent from the shared bucket for this caller (0 when it had none). */
  readonly granted: number;
  /** When none were granted: whole seconds until one has refilled (at least 1). */
  readonly retryAfterSeconds: number;
}

/**
 * ARGV: rate per second, burst, [tokens wanted (default 1), tokens given back (default 0)].
 * Returns {tokens granted (0..wanted), retry-after seconds when none}.
 */
const TAKE = luaScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3]) or 1
local back = tonumber(ARGV[4]) or 0
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
tokens = math.min(burst, tokens + back + math.max(0, now - ts) * rate / 1000)
local granted = math.max(0, math.min(want, math.floor(tokens)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
if granted > 0 then return {granted, 0} end
return {0, math.max(1, math.ceil((1 - tokens) / rate))}
`);

/** The burst a rate allows: twice the rate per second, and at least one request. */
export function burstOf(ratePerSec: number): number {
  return Math.max(1, ratePerSec * 2);
}

export class SharedRateLimiter {
  private readonly keys: Keyspace;
  constructor(
    private readonly redis: Redis,
    options: { readonly prefix?: string } = {},
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
  }

  async take(caller: string, ratePerSec: number): Promise<SharedRateDecision> {
    const reply = await runScript(this.redis, TAKE, [this.keys.rate(caller)], [String(ratePerSec), String(burstOf(ratePerSec))]);
    const [allowed, retry] = Array.isArray(reply) ? reply : [];
    return { allowed: allowed === 1, retryAfterSeconds: typeof retry === 'number' ? retry : 1 };
  }

  /**
   * Spends up to `want` tokens of the caller's bucket in one call, after giving back `giveBack`
   * tokens an earlier lease did not spend (capped at the burst). `granted` may be fewer than
   * asked, down to 0 (then retryAfterSeconds says when one will have refilled).
   */
  async lease(caller: string, ratePerSec: number, want: number, giveBack = 0): Promise<SharedRateLease> {
    const reply = await runScript(this.redis, TAKE, [this.keys.rate(caller)], [String(ratePerSec), String(burstOf(ratePerSec)), String(Math.max(1, Math.floor(want))), String(Math.max(0, giveBack))]);
    const [granted, retry] = Array.isArray(reply) ? reply : [];
    return { granted: typeof granted === 'number' ? granted : 0, retryAfterSeconds: typeof retry === 'number' ? retry : 1 };
  }
}
