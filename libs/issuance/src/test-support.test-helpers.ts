// Shared fixtures for this lib's tests: a real redis-server, Tresor over a file store in a temp
// dir, openssl as the independent verifier, and a few builders. Not part of the build.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { FileSecretStore, TresorProvider } from '@fsm-certs/providers';
import {
  EventStream,
  Inventory,
  IssueBatchStore,
  createIssueQueue,
  createQueueEvents,
  createRedisConnection,
  createRotateQueue,
  generateKek,
  startRedisServer,
  certEventSchema,
  type CertEvent,
  type CertificateRecord,
  type IssueItem,
  type IssueJobResult,
  type IssueJobResultV1,
  type IssueJobResultV2,
  type IssueQueue,
  type KeyEncryptionKey,
  type RedisServerHandle,
  type RotateQueue,
} from '@fsm-certs/queue';
import type { QueueEvents } from 'bullmq';
import { createLogger, type Logger } from '@fsm-certs/runtime';
import { issueLeaf, type Issuer } from '@fsm-certs/x509';
import { announcementLog } from './announced.js';
import { startCaService, type CaService, type CaServiceOptions } from './ca-service.js';
import { CertificateIssuer, type CertificateIssuerDeps } from './certificate-issuer.js';
import { systemClock } from '@fsm-certs/core';
import { CpuGate } from './concurrency.js';
import { NameLock } from './name-lock.js';
import { defaultRenewAt } from './renew-at.js';

export const PREFIX = '{fsm-certs-test}';

export interface TestEnv {
  readonly redis: RedisServerHandle;
  readonly dataDir: string;
  readonly kek: KeyEncryptionKey;
  readonly kekBase64: string;
  /** Connections opened through connect(); closed by close(). */
  connect(): Redis;
  startTresor(): Promise<TresorProvider>;
  close(): Promise<void>;
}

export async function startTestEnv(): Promise<TestEnv> {
  const redis = await startRedisServer();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-issuance-'));
  const { kek, base64 } = generateKek();
  const opened: Redis[] = [];
  return {
    redis,
    dataDir,
    kek,
    kekBase64: base64,
    connect() {
      const c = createRedisConnection(redis.url, { role: 'worker' });
      c.on('error', () => undefined);
      opened.push(c);
      return c;
    },
    startTresor: () => TresorProvider.start({ store: new FileSecretStore({ dataDir }), namespace: 'fsm-system' }),
    async close() {
      for (const c of opened) c.disconnect();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A ca-service with the Tresor CA of `env`, on its Redis and prefix, logging to memory. */
export async function startTresorCaService(env: TestEnv, instanceId: string, extra: Partial<CaServiceOptions> = {}): Promise<CaService> {
  return startCaService({
    redisUrl: env.redis.url,
    prefix: PREFIX,
    provider: await env.startTresor(),
    kek: env.kek,
    instanceId,
    logger: memoryLogger(instanceId).logger,
    ...extra,
  });
}

/** A Tresor ca-service on a fresh test environment, with producers for both its queues. */
export interface CaServiceFixture {
  readonly env: TestEnv;
  readonly service: CaService;
  readonly queue: IssueQueue;
  readonly rotateQueue: RotateQueue;
  /** Issue-queue events, ready, for waitUntilFinished. */
  readonly events: QueueEvents;
  close(): Promise<void>;
}

export async function startCaServiceFixture(instanceId: string, extra: Partial<CaServiceOptions> = {}): Promise<CaServiceFixture> {
  const env = await startTestEnv();
  const service = await startTresorCaService(env, instanceId, extra);
  const client = env.connect();
  const queue = createIssueQueue(client, PREFIX);
  const rotateQueue = createRotateQueue(client, PREFIX);
  const events = createQueueEvents(env.connect(), 'issue', PREFIX);
  await events.waitUntilReady();
  return {
    env,
    service,
    queue,
    rotateQueue,
    events,
    async close() {
      await service.close();
      await events.close();
      await queue.close();
      await rotateQueue.close();
      await env.close();
    },
  };
}

/** A logger whose lines are kept in memory (and can be asserted on) instead of printed. */
export function memoryLogger(service = 'test'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
      done();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination }), lines };
}

/** A job result that carries its records (v1, v2): what a producer gets that does not ask for v3. */
export function carryingRecords(result: IssueJobResult): IssueJobResultV1 | IssueJobResultV2 {
  if (result.version === 3) throw new Error('expected a result carrying its records, got v3 (names only)');
  return result;
}

export function item(commonName: string, overrides: Partial<IssueItem> = {}): IssueItem {
  return {
    requestId: randomUUID(),
    commonName,
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: 24 * 3600_000,
    keyAlgorithm: 'ecdsa-p256',
    reason: 'request',
    ...overrides,
  };
}

/** When a leaf record's times fall, in epoch ms. */
export interface LeafTimes {
  readonly notBefore: number;
  readonly notAfter: number;
  readonly renewAt: number;
  readonly issuedAt: number;
}

/**
 * The record of a fresh CSR-mode leaf that `issuer` signs (an hour's validity), for tests that
 * store leaves into the inventory themselves; its issuer is both issuing CA and trusted root.
 */
export function csrLeafRecord(issuer: Issuer, commonName: string, at: LeafTimes, provider: CertificateRecord['provider'] = 'tresor'): CertificateRecord {
  const leaf = issueLeaf(issuer, { commonName, validityMs: 3600_000 });
  return {
    commonName,
    serialNumber: leaf.serialNumber,
    notBefore: new Date(at.notBefore).toISOString(),
    notAfter: new Date(at.notAfter).toISOString(),
    renewAt: new Date(at.renewAt).toISOString(),
    certificatePem: leaf.certificatePem,
    chainPem: [],
    issuingCaPem: issuer.certificatePem,
    trustedCasPem: [issuer.certificatePem],
    issuerId: issuer.fingerprint,
    provider,
    keyAlgorithm: 'ecdsa-p256',
    mode: 'csr',
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: 3600_000,
    issuedAt: new Date(at.issuedAt).toISOString(),
    warnings: [],
  };
}

/** Every event on the stream so far, oldest first. */
export async function readAllEvents(redis: Redis, prefix = PREFIX): Promise<CertEvent[]> {
  const stream = new EventStream(redis, { prefix });
  const entries = await redis.xrange(stream.key, '-', '+');
  return entries.map(([, fields]) => certEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null')));
}

export { eventually } from '@fsm-certs/testing';

/** A CertificateIssuer wired as the ca-service wires it (Tresor, real Redis), on its own connection. */
export async function startIssuer(env: TestEnv, overrides: Partial<CertificateIssuerDeps> = {}): Promise<{ issuer: CertificateIssuer; events: EventStream; redis: Redis }> {
  const redis = env.connect();
  const events = new EventStream(redis, { prefix: PREFIX });
  const issuer = new CertificateIssuer({
    provider: await env.startTresor(),
    inventory: new Inventory(redis, { prefix: PREFIX }),
    batchStore: new IssueBatchStore(redis, { prefix: PREFIX }),
    events,
    kek: env.kek,
    lock: new NameLock(redis, { prefix: PREFIX }),
    clock: systemClock,
    random: Math.random,
    renewAt: defaultRenewAt,
    logger: memoryLogger().logger,
    currentIssuerId: () => undefined,
    cpuGate: new CpuGate(),
    announcements: announcementLog(redis, events.key),
    ...overrides,
  });
  return { issuer, events, redis };
}
