// What the ca-service process suites share: one Redis with the issue queue and its events for
// the file, the environment a pod gives the service, and ca-service processes stopped after
// each test. Jobs go in through the issue queue exactly as the gateway puts them there.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createIssueQueue, createQueueEvents, createRedisConnection, startRedisServer, type IssueItem, type IssueQueue, type RedisServerHandle } from '@fsm-certs/queue';
import { AppProcess } from '@fsm-certs/stack';

/** One request of an issue batch, as the gateway builds it. */
export function issueItem(commonName: string, options: { keyAlgorithm?: IssueItem['keyAlgorithm']; validityMs?: number } = {}): IssueItem {
  return {
    requestId: randomUUID(),
    commonName,
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: options.validityMs ?? 24 * 3600_000,
    keyAlgorithm: options.keyAlgorithm ?? 'ecdsa-p256',
    reason: 'request',
  };
}

export interface CaServiceFixture {
  readonly redisServer: RedisServerHandle;
  /** A worker-role connection of the test (queue, inventory, event stream). */
  readonly redis: Redis;
  readonly queue: IssueQueue;
  /** The issue queue's events, on a connection of their own. */
  readonly events: QueueEvents;
  /** A scratch directory (FSM_DATA_DIR), removed after the file. */
  readonly dir: string;
  readonly prefix: string;
  /** The environment of a ca-service on this Redis, plus `extra`. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Starts a ca-service (stopped after the test) without waiting for it. */
  spawn(extra?: NodeJS.ProcessEnv): AppProcess;
  /** Starts a ca-service (stopped after the test) and waits for its ready line. */
  start(extra?: NodeJS.ProcessEnv): Promise<AppProcess>;
}

/** Registers a file's hooks (call once at the top of a describe) and returns its fixture. */
export function caServiceFixture(prefix: string, options: { appendOnly?: boolean } = {}): CaServiceFixture {
  let state: { redisServer: RedisServerHandle; redis: Redis; eventsConnection: Redis; queue: IssueQueue; events: QueueEvents; dir: string } | undefined;
  const running: AppProcess[] = [];
  const need = (): NonNullable<typeof state> => {
    if (state === undefined) throw new Error('the ca-service fixture is only there inside a test');
    return state;
  };

  beforeAll(async () => {
    const redisServer = await startRedisServer(options.appendOnly === undefined ? {} : { appendOnly: options.appendOnly });
    const redis = createRedisConnection(redisServer.url, { role: 'worker' });
    const eventsConnection = createRedisConnection(redisServer.url, { role: 'worker' });
    const events = createQueueEvents(eventsConnection, 'issue', prefix);
    state = { redisServer, redis, eventsConnection, queue: createIssueQueue(redis, prefix), events, dir: mkdtempSync(path.join(tmpdir(), 'fsm-ca-service-')) };
    await events.waitUntilReady();
  });
  afterEach(async () => {
    for (const app of running.splice(0)) await app.stop();
  });
  afterAll(async () => {
    if (state === undefined) return;
    const { events, queue, eventsConnection, redis, redisServer, dir } = state;
    await events.close();
    await queue.close();
    eventsConnection.disconnect();
    redis.disconnect();
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const fixture: CaServiceFixture = {
    get redisServer() {
      return need().redisServer;
    },
    get redis() {
      return need().redis;
    },
    get queue() {
      return need().queue;
    },
    get events() {
      return need().events;
    },
    get dir() {
      return need().dir;
    },
    prefix,
    env: (extra = {}) => ({
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      REDIS_URL: need().redisServer.url,
      FSM_REDIS_PREFIX: prefix,
      FSM_DATA_DIR: need().dir,
      HEALTH_PORT: '0',
      LOG_LEVEL: 'info',
      ...extra,
    }),
    spawn(extra = {}) {
      const app = new AppProcess('ca-service', { env: fixture.env(extra) });
      running.push(app);
      return app;
    },
    async start(extra = {}) {
      const app = fixture.spawn(extra);
      await app.waitForLine(/ca-service ready/, 60_000);
      return app;
    },
  };
  return fixture;
}
