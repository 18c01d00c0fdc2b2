// The lean finished-job reader against a real Redis and a real BullMQ Queue and Worker: the
// stream layout it relies on is BullMQ's, so these tests fail if a BullMQ upgrade changes it.
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import { createRedisConnection } from '../redis/connection.js';
import { startRedisServer, type RedisServerHandle } from '../redis/launcher.js';
import { FinishedJobReader, type FinishedJobsGap } from './finished-jobs.js';

let server: RedisServerHandle;
const connections: Redis[] = [];

function conn(role: 'client' | 'worker', connectionName?: string): Redis {
  const c = createRedisConnection(server.url, { role, maxReconnectDelayMs: 100, ...(connectionName === undefined ? {} : { connectionName }) });
  c.on('error', () => undefined);
  connections.push(c);
  return c;
}

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await server.stop();
});

interface Outcome {
  readonly value?: unknown;
  readonly error?: Error;
}

function outcome(reader: FinishedJobReader, jobId: string): Promise<Outcome> {
  return new Promise((resolve) => reader.watch(jobId, { resolve: (value) => resolve({ value }), reject: (error) => resolve({ error }) }));
}

async function harness(processor: (data: { n: number }) => Promise<unknown>, readerName?: string) {
  const prefix = `{fj-${randomBytes(4).toString('hex')}}`;
  const queue = new Queue('issue', { connection: conn('client'), prefix });
  const worker = new Worker('issue', async (job) => processor(job.data as { n: number }), { connection: conn('worker'), prefix, concurrency: 4 });
  const gaps: FinishedJobsGap[] = [];
  const reader = new FinishedJobReader(conn('worker', readerName), 'issue', { prefix, blockMs: 1_000, onGap: (gap) => gaps.push(gap) });
  await reader.start();
  return {
    prefix,
    queue,
    reader,
    gaps,
    async close() {
      await reader.close();
      await worker.close();
      await queue.close();
    },
  };
}

