// Liveness of service instances, e.g. the gateway's /readyz needs "a live ca-service". Each
// instance refreshes its entry in a per-role sorted set scored by expiry. Expiry uses Redis's
// own clock (TIME inside the script), so clock skew between hosts cannot fake or hide liveness.
import type { Redis } from 'ioredis';
import { QueueError } from './errors.js';
import { DEFAULT_PREFIX, keyspace } from './keys.js';
import { luaScript, runScript } from './redis/run-script.js';

const BEAT_SCRIPT = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return now
`);

const LIVE_SCRIPT = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
`);

/** The issuer-gateway's heartbeat role: the root rotation's clock stops while none is live. */
export const ISSUER_GATEWAY_ROLE = 'issuer-gateway';

export interface HeartbeatOptions {
  /** e.g. 'ca-service'. */
  readonly role: string;
  readonly instanceId: string;
  /** An instance counts as live this long after its last beat; default 15 s. */
  readonly ttlMs?: number;
  /** Beat period; default ttlMs / 3, so two missed beats are tolerated. */
  readonly intervalMs?: number;
  readonly prefix?: string;
  /** Called when a beat fails (Redis down); the loop keeps going. */
  readonly onError?: (error: unknown) => void;
}

export interface Heartbeat {
  /** Resolves after the first successful beat. */
  readonly ready: Promise<void>;
  /** Stops beating and removes the instance at once (graceful shutdown). */
  stop(): Promise<void>;
}

export function publishHeartbeat(redis: Redis, options: HeartbeatOptions): Heartbeat {
  const ttlMs = options.ttlMs ?? 15_000;
  if (!Number.isInteger(ttlMs) || ttlMs < 100) {
    throw new QueueError('INVALID_ARGUMENT', `heartbeat ttlMs must be an integer >= 100; got ${String(ttlMs)}.`);
  }
  const intervalMs = options.intervalMs ?? Math.floor(ttlMs / 3);
  const key = keyspace(options.prefix ?? DEFAULT_PREFIX).instances(options.role);
  let stopped = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const beat = async (): Promise<void> => {
    try {
      await runScript(redis, BEAT_SCRIPT, [key], [options.instanceId, String(ttlMs)]);
      markReady();
    } catch (error) {
      options.onError?.(error);
    }
  };
  let inFlight = beat();
  const timer = setInterval(() => {
    if (!stopped) inFlight = inFlight.then(beat);
  }, intervalMs);
  timer.unref();

  return {
    ready,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await inFlight;
      await redis.zrem(key, options.instanceId).catch((error: unknown) => options.onError?.(error));
    },
  };
}

/** Instance ids of `role` whose last beat is younger than their TTL. */
export async function liveInstances(redis: Redis, role: string, prefix: string = DEFAULT_PREFIX): Promise<string[]> {
  const reply = await runScript(redis, LIVE_SCRIPT, [keyspace(prefix).instances(role)], []);
  return Array.isArray(reply) ? reply.filter((v): v is string => typeof v === 'string') : [];
}
