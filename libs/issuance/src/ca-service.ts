// Wires the ca-service: the only process holding signing power. Consumes the `issue` and
// `rotate` queues, keeps the trust bundle in the inventory current, and beats a heartbeat the
// gateway's /readyz requires. All Redis connections reconnect forever, so a Redis restart
// pauses the service instead of ending it.
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { TresorProvider, type CertificateProvider } from '@fsm-certs/providers';
import {
  EventStream,
  Inventory,
  IssueBatchStore,
  createIssueWorker,
  createRedisConnection,
  DEFAULT_RECORD_FORMAT,
  createRotateWorker,
  createRotateQueue,
  createRootRotationWorker,
  liveInstances,
  ISSUER_GATEWAY_ROLE,
  AuditLog,
  DEFAULT_AUDIT_RETENTION_MS,
  publishHeartbeat,
  RotationStatusStore,
  trustBundleDigest,
  waitForRedis,
  type Heartbeat,
  type IssueJobPayload,
  type IssueJobResult,
  type KeyEncryptionKey,
  type RotateJobPayload,
  type RotateJobResult,
  type RootRotationJobPayload,
  type RootRotationJobResult,
  type RecordFormat,
} from '@fsm-certs/queue';
import type { Logger } from 'pino';
import { announcementLog } from './announced.js';
import { CertificateIssuer } from './certificate-issuer.js';
import { CpuGate, MarkerAwareWorker } from './concurrency.js';
import { defaultRandom, systemClock, type Clock, type RandomSource } from '@fsm-certs/core';
import { createIssueProcessor, type PublishedTrustBundle } from './issue-processor.js';
import { NameLock } from './name-lock.js';
import { defaultRenewAt, type RenewAtPolicy } from './renew-at.js';
import { createRotateProcessor } from './rotate-processor.js';
import { RenewalYield } from './renewals-yield.js';
import { DEFAULT_TRUST_BUNDLE_REFRESH_MS, startTrustBundleRefresh, syncTrustBundle } from './trust-bundle.js';
import { RootRotationController } from './root-rotation/controller.js';
import { createRootRotationProcessor } from './root-rotation/processor.js';

export const CA_SERVICE_ROLE = 'ca-service';

/** The BullMQ worker settings of a ca-service's issue and rotate workers, from its options (defaults filled in). */
export function caServiceWorkerSettings(options: Pick<CaServiceOptions, 'instanceId' | 'concurrency' | 'lockDurationMs' | 'stalledIntervalMs'>) {
  return {
    name: options.instanceId,
    concurrency: options.concurrency ?? 4,
    lockDuration: options.lockDurationMs ?? 10_000,
    stalledInterval: options.stalledIntervalMs ?? 5_000,
    // A crash mid-batch is exactly what must be survived; allow a few before giving up on a job.
    maxStalledCount: 3,
  };
}

export interface CaServiceOptions {
  readonly redisUrl: string;
  /** Key prefix with a hash tag, e.g. `{fsm-certs}`. */
  readonly prefix: string;
  readonly provider: CertificateProvider;
  readonly kek: KeyEncryptionKey;
  readonly instanceId: string;
  readonly logger: Logger;
  /** Jobs per queue processed at once by this process; default 4. */
  readonly concurrency?: number;
  /** Job lock; a killed replica's jobs are taken over this long after its last renewal. Default 10000. */
  readonly lockDurationMs?: number;
  /** Stalled-job check period; default 5000. */
  readonly stalledIntervalMs?: number;
  /** Heartbeat lifetime; refreshed every third of it. Default 10000. */
  readonly heartbeatTtlMs?: number;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly renewAt?: RenewAtPolicy;
  /** How often the provider's trust bundle is re-read (a root rotated inside Vault); default 10000. */
  readonly trustBundleRefreshMs?: number;
  /** Period of the root rotation controller (re-read the CA secret, move leaves, auto steps); default 2000. */
  readonly rotationTickMs?: number;
  /** The form inventory records are written in; default compact (see RecordFormat). */
  readonly recordFormat?: RecordFormat;
  /** How long the audit trail keeps the records this service writes (trust-bundle changes, root rotation stages); default 720h, as the gateway's. */
  readonly auditRetentionMs?: number;
}

