// The two ways of handing a job from a producer (the gateway's part) to a consumer (the
// ca-service's part) and its answer back that hop-floor-bench measures, with nothing else around
// them: the consumer answers at once with a fixed result.
//
// "bullmq": the product's hop. The producer adds the job with the gateway's queue factory and job
// options and learns its end from the events stream with the gateway's FinishedJobReader; the
// consumer is the ca-service's worker class (MarkerAwareWorker) with the ca-service's settings.
//
// "stream": a request stream. The producer XADDs the request (MAXLEN ~); the consumer's blocking
// XREADGROUP returns the request itself; one EVALSHA XACKs it and XADDs the answer to the
// producer's reply stream (MAXLEN ~); the producer's blocking XREAD on that stream wakes with it.
// No job hash, no marker, no lock, no stalled-job check, no retries: see the README section.
import { randomUuid } from '@fsm-certs/core';
import { MarkerAwareWorker, caServiceWorkerSettings } from '@fsm-certs/issuance';
import {
  DEFAULT_PREFIX,
  FinishedJobReader,
  ISSUE_JOB_OPTIONS_RESULT_BY_EVENT,
  JOB_NAMES,
  QUEUE_NAMES,
  createIssueQueue,
  createRedisConnection,
  luaScript,
  runScript,
  type IssueItem,
  type IssueJobPayload,
} from '@fsm-certs/queue';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HopPath } from './summary.js';

/** The gateway's side: sends one job and resolves with the consumer's answer. */
export interface Producer {
  roundTrip(payload: IssueJobPayload): Promise<unknown>;
  close(): Promise<void>;
}

export interface Consumer {
  close(): Promise<void>;
}

/** What the consumer answers per item: the item's request id and a fixed filler. */
export interface HopItemResult {
  readonly requestId: string;
  readonly ok: true;
  readonly filler: string;
}

export interface HopResult {
  readonly version: 'hop-floor';
  readonly results: readonly HopItemResult[];
}

/** A filler that makes each item's answer about `bytes` of JSON. */
export function fillerFor(bytes: number): string {
  const bare = JSON.stringify({ requestId: randomUuid(), ok: true, filler: '' }).length;
  return 'r'.repeat(Math.max(0, bytes - bare));
}

/** The consumer's whole work: one answer per item, at once. */
export function answer(requests: readonly IssueItem[], filler: string): HopResult {
  return { version: 'hop-floor', results: requests.map((item) => ({ requestId: item.requestId, ok: true as const, filler })) };
}

/** The ca-service's issue worker settings with its defaults (libs/issuance). */
const CA_SERVICE_WORKER_SETTINGS = caServiceWorkerSettings({ instanceId: 'hop-floor-consumer' });

const STREAM_KEYS = {
  requests: `${DEFAULT_PREFIX}:hop:requests`,
  replies: (producerId: string) => `${DEFAULT_PREFIX}:hop:replies:${producerId}`,
};
const GROUP = 'ca-service';
/** MAXLEN ~ of the request stream and of each reply stream. */
const REQUESTS_MAXLEN = '10000';
const REPLIES_MAXLEN = '1000';
/** One blocking read's wait, so a closing loop ends within it. */
const BLOCK_MS = 1_000;
/** Requests the consumer takes per read: the ca-service's concurrency. */
const READ_COUNT = CA_SERVICE_WORKER_SETTINGS.concurrency;

