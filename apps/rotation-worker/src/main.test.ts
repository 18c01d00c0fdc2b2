// Two rotation-worker processes against one Redis, with a ca-service doing the issuing: a cert
// inside its renewal window is rotated once, and both replicas stop cleanly on SIGTERM.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROTATION_SWEEP_QUEUE, startCaService, type CaService } from '@fsm-certs/issuance';
import { createLogger } from '@fsm-certs/runtime';
import { FileSecretStore, TresorProvider } from '@fsm-certs/providers';
import {
  EventStream,
  Inventory,
  certEventSchema,
  createIssueQueue,
  createQueueEvents,
  createRedisConnection,
  generateKek,
  startRedisServer,
  type IssueJobResult,
  type IssueQueue,
  type RedisServerHandle,
} from '@fsm-certs/queue';
import { AppProcess } from '@fsm-certs/stack';
import { eventually } from '@fsm-certs/testing';

const PREFIX = '{fsm-rw-app-test}';

describe('rotation-worker processes', () => {
  let redisServer: RedisServerHandle;
  let dataDir: string;
  let redis: Redis;
  let ca: CaService;
  let queue: IssueQueue;
  let events: QueueEvents;
  let inventory: Inventory;
  let sweeps: QueueEvents;
  let sweepsConnection: Redis;
  let eventsConnection: Redis;
  const replicas: AppProcess[] = [];

  beforeAll(async () => {
    redisServer = await startRedisServer();
    dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-rw-app-'));
    ca = await startCaService({
      redisUrl: redisServer.url,
      prefix: PREFIX,
      provider: await TresorProvider.start({ store: new FileSecretStore({ dataDir }) }),
      kek: generateKek().kek,
      instanceId: 'ca-for-rotation-test',
      logger: createLogger({ service: 'ca-service', level: 'silent' }),
    });
    redis = createRedisConnection(redisServer.url, { role: 'worker' });
    queue = createIssueQueue(redis, PREFIX);
    eventsConnection = createRedisConnection(redisServer.url, { role: 'worker' });
    events = createQueueEvents(eventsConnection, 'issue', PREFIX);
    await events.waitUntilReady();
    inventory = new Inventory(redis, { prefix: PREFIX });
    sweepsConnection = createRedisConnection(redisServer.url, { role: 'worker' });
    sweeps = new QueueEvents(ROTATION_SWEEP_QUEUE, { connection: sweepsConnection, prefix: PREFIX });
    await sweeps.waitUntilReady();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      REDIS_URL: redisServer.url,
      FSM_REDIS_PREFIX: PREFIX,
      FSM_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ROTATION_SWEEP_INTERVAL: '200ms',
      HEALTH_PORT: '0',
    };
    replicas.push(new AppProcess('rotation-worker', { env }), new AppProcess('rotation-worker', { env }));
    await Promise.all(replicas.map((r) => r.waitForLine(/rotation-worker ready/, 60_000)));
  }, 90_000);

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await sweeps?.close();
    sweepsConnection?.disconnect();
    await ca?.close();
    await events?.close();
    eventsConnection?.disconnect();
    await queue?.close();
    redis?.disconnect();
    await redisServer?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rotates a certificate brought into its renewal window exactly once, then both replicas exit 0 on SIGTERM', async () => {
    const name = 'rotate-me.bookstore.cluster.local';
    const job = await queue.add('issue-batch', {
      version: 1,
      requests: [{ requestId: randomUUID(), commonName: name, dnsNames: [], uris: [], ipAddresses: [], validityMs: 3600_000, keyAlgorithm: 'ecdsa-p256', reason: 'request' }],
    });
    const result: IssueJobResult = await job.waitUntilFinished(events, 30_000);
    // This producer does not ask for v3: the record comes with the result.
    if (result.version === 3) throw new Error('expected a result carrying its records, got v3');
    const first = result.results[0];
    if (first?.ok !== true) throw new Error('issue failed');
    // The whole record from the inventory: a result record may reference the trust bundle (v2).
    const original = await inventory.get(name);
    if (original?.serialNumber !== first.certificate.serialNumber) throw new Error('the issued certificate is not in the inventory');
    // Time passes: its renewAt arrives.
    const moved = await inventory.put({ ...original, renewAt: new Date(Date.now() - 1_000).toISOString() }, { expectSerial: original.serialNumber });
    expect(moved.stored).toBe(true);

    const current = await eventually(async () => {
      const record = await inventory.get(name);
      return record !== undefined && record.serialNumber !== original.serialNumber ? record : undefined;
    }, 30_000, 'the certificate to be rotated');
    expect(current.previousSerialNumber).toBe(original.serialNumber);
    // Both replicas go on sweeping: wait for three more completed sweeps, then count.
    let swept = 0;
    const onSwept = (): void => void (swept += 1);
    sweeps.on('completed', onSwept);
    try {
      await eventually(async () => (swept >= 3 ? true : undefined), 30_000, 'three more sweeps');
    } finally {
      sweeps.off('completed', onSwept);
    }
    const key = new EventStream(redis, { prefix: PREFIX }).key;
    const rotated = (await redis.xrange(key, '-', '+'))
      .map(([, fields]) => certEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null')))
      .filter((e) => e.kind === 'rotated' && e.commonName === name);
    expect(rotated).toHaveLength(1);
    expect((await inventory.get(name))?.serialNumber).toBe(current.serialNumber);

    for (const r of replicas) r.signal('SIGTERM');
    const exits = await Promise.all(replicas.map((r) => r.exited()));
    expect(exits).toEqual([0, 0]);
  }, 60_000);
});
