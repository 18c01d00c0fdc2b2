import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import { issueJobPayloadSchema, type IssueJobPayload, type IssueJobResult } from './contracts/issue-job.js';
import { parseJobPayload } from './contracts/parse.js';
import { ISSUE_JOB_RETENTION } from './contracts/job-options.js';
import { JOB_NAMES, QUEUE_NAMES } from './contracts/queue-names.js';
import { rotateJobId, type RotateJobPayload, type RotateJobResult } from './contracts/rotate-job.js';
import { QueueError } from './errors.js';
import { liveInstances, publishHeartbeat } from './heartbeat.js';
import { keyspace } from './keys.js';
import { createIssueQueue, createIssueWorker, createQueueEvents, createRotateQueue, createRotateWorker, type IssueQueue } from './queues.js';
import { createRedisConnection } from './redis/connection.js';
import { startRedisServer, type RedisServerHandle } from './redis/launcher.js';
import { certificateRecord, issueItem } from './test-fixtures.test-helpers.js';

const PREFIX = '{q-test}';
let server: RedisServerHandle;
let producerConn: Redis;
let workerConn: Redis;
let eventsConn: Redis;
let issueQueue: IssueQueue;
const closers: Array<() => Promise<void>> = [];

async function issueProcessor(job: Job<IssueJobPayload, IssueJobResult>): Promise<IssueJobResult> {
  const payload = parseJobPayload(issueJobPayloadSchema, job.data);
  return {
    version: 1,
    results: payload.requests.map((r) => ({ requestId: r.requestId, ok: true as const, certificate: certificateRecord({ commonName: r.commonName }) })),
  };
}

beforeAll(async () => {
  server = await startRedisServer();
  producerConn = createRedisConnection(server.url, { role: 'client', maxReconnectDelayMs: 100 });
  workerConn = createRedisConnection(server.url, { role: 'worker', maxReconnectDelayMs: 100 });
  eventsConn = createRedisConnection(server.url, { role: 'worker', maxReconnectDelayMs: 100 });
  for (const c of [producerConn, workerConn, eventsConn]) c.on('error', () => undefined);
  issueQueue = createIssueQueue(producerConn, PREFIX);
  closers.push(() => issueQueue.close());
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  for (const c of [producerConn, workerConn, eventsConn]) c.disconnect();
  await server.stop();
});

function startIssueWorker(): Worker<IssueJobPayload, IssueJobResult> {
  const worker = createIssueWorker(workerConn, issueProcessor, { concurrency: 4 }, PREFIX);
  worker.on('error', () => undefined);
  closers.push(() => worker.close());
  return worker;
}

