// The ca-service as a process: crash in the middle of a batch (kill -9) and graceful SIGTERM.
// Jobs go in through the issue queue exactly as the gateway puts them there.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EventStream,
  Inventory,
  certEventSchema,
  createIssueQueue,
  createQueueEvents,
  createRedisConnection,
  startRedisServer,
  type CertEvent,
  type IssueItem,
  type IssueJobResult,
  type IssueQueue,
  type RedisServerHandle,
} from '@fsm-certs/queue';
import { AppProcess } from '@fsm-certs/stack';
import { opensslVerify } from '@fsm-certs/testing';

const PREFIX = '{fsm-ca-app-test}';

function item(commonName: string, keyAlgorithm: IssueItem['keyAlgorithm'] = 'rsa-2048'): IssueItem {
  return { requestId: randomUUID(), commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs: 24 * 3600_000, keyAlgorithm, reason: 'request' };
}


async function allEvents(redis: Redis): Promise<CertEvent[]> {
  const key = new EventStream(redis, { prefix: PREFIX }).key;
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, fields]) => certEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null')));
}

describe('ca-service process', () => {
  let redisServer: RedisServerHandle;
  let dataDir: string;
  let redis: Redis;
  let queue: IssueQueue;
  let events: QueueEvents;
  let inventory: Inventory;
  let app: AppProcess | undefined;

  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    REDIS_URL: redisServer.url,
    FSM_REDIS_PREFIX: PREFIX,
    FSM_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    CA_SERVICE_CONCURRENCY: '2',
    CA_SERVICE_LOCK_DURATION: '2s',
    CA_SERVICE_STALLED_INTERVAL: '1s',
    HEALTH_PORT: '0',
  });

  beforeAll(async () => {
    redisServer = await startRedisServer();
    dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-ca-app-'));
    redis = createRedisConnection(redisServer.url, { role: 'worker' });
    queue = createIssueQueue(redis, PREFIX);
    events = createQueueEvents(createRedisConnection(redisServer.url, { role: 'worker' }), 'issue', PREFIX);
    await events.waitUntilReady();
    inventory = new Inventory(redis, { prefix: PREFIX });
  });

  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  afterAll(async () => {
    await events?.close();
    await queue?.close();
    redis?.disconnect();
    await redisServer?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startApp(): Promise<AppProcess> {
    const started = new AppProcess('ca-service', { env: env() });
    await started.waitForLine(/ca-service ready/, 60_000);
    return started;
  }

  async function waitForStored(count: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const size = await inventory.size();
      if (size >= count || Date.now() > deadline) return size;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('after kill -9 in the middle of a batch, a restarted ca-service completes it: one cert per request, none twice', async () => {
    app = await startApp();
    const names = Array.from({ length: 16 }, (_, i) => `crash-${i}.cluster.local`);
    const requests = names.map((n) => item(n));
    const before = await inventory.size();
    const job = await queue.add('issue-batch', { version: 1, requests });
    // Kill once part of the batch is stored, and prove the kill really landed mid-batch.
    const stored = (await waitForStored(before + 3, 30_000)) - before;
    await app.kill();
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(names.length);
    expect(await job.getState()).toBe('active');

    app.restart();
    const result: IssueJobResult = await job.waitUntilFinished(events, 60_000);
    const after = await queue.getJob(String(job.id));
    expect((after?.stalledCounter ?? 0) + (after?.attemptsStarted ?? 0)).toBeGreaterThan(1);

    const bundle = await inventory.getTrustBundle();
    const root = bundle?.trustedCasPem[0] ?? '';
    expect(result.results).toHaveLength(names.length);
    for (const r of result.results) {
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect((await inventory.get(r.certificate.commonName))?.serialNumber).toBe(r.certificate.serialNumber);
      expect(opensslVerify(r.certificate.certificatePem, root).ok).toBe(true);
    }
    const issued = (await allEvents(redis)).filter((e) => e.kind === 'issued' && names.includes(e.commonName));
    expect(issued).toHaveLength(names.length);
    expect(new Set(issued.map((e) => (e.kind === 'issued' ? e.commonName : ''))).size).toBe(names.length);
    const serials = new Set(result.results.map((r) => (r.ok ? r.certificate.serialNumber : '')));
    expect(issued.every((e) => e.kind === 'issued' && serials.has(e.serialNumber))).toBe(true);
  }, 120_000);

  it('on SIGTERM finishes the job in hand, then exits 0', async () => {
    app = await startApp();
    const requests = Array.from({ length: 6 }, (_, i) => item(`term-${i}.cluster.local`));
    const before = await inventory.size();
    const job = await queue.add('issue-batch', { version: 1, requests });
    await waitForStored(before + 1, 30_000);
    expect(await job.getState()).toBe('active');
    app.signal('SIGTERM');
    const exit = await app.exited();
    if ((await job.getState()) !== 'completed') console.log(app.recentOutput.join('\n'));
    expect(exit).toBe(0);
    expect(await job.getState()).toBe('completed');
    const done = await queue.getJob(String(job.id));
    expect(done?.returnvalue?.results.every((r) => r.ok)).toBe(true);
    expect(app.recentOutput.some((l) => l.includes('stopped cleanly'))).toBe(true);
    // Keys never reach the logs, neither clear nor sealed.
    expect(app.recentOutput.join('\n')).not.toMatch(/PRIVATE KEY|"v1\.[A-Za-z0-9_-]{8,}\./);
  }, 60_000);
});