export interface CaService {
  readonly issueWorker: Worker<IssueJobPayload, IssueJobResult>;
  readonly rotateWorker: Worker<RotateJobPayload, RotateJobResult>;
  readonly rootRotationWorker: Worker<RootRotationJobPayload, RootRotationJobResult>;
  readonly rootRotation: RootRotationController;
  readonly inventory: Inventory;
  /** For /readyz: Redis answers, the provider is started (not closed), both workers run. */
  readonly readiness: Readonly<Record<string, () => Promise<void>>>;
  /**
   * Aborts the provider calls of every job in hand; each job then goes back to the queue for
   * another replica (cert-manager deletes its pending CertificateRequest first). For a stop
   * whose budget is nearly spent; close() still has to be awaited.
   */
  cancelInFlight(reason: string): void;
  /** Finishes in-flight jobs, stops the heartbeat, closes the provider and every connection. */
  close(): Promise<void>;
}

function connection(url: string, name: string, logger: Logger): Redis {
  // No auto-pipelining: the issue path sends one commit script per slice, so there is little to
  // coalesce, and ioredis builds a Pipeline per coalesced write that copies every script defined
  // on the connection (the rotate queue defines 64): ~3% of the service's CPU under load.
  const redis = createRedisConnection(url, { role: 'worker', connectionName: name });
  // Without a listener ioredis prints every reconnect failure; with it they are one debug line.
  redis.on('error', (error: Error) => logger.debug({ connection: name, err: error.message }, 'redis connection error'));
  return redis;
}

/** Readiness waits this long for the root rotation's first pass; on a large inventory it finishes in the background. */
const START_TICK_WAIT_MS = 2_000;

