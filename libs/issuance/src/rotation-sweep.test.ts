// The sweep's decisions in isolation: which (name, serial) pairs become rotate jobs. A real
// Redis-backed queue records what was enqueued; the inventory is a table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnrecoverableError } from 'bullmq';
import { createRotateQueue, createRotateWorker, rotateJobId, type CertificateRecord, type DueEntry, type RotateQueue } from '@fsm-certs/queue';
import { sweepOnce } from './rotation-sweep.js';
import { PREFIX, eventually, memoryLogger, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function record(commonName: string, serialNumber: string, renewAtMs: number): CertificateRecord {
  return {
    commonName,
    serialNumber,
    notBefore: new Date(NOW - 3600_000).toISOString(),
    notAfter: new Date(NOW + 3600_000).toISOString(),
    renewAt: new Date(renewAtMs).toISOString(),
    certificatePem: 'x',
    chainPem: [],
    issuingCaPem: 'x',
    trustedCasPem: ['x'],
    issuerId: 'ab',
    provider: 'tresor',
    keyAlgorithm: 'ecdsa-p256',
    mode: 'server-key',
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: 7200_000,
    issuedAt: new Date(NOW).toISOString(),
    warnings: [],
  };
}

function fakeInventory(due: DueEntry[], current: Record<string, CertificateRecord>) {
  return {
    due: async () => due,
    get: async (name: string) => current[name],
  };
}

describe('rotation sweep', () => {
  let env: TestEnv;
  let queue: RotateQueue;
  const logger = memoryLogger('sweep').logger;
  const clock = { now: () => NOW };

  beforeAll(async () => {
    env = await startTestEnv();
    queue = createRotateQueue(env.connect(), PREFIX);
  });
  afterAll(async () => {
    await queue?.close();
    await env?.close();
  });

  it('enqueues one rotate job per due (name, serial) with the dedupe id, once across repeated sweeps', async () => {
    const inventory = fakeInventory(
      [{ commonName: 'a.local', serialNumber: 'aa01', renewAtMs: NOW - 10 }],
      { 'a.local': record('a.local', 'aa01', NOW - 10) },
    );
    const first = await sweepOnce({ inventory, rotateQueue: queue, clock, logger, limit: 10 });
    const second = await sweepOnce({ inventory, rotateQueue: queue, clock, logger, limit: 10 });
    expect(first).toEqual({ due: 1, enqueued: 1, retried: 0 });
    expect(second).toEqual({ due: 1, enqueued: 0, retried: 0 });
    const job = await queue.getJob(rotateJobId('a.local', 'aa01'));
    expect(job?.data).toEqual({ version: 1, commonName: 'a.local', serialNumber: 'aa01', reason: 'rotate-scheduled' });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
  });

  it('skips a name rotated between reading the index and reading its serial (its new cert is not due)', async () => {
    // The index said "b.local is due" for its old cert; by the time the serial was read the new
    // cert (bb02, renewAt in the future) had replaced it.
    const inventory = fakeInventory(
      [{ commonName: 'b.local', serialNumber: 'bb02', renewAtMs: NOW - 10 }],
      { 'b.local': record('b.local', 'bb02', NOW + 3000_000) },
    );
    const result = await sweepOnce({ inventory, rotateQueue: queue, clock, logger, limit: 10 });
    expect(result.due).toBe(0);
    expect(await queue.getJob(rotateJobId('b.local', 'bb02'))).toBeUndefined();
  });

  it('skips names released since the index was read', async () => {
    const inventory = fakeInventory([{ commonName: 'gone.local', serialNumber: 'cc01', renewAtMs: NOW - 10 }], {});
    expect((await sweepOnce({ inventory, rotateQueue: queue, clock, logger, limit: 10 })).due).toBe(0);
  });

  it('tries a rotation that failed for good again, but only after the retry delay', async () => {
    const name = 'd.local';
    const longAgo = Date.parse('2020-01-01T00:00:00Z');
    const inventory = fakeInventory([{ commonName: name, serialNumber: 'dd01', renewAtMs: longAgo }], { [name]: record(name, 'dd01', longAgo) });
    await sweepOnce({ inventory, rotateQueue: queue, clock, logger, limit: 10 });
    // A ca-service that fails it permanently.
    const worker = createRotateWorker(env.connect(), async () => {
      throw new UnrecoverableError('backend refused');
    }, {}, PREFIX);
    const jobId = rotateJobId(name, 'dd01');
    await eventually(async () => ((await (await queue.getJob(jobId))?.getState()) === 'failed' ? true : undefined), 10_000, 'the job to fail');
    await worker.close();
    const failedAt = (await queue.getJob(jobId))?.finishedOn ?? 0;

    const soon = await sweepOnce({ inventory, rotateQueue: queue, clock: { now: () => failedAt + 1_000 }, logger, limit: 10, retryFailedAfterMs: 60_000 });
    expect(soon.retried).toBe(0);
    expect(await (await queue.getJob(jobId))?.getState()).toBe('failed');

    const later = await sweepOnce({ inventory, rotateQueue: queue, clock: { now: () => failedAt + 61_000 }, logger, limit: 10, retryFailedAfterMs: 60_000 });
    expect(later.retried).toBe(1);
    expect(await (await queue.getJob(jobId))?.getState()).toBe('waiting');
  });
});
