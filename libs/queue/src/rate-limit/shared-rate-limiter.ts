// A token bucket per caller kept in Redis, so every gateway replica spends from the same bucket
// (N replicas must not allow N times the rate). One script call per request: refill by the time
// elapsed on Redis's clock (replicas' clocks may disagree), spend one, say when to retry.
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { luaScript, runScript } from '../redis/run-script.js';

export interface SharedRateDecision {
  readonly allowed: boolean;
  /** When not allowed: whole seconds until one request's worth has refilled (at least 1). */
  readonly retryAfterSeconds: number;
}

/** ARGV: rate per second, burst. Returns {allowed 0|1, retry-after seconds}. */
const TAKE = luaScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
if allowed == 1 then return {1, 0} end
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
}