/** Acknowledges the request and adds its answer to the producer's reply stream, in one call. */
const ANSWER_SCRIPT = luaScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'id', ARGV[3], 'result', ARGV[4])
`);

async function bullmqProducer(url: string): Promise<Producer> {
  const commands = createRedisConnection(url, { role: 'client', connectionName: 'hop-floor-producer' });
  const blocking = createRedisConnection(url, { role: 'worker', connectionName: 'hop-floor-producer:events' });
  const queue = createIssueQueue(commands, DEFAULT_PREFIX);
  const reader = new FinishedJobReader(blocking, QUEUE_NAMES.issue, { prefix: DEFAULT_PREFIX });
  await reader.start();
  return {
    async roundTrip(payload) {
      // As the gateway: the id chosen here and the waiter registered before the job exists.
      const jobId = randomUuid();
      const finished = new Promise<unknown>((resolve, reject) => reader.watch(jobId, { resolve, reject }));
      try {
        await queue.add(JOB_NAMES.issueBatch, payload, { ...ISSUE_JOB_OPTIONS_RESULT_BY_EVENT, jobId });
        return await finished;
      } finally {
        reader.unwatch(jobId);
      }
    },
    async close() {
      await reader.close();
      await queue.close();
      commands.disconnect();
    },
  };
}

async function bullmqConsumer(url: string, filler: string): Promise<Consumer> {
  const connection = createRedisConnection(url, { role: 'worker', connectionName: 'hop-floor-consumer' });
  // createIssueWorker with MarkerAwareWorker builds exactly this; it is typed for the ca-service's
  // result, which this stand-in does not return.
  const worker = new MarkerAwareWorker<IssueJobPayload, HopResult>(QUEUE_NAMES.issue, async (job: Job<IssueJobPayload, HopResult>) => answer(job.data.requests, filler), {
    ...CA_SERVICE_WORKER_SETTINGS,
    connection,
    prefix: DEFAULT_PREFIX,
  });
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** XREAD(GROUP)'s reply: per stream its key and entries, each an id and a flat field list. */
type StreamReply<T> = Array<[T, Array<[T, T[]]>]> | null;

function field<T extends string | Buffer>(fields: readonly T[], name: string): T | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (String(fields[i]) === name) return fields[i + 1];
  return undefined;
}

async function streamProducer(url: string): Promise<Producer> {
  const commands = createRedisConnection(url, { role: 'client', connectionName: 'hop-floor-producer' });
  const blocking = createRedisConnection(url, { role: 'worker', connectionName: 'hop-floor-producer:replies' });
  const replies = STREAM_KEYS.replies(randomUuid());
  const waiters = new Map<string, (result: unknown) => void>();
  let running = true;
  // A fresh key: every entry it will hold answers a request sent from now on.
  let lastId = '0-0';
  const loop = (async () => {
    while (running) {
      let reply: StreamReply<Buffer>;
      try {
        reply = (await blocking.xreadBuffer('BLOCK', BLOCK_MS, 'STREAMS', replies, lastId)) as StreamReply<Buffer>;
      } catch (error) {
        if (!running) return;
        throw error;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          lastId = id.toString('latin1');
          const requestId = field(fields, 'id')?.toString('latin1');
          const result = field(fields, 'result');
          const waiter = requestId === undefined ? undefined : waiters.get(requestId);
          if (waiter === undefined || requestId === undefined || result === undefined) continue;
          waiters.delete(requestId);
          waiter(JSON.parse(result.toString('utf8')));
        }
      }
    }
  })();
  return {
    async roundTrip(payload) {
      const requestId = randomUuid();
      const answered = new Promise<unknown>((resolve) => waiters.set(requestId, resolve));
      try {
        await commands.xadd(STREAM_KEYS.requests, 'MAXLEN', '~', REQUESTS_MAXLEN, '*', 'reply', replies, 'id', requestId, 'payload', JSON.stringify(payload));
        return await answered;
      } finally {
        waiters.delete(requestId);
      }
    },
    async close() {
      running = false;
      blocking.disconnect();
      await loop.catch(() => undefined);
      commands.disconnect();
    },
  };
}

async function streamConsumer(url: string, filler: string, onError: (error: unknown) => void): Promise<Consumer> {
  const commands = createRedisConnection(url, { role: 'client', connectionName: 'hop-floor-consumer' });
  const blocking: Redis = createRedisConnection(url, { role: 'worker', connectionName: 'hop-floor-consumer:requests' });
  try {
    await commands.xgroup('CREATE', STREAM_KEYS.requests, GROUP, '$', 'MKSTREAM');
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
  }
  let running = true;
  const loop = (async () => {
    while (running) {
      let reply: StreamReply<string>;
      try {
        reply = (await blocking.xreadgroup('GROUP', GROUP, 'hop-floor-consumer', 'COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', STREAM_KEYS.requests, '>')) as StreamReply<string>;
      } catch (error) {
        if (!running) return;
        throw error;
      }
      for (const [, entries] of reply ?? []) {
        for (const [entryId, fields] of entries) {
          const replyKey = field(fields, 'reply');
          const requestId = field(fields, 'id');
          const payload = field(fields, 'payload');
          if (replyKey === undefined || requestId === undefined || payload === undefined) continue;
          const { requests } = JSON.parse(payload) as IssueJobPayload;
          const result = JSON.stringify(answer(requests, filler));
          // Not awaited: the next read goes out at once, as the worker takes more jobs while one runs.
          runScript(commands, ANSWER_SCRIPT, [STREAM_KEYS.requests, replyKey], [GROUP, entryId, requestId, result, REPLIES_MAXLEN]).catch(onError);
        }
      }
    }
  })();
  return {
    async close() {
      running = false;
      blocking.disconnect();
      await loop.catch(() => undefined);
      commands.disconnect();
    },
  };
}

export function startProducer(path: HopPath, url: string): Promise<Producer> {
  return path === 'bullmq' ? bullmqProducer(url) : streamProducer(url);
}

export function startConsumer(path: HopPath, url: string, filler: string, onError: (error: unknown) => void): Promise<Consumer> {
  return path === 'bullmq' ? bullmqConsumer(url, filler) : streamConsumer(url, filler, onError);
}
