// Scheduled rotation end to end inside one test process but with separate connections per
// instance, as replicas would have: a ca-service and TWO rotation-workers sharing one Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, createIssueQueue, createQueueEvents, type IssueJobResult, type IssueQueue, type CertificateRecord } from '@fsm-certs/queue';
import { QueueEvents } from 'bullmq';
import type { CaService } from './ca-service.js';
import { ROTATION_SWEEP_QUEUE, startRotationWorker, type RotationWorker } from './rotation-worker.js';
import { opensslVerify } from '@fsm-certs/testing';
import { PREFIX, eventually, item, memoryLogger, readAllEvents, startTestEnv, startTresorCaService, type TestEnv } from './test-support.test-helpers.js';

describe('rotation-worker replicas and the ca-service', () => {
  let env: TestEnv;
  let service: CaService;
  let workers: RotationWorker[] = [];
  let queue: IssueQueue;
  let events: QueueEvents;
  let inventory: Inventory;
  let sweeps: QueueEvents;

  /** Resolves once `count` more scheduled sweeps (by either replica) have finished. */
  function sweepsFinished(count: number): Promise<void> {
    return new Promise((resolve) => {
      let left = count;
      const onCompleted = (): void => {
        left -= 1;
        if (left > 0) return;
        sweeps.off('completed', onCompleted);
        resolve();
      };
      sweeps.on('completed', onCompleted);
    });
  }

  beforeAll(async () => {
    env = await startTestEnv();
    service = await startTresorCaService(env, 'ca-rot-1', { lockDurationMs: 4_000, stalledIntervalMs: 2_000 });
    workers = await Promise.all(
      [1, 2].map((n) =>
        startRotationWorker({
          redisUrl: env.redis.url,
          prefix: PREFIX,
          instanceId: `rotation-worker-${n}`,
          logger: memoryLogger(`rotation-worker-${n}`).logger,
          intervalMs: 150,
        }),
      ),
    );
    const client = env.connect();
    queue = createIssueQueue(client, PREFIX);
    events = createQueueEvents(env.connect(), 'issue', PREFIX);
    await events.waitUntilReady();
    sweeps = new QueueEvents(ROTATION_SWEEP_QUEUE, { connection: env.connect(), prefix: PREFIX });
    await sweeps.waitUntilReady();
    inventory = new Inventory(client, { prefix: PREFIX });
  });

  afterAll(async () => {
    for (const w of workers) await w.close();
    await service?.close();
    await sweeps?.close();
    await events?.close();
    await queue?.close();
    await env?.close();
  });

  async function issue(commonName: string): Promise<CertificateRecord> {
    const req = item(commonName);
    const job = await queue.add('issue-batch', { version: 1, requests: [req] });
    const result: IssueJobResult = await job.waitUntilFinished(events, 30_000);
    if (result.version !== 1) throw new Error(`expected a v1 result, got v${result.version}`);
    const first = result.results[0];
    if (first?.ok !== true) throw new Error(`issue failed: ${JSON.stringify(first)}`);
    return first.certificate;
  }

  /** What the passage of time does: the cert's renewAt arrives. */
  async function bringIntoRenewalWindow(record: CertificateRecord): Promise<void> {
    const moved = await inventory.put({ ...record, renewAt: new Date(Date.now() - 1_000).toISOString() }, { expectSerial: record.serialNumber });
    expect(moved.stored).toBe(true);
  }

  async function rotatedFrom(commonName: string, serial: string): Promise<CertificateRecord> {
    return eventually(
      async () => {
        const now = await inventory.get(commonName);
        return now !== undefined && now.serialNumber !== serial ? now : undefined;
      },
      15_000,
      `${commonName} to be rotated`,
    );
  }

  it('registers one shared sweep schedule for both replicas', async () => {
    const schedulers = await workers[0]?.sweepQueue.getJobSchedulers();
    expect(schedulers?.map((s) => s.key)).toEqual(['rotation-sweep']);
    expect(schedulers?.[0]?.every).toBe(150);
  });

  it('rotates a certificate inside its renewal window exactly once and announces it once', async () => {
    const name = 'due-once.cluster.local';
    const original = await issue(name);
    const untouched = await issue('not-due.cluster.local');
    await bringIntoRenewalWindow(original);

    const rotated = await rotatedFrom(name, original.serialNumber);
    expect(rotated.previousSerialNumber).toBe(original.serialNumber);
    // Its renewal is well inside its own lifetime, not due at once.
    const notBefore = Date.parse(rotated.notBefore);
    expect(Date.parse(rotated.renewAt) - notBefore).toBeGreaterThan((Date.parse(rotated.notAfter) - notBefore) / 2);
    expect(opensslVerify(rotated.certificatePem, rotated.trustedCasPem).ok).toBe(true);
    // Many sweeps by both replicas later, still one rotation.
    await sweepsFinished(6);
    expect((await inventory.get(name))?.serialNumber).toBe(rotated.serialNumber);
    const announced = (await readAllEvents(env.connect())).filter((e) => e.kind === 'rotated' && e.commonName === name);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ reason: 'rotate-scheduled', previousSerialNumber: original.serialNumber, serialNumber: rotated.serialNumber });
    expect((await inventory.get('not-due.cluster.local'))?.serialNumber).toBe(untouched.serialNumber);
  });

  it('rotates many due certificates, each once, with both replicas sweeping concurrently', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `bulk-${i}.cluster.local`);
    const originals = await Promise.all(names.map((n) => issue(n)));
    await Promise.all(originals.map((r) => bringIntoRenewalWindow(r)));
    // Sweep by hand from both replicas at once as well, on top of the schedule.
    await Promise.all(workers.map((w) => w.sweepNow()));
    await Promise.all(originals.map((r) => rotatedFrom(r.commonName, r.serialNumber)));
    await sweepsFinished(4);
    const rotated = (await readAllEvents(env.connect())).filter((e) => e.kind === 'rotated' && names.includes(e.commonName));
    expect(rotated).toHaveLength(names.length);
  });

  it('keeps issuing and rotating across a Redis restart without restarting any service', async () => {
    const before = await issue('before-restart.cluster.local');
    await env.redis.restart();
    const after = await eventually(
      async () => {
        try {
          return await issue('after-restart.cluster.local');
        } catch {
          return undefined;
        }
      },
      20_000,
      'issuance after the Redis restart',
    );
    expect(opensslVerify(after.certificatePem, after.trustedCasPem).ok).toBe(true);
    expect((await inventory.get('before-restart.cluster.local'))?.serialNumber).toBe(before.serialNumber);
    // The sweep schedule still fires: a cert brought into its window after the restart rotates.
    await bringIntoRenewalWindow(after);
    await rotatedFrom('after-restart.cluster.local', after.serialNumber);
  });
});
