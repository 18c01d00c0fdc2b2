// A mass renewal (a root activation, or a day's certificates coming due at once) must not hold up
// workloads asking for new certificates: renewals have their own `rotate` queue and worker, so an
// interactive request is taken at once instead of queueing behind the renewal backlog (issue 15).
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, createIssueQueue, createIssueWorker, createRedisConnection, rotateJobId, type IssueJobResult, type IssueQueue, type RotateQueue } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { RenewalYield } from './renewals-yield.js';
import { PREFIX, item, startCaServiceFixture, type CaServiceFixture, type TestEnv } from './test-support.test-helpers.js';

const BACKLOG = 300;

describe('renewals and interactive requests', () => {
  let env: TestEnv;
  let queue: IssueQueue;
  let rotateQueue: RotateQueue;
  let events: QueueEvents;
  let fixture: CaServiceFixture | undefined;

  beforeAll(async () => {
    fixture = await startCaServiceFixture('ca-yield-1', { concurrency: 1 });
    ({ env, queue, rotateQueue, events } = fixture);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('takes a new request while hundreds of renewals are still queued, instead of after them', async () => {
    const names = Array.from({ length: BACKLOG }, (_, i) => `renew-${i}.ns.cluster.local`);
    const issued: IssueJobResult = await (await queue.add('issue-batch', { version: 1, requests: names.map((n) => item(n)) })).waitUntilFinished(events, 120_000);
    expect(issued.version === 1 && issued.results.every((r) => r.ok)).toBe(true);
    const inventory = new Inventory(env.connect(), { prefix: PREFIX });
    const records = await Promise.all(names.map((n) => inventory.get(n)));

    // The storm: every one of them due at once.
    await rotateQueue.pause();
    await rotateQueue.addBulk(
      records.map((r, i) => {
        const commonName = names[i] ?? '';
        const serialNumber = r?.serialNumber ?? '0';
        return { name: 'rotate', data: { version: 1 as const, commonName, serialNumber, reason: 'rotate-scheduled' as const }, opts: { jobId: rotateJobId(commonName, serialNumber) } };
      }),
    );
    await rotateQueue.resume();
    const fresh = await queue.add('issue-batch', { version: 1, requests: [item('interactive.ns.cluster.local')] });
    const answer = await fresh.waitUntilFinished(events, 60_000);

    expect(answer.version === 1 && answer.results[0]?.ok).toBe(true);
    // Answered while most of the renewal backlog still waits its turn.
    const left = await rotateQueue.getJobCounts('waiting', 'active');
    expect((left['waiting'] ?? 0) + (left['active'] ?? 0)).toBeGreaterThan(BACKLOG / 2);
  });
});

/** A promise settled from outside: stands for a job's work. */
function deferred(): { readonly promise: Promise<void>; resolve(): void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('RenewalYield: renewals give way to interactive issuance', () => {
  it('runs renewals on every lane while nothing interactive runs', async () => {
    const renewals = new RenewalYield({ lanes: 4 });
    const releases = await Promise.all([0, 1, 2, 3].map(() => renewals.acquire()));
    expect(renewals.state).toMatchObject({ renewing: 4, waitingRenewals: 0, limit: 4 });
    const fifth = renewals.acquire();
    expect(renewals.state.waitingRenewals).toBe(1);
    releases[0]?.();
    (await fifth)();
    for (const release of releases) release();
    expect(renewals.state).toMatchObject({ renewing: 0, waitingRenewals: 0 });
  });

  it('lets only one renewal start while an issue job is in flight, and gives renewals every lane back when it ends', async () => {
    const renewals = new RenewalYield({ lanes: 4 });
    const issueWork = deferred();
    const issueJob = renewals.interactiveWork(() => issueWork.promise)({});
    expect(renewals.state).toMatchObject({ interactive: 1, limit: 1 });

    const started: number[] = [];
    const jobs = [0, 1, 2, 3].map((i) => renewals.acquire().then((release) => (started.push(i), release)));
    const first = await jobs[0];
    expect(started).toEqual([0]);
    expect(renewals.state).toMatchObject({ renewing: 1, waitingRenewals: 3 });

    // The one lane frees and the next renewal takes it: renewals go on, one at a time.
    first?.();
    const second = await jobs[1];
    expect(started).toEqual([0, 1]);
    expect(renewals.state).toMatchObject({ renewing: 1, waitingRenewals: 2 });

    issueWork.resolve();
    await issueJob;
    const rest = await Promise.all(jobs.slice(2));
    expect(started).toEqual([0, 1, 2, 3]);
    expect(renewals.state).toMatchObject({ interactive: 0, renewing: 3, waitingRenewals: 0, limit: 4 });
    for (const release of [second, ...rest]) release?.();
    expect(renewals.state.renewing).toBe(0);
  });

  it('takes a renewal that waits before one asked later, and none past the limit while renewals already run when interactive work starts', async () => {
    const renewals = new RenewalYield({ lanes: 3 });
    const running = await Promise.all([renewals.acquire(), renewals.acquire()]);
    const issueWork = deferred();
    const issueJob = renewals.interactiveWork(() => issueWork.promise)({});
    const order: string[] = [];
    const a = renewals.acquire().then((release) => (order.push('a'), release));
    const b = renewals.acquire().then((release) => (order.push('b'), release));
    running[0]?.();
    expect(renewals.state).toMatchObject({ renewing: 1, waitingRenewals: 2 });
    running[1]?.();
    (await a)();
    expect(order).toEqual(['a']);
    issueWork.resolve();
    await issueJob;
    (await b)();
    expect(order).toEqual(['a', 'b']);
  });

  it('counts an issue job that fails as ended too', async () => {
    const renewals = new RenewalYield({ lanes: 2 });
    const failing = renewals.interactiveWork(() => Promise.reject(new Error('CA unavailable')));
    await expect(failing({})).rejects.toThrow('CA unavailable');
    expect(renewals.state).toMatchObject({ interactive: 0, limit: 2 });
  });

  it('drops a waiting renewal whose job is cancelled, rejecting with the reason', async () => {
    const renewals = new RenewalYield({ lanes: 1 });
    const held = await renewals.acquire();
    const controller = new AbortController();
    const waiting = renewals.acquire(controller.signal);
    controller.abort(new Error('ca-service shutting down'));
    await expect(waiting).rejects.toThrow('ca-service shutting down');
    expect(renewals.state.waitingRenewals).toBe(0);
    held();
    held();
    expect(renewals.state.renewing).toBe(0);
  });
});

describe('RenewalYield with a real BullMQ worker', () => {
  const db = usePrivateRedis({ flush: 'each' });

  it("still hands the issue processor BullMQ's cancellation signal, so a shutdown can hand its jobs back", async () => {
    const renewals = new RenewalYield({ lanes: 2 });
    const started = deferred();
    const seen: { signal?: AbortSignal; reason?: unknown } = {};
    const cancelled = deferred();
    const processor = renewals.interactiveWork(async (_job: unknown, _token?: string, signal?: AbortSignal): Promise<IssueJobResult> => {
      seen.signal = signal;
      started.resolve();
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      seen.reason = signal?.reason;
      cancelled.resolve();
      throw new Error('cancelled');
    });
    const queue = createIssueQueue(db.redis, '{yield-signal}');
    const connection = createRedisConnection(db.url, { role: 'worker' });
    const worker = createIssueWorker(connection, processor, { concurrency: 1 }, '{yield-signal}');
    try {
      await queue.add('issue-batch', { version: 1, requests: [item('cancel.cluster.local')] });
      await started.promise;
      expect(seen.signal).toBeInstanceOf(AbortSignal);
      worker.cancelAllJobs('shutting down');
      await cancelled.promise;
      expect(String(seen.reason)).toContain('shutting down');
    } finally {
      await worker.close(true);
      await queue.close();
      connection.disconnect();
    }
  });
});
