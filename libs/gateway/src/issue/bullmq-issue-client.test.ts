// The BullMQ IssueClient against a real Redis and a real BullMQ worker standing in for the ca-service.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  createIssueQueue,
  createIssueWorker,
  createRedisConnection,
  issueJobResultSchema,
  startRedisServer,
  type IssueItem,
  type IssueJobPayload,
  type IssueJobResult,
  type IssueQueue,
} from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { eventually } from '@fsm-certs/testing';
import { UnrecoverableError } from 'bullmq';
import { BullMqIssueClient } from './bullmq-issue-client.js';
import { record } from './job-results.test-helpers.js';

const db = usePrivateRedis();
const connections: Redis[] = [];

function conn(role: 'client' | 'worker', url = db.url): Redis {
  const c = createRedisConnection(url, { role });
  c.on('error', () => undefined);
  connections.push(c);
  return c;
}

interface Setup {
  queue: IssueQueue;
  client: BullMqIssueClient;
  worker?: Worker<IssueJobPayload, IssueJobResult>;
  close(): Promise<void>;
}

async function setup(processor?: (payload: IssueJobPayload) => Promise<unknown>): Promise<Setup> {
  const prefix = `{gwq-${randomBytes(4).toString('hex')}}`;
  const queue = createIssueQueue(conn('client'), prefix);
  const worker =
    processor === undefined
      ? undefined
      : createIssueWorker(conn('worker'), async (job) => (await processor(job.data)) as IssueJobResult, { concurrency: 1 }, prefix);
  const client = new BullMqIssueClient({ queue, eventsConnection: conn('worker'), enqueueTimeoutMs: 1_000 });
  await client.start();
  return {
    queue,
    client,
    ...(worker === undefined ? {} : { worker }),
    async close() {
      await worker?.close();
      await client.close();
      await queue.close();
    },
  };
}

function item(commonName: string): IssueItem {
  return { requestId: randomUUID(), commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs: 3_600_000, keyAlgorithm: 'ecdsa-p256', reason: 'request' };
}

afterAll(() => {
  for (const c of connections) c.disconnect();
});