describe('queue factories', () => {
  it('run an issue batch end to end and every key lands under the prefix', async () => {
    startIssueWorker();
    const events = createQueueEvents(eventsConn, QUEUE_NAMES.issue, PREFIX);
    closers.push(() => events.close());
    await events.waitUntilReady();
    const requests = [issueItem({ commonName: 'a.ns.cluster.local' }), issueItem({ commonName: 'b.ns.cluster.local' })];
    const job = await issueQueue.add(JOB_NAMES.issueBatch, { version: 1, requests });
    const result = await job.waitUntilFinished(events, 10_000);
    expect(result.results.map((r) => r.requestId)).toEqual(requests.map((r) => r.requestId));
    expect(result.results.every((r) => r.ok)).toBe(true);

    const keys = await producerConn.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith(`${PREFIX}:`))).toEqual([]);
    expect(keys).toContain(`${PREFIX}:issue:id`);
  });

  it('fail an invalid payload once, as unrecoverable, naming the field', async () => {
    const events = createQueueEvents(eventsConn, QUEUE_NAMES.issue, PREFIX);
    closers.push(() => events.close());
    await events.waitUntilReady();
    const bad = { version: 1, requests: [{ ...issueItem(), validityMs: 0 }] } as IssueJobPayload;
    const job = await issueQueue.add(JOB_NAMES.issueBatch, bad);
    expect(job.opts.attempts).toBe(5);
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/requests\.0\.validityMs/);
    const failed = await issueQueue.getJob(job.id ?? '');
    expect(failed?.attemptsMade).toBe(1);
    expect(await failed?.getState()).toBe('failed');
  });

  it('dedupe rotate jobs per (name, serial)', async () => {
    const rotateQueue = createRotateQueue(producerConn, PREFIX);
    closers.push(() => rotateQueue.close());
    const payload: RotateJobPayload = { version: 1, commonName: 'r.ns.cluster.local', serialNumber: 'abc1', reason: 'rotate-scheduled' };
    const first = await rotateQueue.add(JOB_NAMES.rotate, payload, { jobId: rotateJobId(payload.commonName, payload.serialNumber) });
    const second = await rotateQueue.add(JOB_NAMES.rotate, payload, { jobId: rotateJobId(payload.commonName, payload.serialNumber) });
    const other = await rotateQueue.add(JOB_NAMES.rotate, { ...payload, serialNumber: 'abc2' }, { jobId: rotateJobId(payload.commonName, 'abc2') });
    expect(second.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);

    const seen: string[] = [];
    const worker = createRotateWorker(
      workerConn,
      async (job): Promise<RotateJobResult> => {
        seen.push(job.data.serialNumber);
        return { version: 1, commonName: job.data.commonName, previousSerialNumber: job.data.serialNumber, outcome: 'not-found' };
      },
      {},
      PREFIX,
    );
    worker.on('error', () => undefined);
    closers.push(() => worker.close());
    await eventually(async () => ((await rotateQueue.getCompletedCount()) === 2 ? true : undefined), 10_000, 'both rotate jobs to complete');
    // A completed job id is kept, so a later sweep re-finding the same serial adds nothing: the
    // job stays completed, with nothing waiting (the worker paused, so nothing could hide it).
    await worker.pause();
    const again = await rotateQueue.add(JOB_NAMES.rotate, payload, { jobId: rotateJobId(payload.commonName, payload.serialNumber) });
    expect(again.id).toBe(first.id);
    expect(await rotateQueue.getJobState(String(first.id))).toBe('completed');
    expect(await rotateQueue.getWaitingCount()).toBe(0);
    expect(seen.sort()).toEqual(['abc1', 'abc2']);
  });

  it('keep a completed issue job readable at once, and only the last ISSUE_JOB_RETENTION.count of them', async () => {
    startIssueWorker();
    const total = ISSUE_JOB_RETENTION.count + 20;
    const jobs = await issueQueue.addBulk(Array.from({ length: total }, () => ({ name: JOB_NAMES.issueBatch, data: { version: 1 as const, requests: [issueItem()] } })));
    const first = jobs[0]?.id ?? '';
    const last = jobs.at(-1)?.id ?? '';
    const open = async (): Promise<number> => (await issueQueue.getWaitingCount()) + (await issueQueue.getActiveCount());
    await eventually(async () => ((await issueQueue.getJobState(last)) === 'completed' && (await open()) === 0 ? true : undefined), 60_000, `all ${total} jobs to complete`);
    // What the gateway reads when it could not rely on the completed event: the job and its result.
    const done = await issueQueue.getJob(last);
    expect((done?.returnvalue as IssueJobResult | undefined)?.results).toHaveLength(1);
    // Older results are dropped: nobody reads them again, and each holds every record of its batch.
    expect(await issueQueue.getCompletedCount()).toBe(ISSUE_JOB_RETENTION.count);
    expect(await issueQueue.getJob(first)).toBeUndefined();
  }, 90_000);

  it('refuse a non-worker connection for Worker and QueueEvents', () => {
    expect(() => createQueueEvents(producerConn, QUEUE_NAMES.issue, PREFIX)).toThrow(QueueError);
    expect(() => createIssueWorker(producerConn, issueProcessor, {}, PREFIX)).toThrow(/role: 'worker'/);
  });

  it('refuse a prefix without a hash tag', () => {
    expect(() => createIssueQueue(producerConn, 'fsm-certs')).toThrow(/hash tag/);
  });

  it('keep a worker processing across a Redis restart without restarting it', async () => {
    await server.restart();
    const job = await issueQueue.add(JOB_NAMES.issueBatch, { version: 1, requests: [issueItem()] });
    // Read the job's own state, which Redis keeps: a QueueEvents listener reconnecting after the
    // same restart may not be listening yet when the job completes (its notification is then lost).
    await eventually(async () => ((await issueQueue.getJobState(job.id ?? '')) === 'completed' ? true : undefined), 60_000, 'the job to complete after the restart');
    const done = await issueQueue.getJob(job.id ?? '');
    expect((done?.returnvalue as IssueJobResult | undefined)?.results).toHaveLength(1);
  });
});

describe('heartbeat', () => {
  it('lists live instances and drops them on stop() and after the TTL', async () => {
    // a beats often and lives long; b beats once only (interval > TTL).
    const a = publishHeartbeat(producerConn, { role: 'ca-service', instanceId: 'ca-a', ttlMs: 60_000, intervalMs: 100, prefix: PREFIX });
    const b = publishHeartbeat(producerConn, { role: 'ca-service', instanceId: 'ca-b', ttlMs: 400, intervalMs: 600_000, prefix: PREFIX });
    await Promise.all([a.ready, b.ready]);
    expect((await liveInstances(producerConn, 'ca-service', PREFIX)).sort()).toEqual(['ca-a', 'ca-b']);
    expect(await liveInstances(producerConn, 'rotation-worker', PREFIX)).toEqual([]);
    // b lapses once its TTL has passed on Redis's clock...
    const live = await eventually(async () => {
      const ids = await liveInstances(producerConn, 'ca-service', PREFIX);
      return ids.includes('ca-b') ? undefined : ids;
    }, 10_000, 'ca-b to lapse');
    expect(live).toEqual(['ca-a']);
    // ...while a keeps beating: its expiry moves on.
    const key = keyspace(PREFIX).instances('ca-service');
    const expiry = Number(await producerConn.zscore(key, 'ca-a'));
    await eventually(async () => (Number(await producerConn.zscore(key, 'ca-a')) > expiry ? true : undefined), 10_000, 'another beat of ca-a');
    await a.stop();
    await b.stop();
    expect(await liveInstances(producerConn, 'ca-service', PREFIX)).toEqual([]);
  });
});
