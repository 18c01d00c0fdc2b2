// The issue worker's searches for work, read off a real Redis with MONITOR: each is a Lua call
// Redis runs and a reply the ca-service's event loop handles while a lone job's processor works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import * as bullmqScripts from 'bullmq/dist/esm/scripts/index.js';
import { createHash } from 'node:crypto';
import { createIssueQueue, createIssueWorker, type IssueJobPayload, type IssueJobResult, type IssueQueue } from '@fsm-certs/queue';
import { MarkerAwareWorker } from './concurrency.js';
import { PREFIX, eventually, item, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

function shaOf(name: string): string {
  for (const script of Object.values(bullmqScripts) as unknown[]) {
    if (typeof script === 'object' && script !== null && 'name' in script && script.name === name && 'content' in script && typeof script.content === 'string') {
      return createHash('sha1').update(script.content).digest('hex');
    }
  }
  throw new Error(`BullMQ has no script named ${name}`);
}

const MOVE_TO_ACTIVE = shaOf('moveToActive');
const PROCESSOR_STARTED = 'processor-started';

let env: TestEnv;
let queue: IssueQueue;
let watcher: Redis;

beforeAll(async () => {
  env = await startTestEnv();
  queue = createIssueQueue(env.connect(), PREFIX);
  await queue.waitUntilReady();
  watcher = new Redis(env.redis.url);
});

afterAll(async () => {
  await queue.close();
  watcher.disconnect();
  await env.close();
});

/** True once some client sits blocked in BZPOPMIN (the worker waiting for work). */
async function workerBlocked(): Promise<true | undefined> {
  const clients = (await watcher.client('LIST')) as string;
  return clients.split('\n').some((line) => / flags=b /.test(line) && line.includes('cmd=bzpopmin')) || undefined;
}

/**
 * Runs one worker of `workerClass` (concurrency 4, as the ca-service) until it waits for work,
 * adds `jobs` jobs at once, and returns what MONITOR saw from then until the worker waits again:
 * its moveToActive calls, its BZPOPMINs and the processors' starts, in order.
 */
async function trace(workerClass: typeof Worker<IssueJobPayload, IssueJobResult>, jobs: number, holdFirst = false): Promise<string[]> {
  const seen: string[] = [];
  // Before any traffic: a MONITOR connection that sees commands during its own ready check fails.
  const monitor = await watcher.monitor();
  let tracing = false;
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (!tracing) return;
    const command = (args[0] ?? '').toLowerCase();
    if (command === 'evalsha' && args[1] === MOVE_TO_ACTIVE) seen.push('moveToActive');
    else if (command === 'echo' && args[1] === PROCESSOR_STARTED) seen.push(PROCESSOR_STARTED);
    else if (command === 'bzpopmin') seen.push('bzpopmin');
  });
  const marks = env.connect();
  let started = 0;
  let releaseFirst: () => void = () => undefined;
  const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
  const worker = createIssueWorker(
    env.connect(),
    async (job: Job<IssueJobPayload, IssueJobResult>) => {
      started += 1;
      await marks.echo(PROCESSOR_STARTED);
      // The first job stays in hand until a later one has started: only a worker that keeps
      // looking for work while it holds a job finishes.
      if (holdFirst && started === 1) await firstHeld;
      else releaseFirst();
      return { version: 1, results: [{ requestId: job.data.requests[0]?.requestId ?? '', ok: false, error: { code: 'TEST', message: 'test', httpStatus: 500, retryable: false } }] };
    },
    // A job left behind without a marker would wait out the longest block (10 s) and the test's time.
    { concurrency: 4, drainDelay: 60 },
    PREFIX,
    workerClass,
  );
  try {
    await worker.waitUntilReady();
    await eventually(workerBlocked, 10_000, 'the worker to block waiting for work');
    tracing = true;
    await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'issue-batch', data: { version: 1 as const, requests: [item(`lone-${i}.example.test`)] } })));
    await eventually(async () => (await queue.getCompletedCount()) >= jobs || undefined, 8_000, `${jobs} completed jobs`);
    await eventually(async () => (seen.at(-1) === 'bzpopmin' && seen.filter((s) => s === PROCESSOR_STARTED).length >= jobs && (await workerBlocked())) || undefined, 10_000, 'the worker to wait again');
  } finally {
    monitor.disconnect();
    await worker.close();
    await queue.obliterate({ force: true });
  }
  return seen;
}

const count = (seen: readonly string[], what: string): number => seen.filter((s) => s === what).length;

describe('MarkerAwareWorker', () => {
  it('takes a lone job and waits again with two moveToActive calls where BullMQ makes three', async () => {
    const seen = await trace(MarkerAwareWorker, 1);
    expect(seen[0]).toBe('moveToActive');
    expect(count(seen, 'moveToActive')).toBe(2);
  });

  it("BullMQ's own worker makes three (the search the subclass skips finds nothing)", async () => {
    const seen = await trace(Worker, 1);
    expect(count(seen, 'moveToActive')).toBe(3);
  });

  it('takes a second job added with the first while the first is still in hand', async () => {
    const seen = await trace(MarkerAwareWorker, 2, true);
    expect(count(seen, PROCESSOR_STARTED)).toBe(2);
  });
});
