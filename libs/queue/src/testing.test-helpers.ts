// Test-only entry point (`@fsm-certs/queue/testing`): one private redis-server per test file.
// Kept out of the main index so production code never pulls vitest in. It lives here, not in
// @fsm-certs/testing, because this library's own tests import that one (a cycle otherwise).
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createRedisConnection } from './redis/connection.js';
import { startRedisServer, type RedisServerHandle } from './redis/launcher.js';

export interface PrivateRedisOptions {
  /** 'each': FLUSHALL before every test in scope, so no test sees another's keys. Default 'none'. */
  readonly flush?: 'each' | 'none';
}

/** Read the properties from hooks and tests, not at module load: the server starts in beforeAll. */
export interface PrivateRedis {
  readonly server: RedisServerHandle;
  readonly url: string;
  /** A client-role connection, made on first use and closed with the server. */
  readonly redis: Redis;
}

/**
 * Starts a private redis-server (append-only off: nothing here survives a restart) for the
 * file or describe block it is called in, and stops it after that scope's other afterAll hooks
 * (vitest runs after-hooks in reverse order), so apps using it can close first.
 */
export function usePrivateRedis(options: PrivateRedisOptions = {}): PrivateRedis {
  let server: RedisServerHandle | undefined;
  let client: Redis | undefined;
  const started = (): RedisServerHandle => {
    if (server === undefined) throw new Error('usePrivateRedis: the server is not running; use it from a hook or test, after beforeAll');
    return server;
  };
  const handle: PrivateRedis = {
    get server() {
      return started();
    },
    get url() {
      return started().url;
    },
    get redis() {
      client ??= createRedisConnection(started().url, { role: 'client' });
      return client;
    },
  };

  beforeAll(async () => {
    server = await startRedisServer({ appendOnly: false });
  });
  if (options.flush === 'each') {
    beforeEach(async () => {
      await handle.redis.flushall();
    });
  }
  afterAll(async () => {
    client?.disconnect();
    client = undefined;
    const running = server;
    server = undefined;
    await running?.stop();
  });
  return handle;
}
