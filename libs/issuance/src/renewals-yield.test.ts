// A mass renewal (a root activation, or a day's certificates coming due at once) must not hold up
// workloads asking for new certificates: renewals have their own `rotate` queue and worker, so an
// interactive request is taken at once instead of queueing behind the renewal backlog (issue 15).
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, rotateJobId, type IssueJobResult, type IssueQueue, type RotateQueue } from '@fsm-certs/queue';
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