describe('BullMqIssueClient', () => {
  it('sends all items as one job and returns the per-item results', async () => {
    const seen: number[] = [];
    const s = await setup(async (payload) => {
      seen.push(payload.requests.length);
      return {
        version: 1,
        results: payload.requests.map((r) => ({ requestId: r.requestId, ok: false, error: { code: 'X', message: r.commonName, httpStatus: 400, retryable: false } })),
      };
    });
    const items = [item('a.example.com'), item('b.example.com')];
    const results = await s.client.issueBatch(items, { timeoutMs: 5_000 });
    expect(seen).toEqual([2]);
    expect(results.map((r) => (r.ok ? '' : r.error.message))).toEqual(['a.example.com', 'b.example.com']);
    await s.close();
  });

  it('answers an item its job schema refuses with 400 without enqueueing it; the valid items of the batch travel on', async () => {
    const seen: string[][] = [];
    const s = await setup(async (payload) => {
      seen.push(payload.requests.map((r) => r.commonName));
      return {
        version: 1,
        results: payload.requests.map((r) => ({ requestId: r.requestId, ok: false, error: { code: 'X', message: r.commonName, httpStatus: 409, retryable: false } })),
      };
    });
    const refused = { ...item('b.example.com'), ipAddresses: Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`) };
    const results = await s.client.issueBatch([item('a.example.com'), refused, item('c.example.com')], { timeoutMs: 5_000 });
    expect(seen).toEqual([['a.example.com', 'c.example.com']]);
    const byName = new Map(results.map((r) => [r.requestId, r]));
    expect(byName.get(refused.requestId)).toMatchObject({ ok: false, error: { code: 'INVALID_BODY', httpStatus: 400 } });
    expect(results.filter((r) => !r.ok && r.error.httpStatus === 409)).toHaveLength(2);
    // Nothing valid left: nothing is enqueued at all.
    expect(await s.client.issueBatch([refused], { timeoutMs: 5_000 })).toMatchObject([{ ok: false, error: { code: 'INVALID_BODY' } }]);
    expect(seen).toHaveLength(1);
    await s.close();
  });

  it('answers many concurrent batches, each with its own results', async () => {
    const s = await setup(async (payload) => ({
      version: 1,
      results: payload.requests.map((r) => ({ requestId: r.requestId, ok: false, error: { code: 'X', message: r.commonName, httpStatus: 400, retryable: false } })),
    }));
    const batches = Array.from({ length: 8 }, (_, b) => [item(`a${b}.example.com`), item(`b${b}.example.com`)]);
    const answers = await Promise.all(batches.map((items) => s.client.issueBatch(items, { timeoutMs: 5_000 })));
    expect(answers.map((results) => results.map((r) => (r.ok ? '' : r.error.message)))).toEqual(
      batches.map((items) => items.map((i) => i.commonName)),
    );
    await s.close();
  });

  it('still answers a job that finished while its events reader was not reading yet', async () => {
    const prefix = `{gwq-${randomBytes(4).toString('hex')}}`;
    const queue = createIssueQueue(conn('client'), prefix);
    const worker = createIssueWorker(
      conn('worker'),
      async (job) => ({
        version: 1 as const,
        results: job.data.requests.map((r) => ({ requestId: r.requestId, ok: false as const, error: { code: 'Y', message: 'done', httpStatus: 400, retryable: false } })),
      }),
      { concurrency: 1 },
      prefix,
    );
    // Not started: no event is ever delivered.
    const client = new BullMqIssueClient({ queue, eventsConnection: conn('worker'), enqueueTimeoutMs: 1_000 });
    // Only polling the job's state (until the reader is ready) can find the stored result.
    const results = await client.issueBatch([item('early.example.com')], { timeoutMs: 5_000 });
    expect(results.map((r) => (r.ok ? '' : r.error.code))).toEqual(['Y']);
    await worker.close();
    await client.close();
    await queue.close();
  });

  it('keeps no completed job once its events reader has started, the first job included; a job failed for good is kept', async () => {
    const s = await setup(async (payload) => {
      if (payload.requests.some((r) => r.commonName.startsWith('fail.'))) throw new UnrecoverableError('refused for good');
      return {
        version: 1,
        results: payload.requests.map((r) => ({ requestId: r.requestId, ok: false, error: { code: 'Z', message: r.commonName, httpStatus: 400, retryable: false } })),
      };
    });
    for (const name of ['first.example.com', 'second.example.com', 'third.example.com']) {
      expect((await s.client.issueBatch([item(name)], { timeoutMs: 5_000 })).map((r) => (r.ok ? '' : r.error.message))).toEqual([name]);
    }
    // Answered through their events, and gone from Redis: neither in the completed set nor as a job hash.
    expect(await s.queue.getCompletedCount()).toBe(0);
    expect(await s.queue.getJobs(['completed'])).toHaveLength(0);
    // A job that fails for good is kept, as before, for whoever looks into it.
    await expect(s.client.issueBatch([item('fail.example.com')], { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'ISSUANCE_FAILED' });
    expect(await s.queue.getFailedCount()).toBe(1);
    await s.close();
  });

  it('answers at once with a retryable 503 when its result event was trimmed from the stream unread, instead of waiting out the issue timeout', async () => {
    const prefix = `{gwq-${randomBytes(4).toString('hex')}}`;
    const writer = conn('client');
    const queue = createIssueQueue(writer, prefix);
    const worker = createIssueWorker(
      conn('worker'),
      async (job) => ({
        version: 1 as const,
        results: job.data.requests.map((r) => ({ requestId: r.requestId, ok: false as const, error: { code: 'T', message: 'done', httpStatus: 400, retryable: false } })),
      }),
      { concurrency: 1 },
      prefix,
    );
    const eventsConnection = conn('worker');
    // The reader's blocking reads wait at a gate: the gateway has fallen behind the stream.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const xread = eventsConnection.xreadBuffer.bind(eventsConnection);
    eventsConnection.xreadBuffer = ((...args: Parameters<typeof xread>) => gate.then(() => xread(...args))) as typeof eventsConnection.xreadBuffer;
    const client = new BullMqIssueClient({ queue, eventsConnection, enqueueTimeoutMs: 1_000 });
    await client.start();
    const key = `${prefix}:issue:events`;
    // An issue timeout far beyond this test's own: only noticing the trimmed result can answer in time.
    const answer = client.issueBatch([item('trimmed.example.com')], { timeoutMs: 3_600_000 });
    answer.catch(() => undefined);
    const completed = async (): Promise<true | undefined> => ((await writer.xrange(key, '-', '+')).some(([, f]) => f[1] === 'completed') ? true : undefined);
    await eventually(completed, 10_000, 'the job to complete');
    // Busy queues push ~10,000 newer events (BullMQ's stream length) before the gateway reads on.
    const pipeline = writer.pipeline();
    for (let i = 0; i < 10_100; i += 1) pipeline.xadd(key, '*', 'event', 'waiting', 'jobId', `other-${i}`);
    await pipeline.exec();
    await writer.xtrim(key, 'MAXLEN', 10_000);
    release();
    await expect(answer).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', httpStatus: 503, retryAfterSeconds: 2 });
    await worker.close();
    await client.close();
    await queue.close();
  });

  it('times out with ISSUANCE_TIMEOUT and removes a job no worker took', async () => {
    const s = await setup();
    await expect(s.client.issueBatch([item('slow.example.com')], { timeoutMs: 300 })).rejects.toMatchObject({ code: 'ISSUANCE_TIMEOUT', httpStatus: 504 });
    expect(await s.client.queueDepth()).toBe(0);
    await s.close();
  });

  it('reports a job result it cannot read as ISSUANCE_FAILED', async () => {
    const s = await setup(async () => ({ version: 2, nonsense: true }));
    await expect(s.client.issueBatch([item('odd.example.com')], { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'ISSUANCE_FAILED', httpStatus: 502 });
    await s.close();
  });

  it('reports a result whose record breaks its contract as ISSUANCE_FAILED, whichever field is wrong', async () => {
    const broken: Array<Record<string, unknown>> = [
      { serialNumber: 'XYZ' },
      { notAfter: '2026-02-30T00:00:00Z' },
      { provider: 'openssl' },
      { validityMs: 0 },
      { encryptedPrivateKey: 'clear key' },
      { certificatePem: '' },
      { commonName: 'x y' },
    ];
    let next = 0;
    const s = await setup(async (payload) => {
      const wrong = broken[next] ?? {};
      next += 1;
      return { version: 1, results: payload.requests.map((r) => ({ requestId: r.requestId, ok: true, certificate: { ...record(), ...wrong } })) };
    });
    for (const wrong of broken) {
      await expect(s.client.issueBatch([item('odd.example.com')], { timeoutMs: 5_000 }), JSON.stringify(wrong)).rejects.toMatchObject({ code: 'ISSUANCE_FAILED', httpStatus: 502 });
    }
    // The same record, unbroken, is answered.
    next = broken.length;
    const [answer] = await s.client.issueBatch([item('fine.example.com')], { timeoutMs: 5_000 });
    expect(answer).toMatchObject({ ok: true, certificate: { serialNumber: record()['serialNumber'] } });
    await s.close();
  });

  it('reads the everyday result without the schema parse, and the same record broken still meets the schema', async () => {
    let wrong: Record<string, unknown> = {};
    const s = await setup(async (payload) => ({ version: 1, results: payload.requests.map((r) => ({ requestId: r.requestId, ok: true, certificate: { ...record(), ...wrong } })) }));
    const parse = vi.spyOn(issueJobResultSchema, 'safeParse');
    try {
      const [answer] = await s.client.issueBatch([item('plain.example.com')], { timeoutMs: 5_000 });
      expect(answer).toMatchObject({ ok: true });
      expect(parse).not.toHaveBeenCalled();
      wrong = { issuerId: '' };
      await expect(s.client.issueBatch([item('odd.example.com')], { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'ISSUANCE_FAILED' });
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
      await s.close();
    }
  });

  it('counts waiting jobs as queue depth', async () => {
    const s = await setup();
    await s.queue.add('issue-batch', { version: 1, requests: [item('q.example.com')] });
    expect(await s.client.queueDepth()).toBe(1);
    await s.close();
  });

  it('answers BACKEND_UNAVAILABLE with Retry-After when Redis is down, without waiting for the issue timeout', async () => {
    const dead = await startRedisServer({ appendOnly: false });
    const prefix = '{gwq-dead}';
    const queue = createIssueQueue(conn('client', dead.url), prefix);
    queue.on('error', () => undefined);
    const client = new BullMqIssueClient({ queue, eventsConnection: conn('worker', dead.url), enqueueTimeoutMs: 1_000 });
    await client.start();
    await dead.kill();
    // An issue timeout far beyond this test's own: only the enqueue timeout can answer in time.
    await expect(client.issueBatch([item('down.example.com')], { timeoutMs: 3_600_000 })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      httpStatus: 503,
      retryAfterSeconds: 2,
    });
    await client.close();
    await dead.stop();
  });
});
