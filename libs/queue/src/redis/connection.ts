// ioredis connections every app uses. They reconnect forever with capped backoff, so an app
// outlives a Redis restart without restarting itself; only how long a single command may wait
// differs by role.
import { Redis, type RedisOptions } from 'ioredis';
import { QueueError } from '../errors.js';

export type ConnectionRole =
  /** BullMQ Worker / QueueEvents / stream subscribers: blocking commands, wait out any outage. */
  | 'worker'
  /** Request paths (gateway reads, Queue.add, publish): fail a command after a few reconnect attempts. */
  | 'client';

export interface RedisConnectionOptions {
  readonly role: ConnectionRole;
  /** Shown in CLIENT LIST; default `fsm-certs-<role>`. */
  readonly connectionName?: string;
  /** Cap of the reconnect backoff; default 2000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Do not connect until the first command (default false). */
  readonly lazyConnect?: boolean;
}

/** Reconnect delay: 50 ms doubling per attempt, capped. Never gives up (returning null would). */
export function reconnectDelay(attempt: number, capMs = 2_000): number {
  return Math.min(capMs, 50 * 2 ** Math.min(Math.max(attempt - 1, 0), 16));
}

export function redisOptionsFor(options: RedisConnectionOptions): RedisOptions {
  const cap = options.maxReconnectDelayMs ?? 2_000;
  const worker = options.role === 'worker';
  return {
    connectionName: options.connectionName ?? `fsm-certs-${options.role}`,
    // BullMQ requires null for blocking connections; clients give up after a few attempts so an
    // HTTP request gets a 503 instead of hanging through a long outage.
    maxRetriesPerRequest: worker ? null : 3,
    // Commands issued while reconnecting wait in memory instead of failing at once.
    enableOfflineQueue: true,
    enableReadyCheck: true,
    lazyConnect: options.lazyConnect ?? false,
    retryStrategy: (attempt: number) => reconnectDelay(attempt, cap),
    // A failover leaves clients on a read-only replica; reconnecting finds the new primary.
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
  };
}

/** An ioredis client for `url` (redis:// or rediss://) with BullMQ-compatible options for `role`. */
export function createRedisConnection(url: string, options: RedisConnectionOptions): Redis {
  return new Redis(url, redisOptionsFor(options));
}

/** Resolves when the client is ready, or rejects after timeoutMs (apps call it at start). */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await redis.ping();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new QueueError('REDIS_UNAVAILABLE', `Redis did not answer PING within ${timeoutMs} ms; check REDIS_URL and that Redis is running.`, {
    cause: lastError,
  });
}