describe('FinishedJobReader', () => {
  it('reads the events stream BullMQ writes: `completed` with the job id and its JSON result, `failed` with the reason', async () => {
    const h = await harness(async (data) => {
      if (data.n < 0) throw new UnrecoverableError('refused for good');
      return { doubled: data.n * 2, note: 'ünïcode ✓' };
    });
    const okId = randomUUID();
    const failId = randomUUID();
    const ok = outcome(h.reader, okId);
    const failed = outcome(h.reader, failId);
    await h.queue.add('issue-batch', { n: 21 }, { jobId: okId, removeOnComplete: true });
    await h.queue.add('issue-batch', { n: -1 }, { jobId: failId, attempts: 1 });
    expect(await ok).toEqual({ value: { doubled: 42, note: 'ünïcode ✓' } });
    const failure = await failed;
    expect(failure.error?.message).toBe('refused for good');
    // The layout relied on, as BullMQ 6 writes it: `event <name> jobId <id>` first, then the result.
    const entries = await conn('client').xrange(h.reader.key, '-', '+');
    const fieldsOf = (event: string, jobId: string) => entries.map(([, f]) => f).find((f) => f[1] === event && f[3] === jobId);
    expect(fieldsOf('completed', okId)?.slice(0, 6)).toEqual(['event', 'completed', 'jobId', okId, 'returnvalue', JSON.stringify({ doubled: 42, note: 'ünïcode ✓' })]);
    expect(fieldsOf('failed', failId)?.slice(0, 6)).toEqual(['event', 'failed', 'jobId', failId, 'failedReason', 'refused for good']);
    // The other entries of a job (added, waiting, active) share the first two pairs' layout.
    expect(entries.every(([, f]) => f[0] === 'event' && (f[1] === 'drained' || f[2] === 'jobId'))).toBe(true);
    expect(h.reader.watchedJobIds()).toEqual([]);
    await h.close();
  });

  it('passes over the finishes of jobs nobody watches and goes on delivering the watched ones', async () => {
    const h = await harness(async (data) => data.n);
    const id = randomUUID();
    // Not watched when it finishes: the event is read and passed over.
    await h.queue.add('issue-batch', { n: 1 }, { jobId: id });
    await eventually(async () => ((await h.queue.getJobState(id)) === 'completed' ? true : undefined), 5_000, 'the unwatched job to complete');
    const later = randomUUID();
    const answer = outcome(h.reader, later);
    await h.queue.add('issue-batch', { n: 7 }, { jobId: later });
    expect(await answer).toEqual({ value: 7 });
    await h.close();
  });

  it('reads on from the last entry it saw after its connection is cut: a finish written meanwhile still arrives', async () => {
    const name = `fj-reader-${randomBytes(3).toString('hex')}`;
    const h = await harness(async (data) => data.n, name);
    const admin = conn('client');
    const id = randomUUID();
    const answer = outcome(h.reader, id);
    const list = await admin.client('LIST');
    const readerId = /id=(\d+)[^\n]*name=(\S+)/g;
    const ids = [...String(list).matchAll(readerId)].filter((m) => m[2] === name).map((m) => m[1]);
    expect(ids).toHaveLength(1);
    await admin.client('KILL', 'ID', String(ids[0]));
    await h.queue.add('issue-batch', { n: 5 }, { jobId: id, removeOnComplete: true });
    expect(await answer).toEqual({ value: 5 });
    expect(h.gaps).toEqual([]);
    await h.close();
  });

  it('delivers the result of a job that finishes after Redis restarted under it', async () => {
    const own = await startRedisServer();
    const ownConn = (role: 'client' | 'worker'): Redis => {
      const c = createRedisConnection(own.url, { role, maxReconnectDelayMs: 100 });
      c.on('error', () => undefined);
      connections.push(c);
      return c;
    };
    const prefix = `{fj-${randomBytes(4).toString('hex')}}`;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const queue = new Queue('issue', { connection: ownConn('client'), prefix });
    queue.on('error', () => undefined);
    const worker = new Worker(
      'issue',
      async (job) => {
        started();
        await gate;
        return { n: (job.data as { n: number }).n };
      },
      { connection: ownConn('worker'), prefix },
    );
    worker.on('error', () => undefined);
    const reader = new FinishedJobReader(ownConn('worker'), 'issue', { prefix, blockMs: 1_000 });
    await reader.start();
    const id = randomUUID();
    const answer = outcome(reader, id);
    await queue.add('issue-batch', { n: 3 }, { jobId: id, removeOnComplete: true });
    await running;
    // The AOF keeps the stream and the job; every connection reconnects on its own.
    await own.restart();
    release();
    expect(await answer).toEqual({ value: { n: 3 } });
    await reader.close();
    await worker.close();
    await queue.close();
    await own.stop();
  });

  it('reports a gap when the entries after its last read were trimmed away unread', async () => {
    const prefix = `{fj-${randomBytes(4).toString('hex')}}`;
    const writer = conn('client');
    const key = `${prefix}:issue:events`;
    await writer.xadd(key, '*', 'event', 'waiting', 'jobId', 'seed');
    const readerConnection = conn('worker');
    // Holds the reader's first blocking read until the stream has been trimmed past its start.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const xread = readerConnection.xreadBuffer.bind(readerConnection);
    let held = true;
    readerConnection.xreadBuffer = ((...args: Parameters<typeof xread>) => (held ? gate.then(() => xread(...args)) : xread(...args))) as typeof readerConnection.xreadBuffer;
    const gaps: FinishedJobsGap[] = [];
    const reader = new FinishedJobReader(readerConnection, 'issue', { prefix, blockMs: 1_000, gapCheckEntries: 50, onGap: (gap) => gaps.push(gap) });
    await reader.start();
    const pipeline = writer.pipeline();
    for (let i = 0; i < 200; i += 1) pipeline.xadd(key, '*', 'event', 'waiting', 'jobId', `filler-${i}`);
    await pipeline.exec();
    await writer.xtrim(key, 'MAXLEN', 100);
    held = false;
    release();
    await eventually(async () => (gaps.length > 0 ? true : undefined), 5_000, 'the gap to be reported');
    expect(gaps).toHaveLength(1);
    const oldest = (await writer.xrange(key, '-', '+', 'COUNT', 1))[0]?.[0];
    expect(gaps[0]?.oldestId).toBe(oldest);
    await reader.close();
  });

  it('finds the event, job id and result by name when an entry lists them in another order', async () => {
    const prefix = `{fj-${randomBytes(4).toString('hex')}}`;
    const writer = conn('client');
    const key = `${prefix}:issue:events`;
    const reader = new FinishedJobReader(conn('worker'), 'issue', { prefix, blockMs: 1_000 });
    await reader.start();
    const done = randomUUID();
    const failed = randomUUID();
    const other = randomUUID();
    const answers = [outcome(reader, done), outcome(reader, failed), outcome(reader, other)];
    // Same-length names that are not `failed` / `completed` (`active`, `paused`; `completes`) are passed over.
    await writer.xadd(key, '*', 'jobId', other, 'event', 'active');
    await writer.xadd(key, '*', 'event', 'paused', 'jobId', other);
    await writer.xadd(key, '*', 'event', 'completes', 'jobId', other, 'returnvalue', '1');
    await writer.xadd(key, '*', 'jobId', done, 'event', 'completed', 'returnvalue', JSON.stringify({ n: 'ünïcode ✓' }));
    await writer.xadd(key, '*', 'prev', 'active', 'failedReason', 'refused', 'jobId', failed, 'event', 'failed');
    await writer.xadd(key, '*', 'event', 'completed', 'jobId', other, 'returnvalue', 'not json');
    const [a, b, c] = await Promise.all(answers);
    expect(a).toEqual({ value: { n: 'ünïcode ✓' } });
    expect(b?.error?.message).toBe('refused');
    expect(c?.error?.message).toBe(`the result of job ${other} is not JSON`);
    await reader.close();
  });

  it('refuses a connection that would give up during an outage', () => {
    expect(() => new FinishedJobReader(conn('client'), 'issue')).toThrow(/role: 'worker'/);
  });
});