export async function startCaService(options: CaServiceOptions): Promise<CaService> {
  const { logger, prefix } = options;
  const clock = options.clock ?? systemClock;
  const commands = connection(options.redisUrl, 'fsm-certs-ca-service', logger);
  const issueConnection = connection(options.redisUrl, 'fsm-certs-ca-service-issue', logger);
  const rotateConnection = connection(options.redisUrl, 'fsm-certs-ca-service-rotate', logger);
  const rootRotationConnection = connection(options.redisUrl, 'fsm-certs-ca-service-root-rotation', logger);
  const connections = [commands, issueConnection, rotateConnection, rootRotationConnection];
  try {
    await waitForRedis(commands, 30_000);
  } catch (error) {
    for (const c of connections) c.disconnect();
    throw error;
  }

  const recordFormat = options.recordFormat ?? DEFAULT_RECORD_FORMAT;
  const inventory = new Inventory(commands, { prefix, now: () => new Date(clock.now()), recordFormat });
  const events = new EventStream(commands, { prefix });
  const audit = new AuditLog(commands, { prefix, retentionMs: options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS, now: () => clock.now() });
  let currentIssuerId: string | undefined;
  let published: PublishedTrustBundle | undefined;
  const resyncTrustBundle = async (): Promise<void> => {
    // A replica publishing from a stale view would undo a root rotation step another replica
    // just stored: read the CA secret first (Tresor; the others ask their backend anyway).
    if (options.provider instanceof TresorProvider) await options.provider.reload();
    const sync = await syncTrustBundle({ provider: options.provider, inventory, events, clock, audit });
    currentIssuerId = sync.issuerId;
    const { issuingCaPem, trustedCasPem } = sync.bundle;
    published = { digest: trustBundleDigest(issuingCaPem, trustedCasPem), issuingCaPem, trustedCasPem };
    if (sync.changed) logger.info({ issuerId: sync.issuerId, rootNotAfter: sync.bundle.rootNotAfter }, 'trust bundle published');
  };
  await resyncTrustBundle();
  // After a reconnect Redis may have lost its data (no persistence): put the bundle back.
  let connectedOnce = false;
  commands.on('ready', () => {
    if (!connectedOnce) {
      connectedOnce = true;
      return;
    }
    logger.info('redis reconnected: re-checking the trust bundle');
    resyncTrustBundle().catch((error: unknown) => logger.warn({ err: error }, 'trust bundle re-sync failed; will retry on next reconnect'));
  });
  connectedOnce = commands.status === 'ready';
  const trustRefresh = startTrustBundleRefresh({
    intervalMs: options.trustBundleRefreshMs ?? DEFAULT_TRUST_BUNDLE_REFRESH_MS,
    resync: resyncTrustBundle,
    onError: (error) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'trust bundle refresh failed; retrying on the next tick'),
  });

  const issuer = new CertificateIssuer({
    provider: options.provider,
    inventory,
    batchStore: new IssueBatchStore(commands, { prefix, recordFormat, auditRetentionMs: options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS, now: () => clock.now() }),
    events,
    kek: options.kek,
    lock: new NameLock(commands, { prefix }),
    clock,
    random: options.random ?? defaultRandom,
    renewAt: options.renewAt ?? defaultRenewAt,
    logger,
    currentIssuerId: () => currentIssuerId,
    announcements: announcementLog(commands, events.key, clock),
    cpuGate: new CpuGate(),
    // Tresor signs here in ~0.1 ms: a signature wasted on a name that exists after all costs less
    // than a lookup round trip per batch. A Vault or cert-manager issuance costs far more.
    optimisticNewNames: options.provider.kind === 'tresor',
  });

  const settings = caServiceWorkerSettings(options);
  const renewals = new RenewalYield({ lanes: settings.concurrency });
  const issueWorker = createIssueWorker(issueConnection, renewals.interactiveWork(createIssueProcessor({ issuer, logger, trustBundle: () => published })), settings, prefix, MarkerAwareWorker);
  const rotateWorker = createRotateWorker(rotateConnection, createRotateProcessor({ issuer, logger, renewals }), settings, prefix);
  const rotateQueue = createRotateQueue(commands, prefix);
  rotateQueue.on('error', (error: Error) => logger.debug({ err: error.message }, 'rotate queue error'));
  const rootRotation = new RootRotationController({
    provider: options.provider,
    inventory,
    events,
    status: new RotationStatusStore(commands, { prefix }),
    rotateQueue,
    liveInstances: () => liveInstances(commands, CA_SERVICE_ROLE, prefix),
    liveGateways: () => liveInstances(commands, ISSUER_GATEWAY_ROLE, prefix),
    instanceId: options.instanceId,
    clock,
    logger,
    resyncTrustBundle,
    audit,
    currentIssuerId: () => currentIssuerId,
    publishedBundle: () => published,
    ...(options.rotationTickMs === undefined ? {} : { tickMs: options.rotationTickMs }),
  });
  // One action at a time per replica; across replicas the secret's optimistic concurrency decides.
  const rootRotationWorker = createRootRotationWorker(rootRotationConnection, createRootRotationProcessor(rootRotation, logger), { ...settings, concurrency: 1 }, prefix);
  for (const [queue, worker] of [
    ['issue', issueWorker],
    ['rotate', rotateWorker],
    ['root-rotation', rootRotationWorker],
  ] as const) {
    worker.on('error', (error: Error) => logger.warn({ queue, err: error.message }, 'worker error (retrying)'));
    worker.on('failed', (job, error) => logger.warn({ queue, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error.message }, 'job failed'));
    worker.on('stalled', (jobId) => logger.warn({ queue, jobId }, 'took over a stalled job'));
  }

  const heartbeat: Heartbeat = publishHeartbeat(commands, {
    role: CA_SERVICE_ROLE,
    instanceId: options.instanceId,
    ttlMs: options.heartbeatTtlMs ?? 10_000,
    prefix,
    onError: (error) => logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'heartbeat failed'),
  });
  await Promise.all([issueWorker.waitUntilReady(), rotateWorker.waitUntilReady(), rootRotationWorker.waitUntilReady(), heartbeat.ready]);
  await rootRotation.firstTick(START_TICK_WAIT_MS);
  rootRotation.start();
  logger.info({ instanceId: options.instanceId, concurrency: settings.concurrency, issuerId: currentIssuerId, recordFormat }, 'ca-service ready');

  let closing: Promise<void> | undefined;
  return {
    issueWorker,
    rotateWorker,
    rootRotationWorker,
    rootRotation,
    inventory,
    readiness: {
      redis: async () => {
        await commands.ping();
      },
      provider: () => (closing === undefined ? Promise.resolve() : Promise.reject(new Error(`${options.provider.kind} provider is closing`))),
      workers: () => {
        const stopped = [issueWorker, rotateWorker, rootRotationWorker].filter((w) => !w.isRunning() || w.closing !== undefined).map((w) => w.name);
        return stopped.length === 0 ? Promise.resolve() : Promise.reject(new Error(`not consuming: ${stopped.join(', ')}`));
      },
    },
    cancelInFlight(reason) {
      logger.warn({ reason }, 'cancelling the jobs in hand: they go back to the queue');
      issueWorker.cancelAllJobs(reason);
      rotateWorker.cancelAllJobs(reason);
    },
    close() {
      closing ??= (async () => {
        trustRefresh.stop();
        // Workers first: they finish the jobs in hand, which still need Redis and the provider.
        await Promise.all([issueWorker.close(), rotateWorker.close(), rootRotationWorker.close()]);
        await rootRotation.stop();
        await rotateQueue.close();
        await heartbeat.stop();
        await options.provider.close();
        await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return closing;
    },
  };
}
