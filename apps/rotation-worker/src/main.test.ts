// Two rotation-worker processes against one Redis, with a ca-service doing the issuing: a cert
// inside its renewal window is rotated once, and both replicas stop cleanly on SIGTERM.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROTATION_SWEEP_QUEUE, createLogger, startCaService, type CaService } from '@fsm-certs/issuance';
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
  type CertEvent,
  type IssueJobResult,
  type IssueQueue,
  type RedisServerHandle,
} from '@fsm-certs/queue';
import { AppProcess } from '@fsm-certs/stack';

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
  const replicas: AppProcess[] = [];

  /** The first announcement after `afterId` that `matches` accepts. */
  async function firstEvent(afterId: string, matches: (event: CertEvent) => boolean): Promise<CertEvent> {
    const stop = new AbortController();
    try {
      for await (const { event } of new EventStream(redis, { prefix: PREFIX }).subscribe({ fromId: afterId, signal: stop.signal })) {
        if (matches(event)) return event;
      }
      throw new Error('the event stream ended');
    } finally {
      stop.abort();
    }
  }

  /** Resolves once `count` more sweeps (by either replica) have finished. */
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
    events = createQueueEvents(createRedisConnection(redisServer.url, { role: 'worker' }), 'issue', PREFIX);
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
    };
    replicas.push(new AppProcess('rotation-worker', { env }), new AppProcess('rotation-worker', { env }));
    await Promise.all(replicas.map((r) => r.waitForLine(/rotation-worker ready/, 60_000)));
  }, 90_000);

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await ca?.close();
    await sweeps?.close();
    sweepsConnection?.disconnect();
    await events?.close();
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
    const first = result.results[0];
    if (first?.ok !== true) throw new Error('issue failed');
    // The whole record from the inventory: a result record may reference the trust bundle (v2).
    const original = await inventory.get(name);
    if (original?.serialNumber !== first.certificate.serialNumber) throw new Error('the issued certificate is not in the inventory');
    const key = new EventStream(redis, { prefix: PREFIX }).key;
    const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
    // Time passes: its renewAt arrives.
    const moved = await inventory.put({ ...original, renewAt: new Date(Date.now() - 1_000).toISOString() }, { expectSerial: original.serialNumber });
    expect(moved.stored).toBe(true);

    await firstEvent(last?.[0] ?? '0', (e) => e.kind === 'rotated' && e.commonName === name);
    const current = await inventory.get(name);
    expect(current?.previousSerialNumber).toBe(original.serialNumber);
    // Let the replicas sweep several more times (each finds the new certificate not due), then count.
    await sweepsFinished(4);
    const rotated = (await redis.xrange(key, '-', '+'))
      .map(([, fields]) => certEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null')))
      .filter((e) => e.kind === 'rotated' && e.commonName === name);
    expect(rotated).toHaveLength(1);
    expect((await inventory.get(name))?.serialNumber).toBe(current?.serialNumber);

    for (const r of replicas) r.signal('SIGTERM');
    const exits = await Promise.all(replicas.map((r) => r.exited()));
    expect(exits).toEqual([0, 0]);
  }, 60_000);
});
