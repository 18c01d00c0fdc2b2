// The running issuer-gateway: Redis connections, the issue queue + its events, inventory, event
// stream, readiness checks, optional HTTPS (its certificate renewed while running), and an
// orderly close. apps/issuer-gateway maps the configuration onto these options; libs/runtime
// handles signals and the shutdown budget.
import type { Registry } from 'prom-client';
import { createMetricsRegistry } from '@fsm-certs/runtime';
import {
  EventStream,
  Inventory,
  createIssueQueue,
  createQueueEvents,
  createRootRotationQueue,
  RotationStatusStore,
  createRedisConnection,
  liveInstances,
  publishHeartbeat,
  waitForRedis,
  ISSUER_GATEWAY_ROLE,
  QUEUE_NAMES,
  SharedRateLimiter,
  AuditLog,
  InventoryHealth,
  type KeyEncryptionKey,
} from '@fsm-certs/queue';
import { createGatewayApp, type GatewayApp } from '../app.js';
import { LeasedRateLimiter } from '../auth/leased-rate-limit.js';
import { CallerAuthenticatorChain, ServiceAccountAuthenticator, type ServiceAccountAuthOptions, type TokenReviewer } from '../auth/service-accounts.js';
import { Authenticator } from '../auth/tokens.js';
import type { GatewayAppOptions, GatewayLogger, ReadinessCheck } from '../deps.js';
import { BullMqIssueClient } from '../issue/bullmq-issue-client.js';
import { BullMqRootRotation } from '../rotation/root-rotation-port.js';
import { x509CsrCheck } from '../issue/csr-check.js';
import { systemClock, type Clock } from '@fsm-certs/core';
import { listen, type RunningServer } from './listen.js';
import { obtainServerCertificate, type ServerCertificate } from './server-certificate.js';
import { ServerCertificateRenewal, type RenewalScheduler } from './server-certificate-renewal.js';

export interface IssuerGatewayOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly namespace: string;
  readonly app: GatewayAppOptions;
  readonly kek: KeyEncryptionKey;
  readonly logger: GatewayLogger;
  readonly clock?: Clock;
  /** Heartbeat role whose live instances /readyz requires; default 'ca-service'. */
  readonly caServiceRole?: string;
  /** Connection name suffix (instance id) shown in CLIENT LIST. */
  readonly instanceId?: string;
  /** How long the audit trail keeps a decision; default 30 days. */
  readonly auditRetentionMs?: number;
  /** Accept Kubernetes ServiceAccount tokens, checked with this TokenReview client. */
  readonly serviceAccounts?: { readonly reviewer: TokenReviewer; readonly options: ServiceAccountAuthOptions };
  /** The process's metrics registry (libs/runtime); default a new one with Node's process metrics. */
  readonly registry?: Registry;
  /** The gateway's own HTTPS certificate (tls: true). */
  readonly serverCertificate?: {
    /** Requested validity; default a decade (SERVER_CERT_VALIDITY_MS). */
    readonly validityMs?: number;
    /** When renewals run; default setTimeout. Tests pass their own to decide when time has passed. */
    readonly schedule?: RenewalScheduler;
  };
}

export interface IssuerGateway {
  readonly url: string;
  readonly gateway: GatewayApp;
  /** The checks /readyz runs. */
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** With tls: keeps the served certificate fresh; emits `renewed` with each new one. */
  readonly serverCertificate: ServerCertificateRenewal | undefined;
  /**
   * Stops HTTP (ends SSE streams), flushes batches in flight, closes queue and Redis. When
   * `cancel` aborts, open connections are cut and batches still in flight are no longer awaited
   * (their jobs stay queued: the ca-service still issues and stores them).
   */
  close(cancel?: AbortSignal): Promise<void>;
}

export async function startIssuerGateway(options: IssuerGatewayOptions): Promise<IssuerGateway> {
  const { logger, prefix } = options;
  const name = `issuer-gateway${options.instanceId === undefined ? '' : `:${options.instanceId}`}`;
  const redis = createRedisConnection(options.redisUrl, { role: 'client', connectionName: name });
  const blocking = createRedisConnection(options.redisUrl, { role: 'worker', connectionName: `${name}:events` });
  const rotationBlocking = createRedisConnection(options.redisUrl, { role: 'worker', connectionName: `${name}:root-rotation-events` });
  for (const c of [redis, blocking, rotationBlocking]) c.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection error'));
  await waitForRedis(redis, 30_000);

  const queue = createIssueQueue(redis, prefix);
  queue.on('error', (error: Error) => logger.warn({ err: error.message }, 'issue queue error'));
  const rotationQueue = createRootRotationQueue(redis, prefix);
  const rotationEvents = createQueueEvents(rotationBlocking, QUEUE_NAMES.rootRotation, prefix);
  rotationQueue.on('error', (error: Error) => logger.warn({ err: error.message }, 'root-rotation queue error'));
  rotationEvents.on('error', (error: Error) => logger.warn({ err: error.message }, 'root-rotation queue events error'));
  const inventory = new Inventory(redis, { prefix });
  const issueClient = new BullMqIssueClient({
    queue,
    eventsConnection: blocking,
    onEventsError: (error) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'issue queue events error'),
    retryAfterSeconds: options.app.retryAfterSeconds ?? 2,
    compactResults: inventory,
  });
  await Promise.all([issueClient.start(), rotationEvents.waitUntilReady()]);
  const events = new EventStream(redis, { prefix });
  const role = options.caServiceRole ?? 'ca-service';
  const registry = options.registry ?? createMetricsRegistry();
  const readiness: Record<string, ReadinessCheck> = {
    redis: async () => {
      await redis.ping();
    },
    queue: async () => {
      await issueClient.queueDepth();
    },
    [role]: async () => {
      if ((await liveInstances(redis, role, prefix)).length === 0) throw new Error(`no live ${role} heartbeat`);
    },
  };

  const gateway = createGatewayApp({
    options: options.app,
    // Callers' rates live in Redis so every replica spends from one bucket, in small leases.
    rateLimiter: new LeasedRateLimiter(new SharedRateLimiter(redis, { prefix }), options.clock ?? systemClock),
    audit: new AuditLog(redis, { prefix, retentionMs: options.auditRetentionMs ?? 30 * 24 * 3600 * 1000 }),
    authenticator: new CallerAuthenticatorChain(
      new Authenticator(options.app.tokens),
      options.serviceAccounts === undefined ? undefined : new ServiceAccountAuthenticator(options.serviceAccounts.reviewer, options.serviceAccounts.options, options.clock ?? systemClock),
    ),
    inventory,
    inventoryHealth: new InventoryHealth(redis, { prefix }),
    events,
    issueClient,
    rootRotation: new BullMqRootRotation({
      queue: rotationQueue,
      queueEvents: rotationEvents,
      store: new RotationStatusStore(redis, { prefix }),
      timeoutMs: Math.max(options.app.issueTimeoutMs, 30_000),
      retryAfterSeconds: options.app.retryAfterSeconds ?? 2,
    }),
    kek: options.kek,
    csrCheck: x509CsrCheck,
    clock: options.clock ?? systemClock,
    registry,
    logger,
    readiness,
  });

  let server: RunningServer;
  let renewal: ServerCertificateRenewal | undefined;
  try {
    let tls: ServerCertificate | undefined;
    if (options.tls) {
      const validityMs = options.serverCertificate?.validityMs;
      const obtain = (): Promise<ServerCertificate> =>
        obtainServerCertificate(issueClient, options.kek, {
          namespace: options.namespace,
          timeoutMs: options.app.issueTimeoutMs,
          ...(validityMs === undefined ? {} : { validityMs }),
          onRetry: (error) => logger.info({ err: error instanceof Error ? error.message : String(error) }, 'waiting for the ca-service to issue the gateway certificate'),
        });
      tls = await obtain();
      logger.info({ serialNumber: tls.serialNumber, notAfter: tls.notAfter, renewAt: tls.renewAt }, 'serving HTTPS with the mesh-issued gateway certificate');
      const schedule = options.serverCertificate?.schedule;
      renewal = new ServerCertificateRenewal(tls, {
        obtain,
        apply: (certificate) => server.setCertificate(certificate),
        logger,
        clock: options.clock ?? systemClock,
        ...(schedule === undefined ? {} : { schedule }),
      });
    }
    server = await listen(gateway.handler, { host: options.host, port: options.port, ...(tls === undefined ? {} : { tls }) });
    renewal?.start();
  } catch (error) {
    await issueClient.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await rotationEvents.close().catch(() => undefined);
    await rotationQueue.close().catch(() => undefined);
    redis.disconnect();
    blocking.disconnect();
    rotationBlocking.disconnect();
    throw error;
  }
  logger.info({ url: server.url }, 'issuer-gateway listening');
  // Tells the ca-service's root rotation that agents can reach a gateway (its clock stops otherwise).
  const heartbeat = publishHeartbeat(redis, {
    role: ISSUER_GATEWAY_ROLE,
    instanceId: options.instanceId ?? `${process.pid}`,
    ttlMs: 10_000,
    prefix,
    onError: (error) => logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'heartbeat failed'),
  });

  return {
    url: server.url,
    gateway,
    readiness,
    serverCertificate: renewal,
    async close(cancel) {
      renewal?.stop();
      gateway.closeStreams();
      await heartbeat.stop();
      await server.close(cancel);
      const cancelled = new Promise<void>((resolve) => {
        if (cancel?.aborted === true) resolve();
        cancel?.addEventListener('abort', () => resolve(), { once: true });
      });
      await Promise.race([gateway.drain(), cancelled]);
      await issueClient.close();
      await queue.close();
      await rotationEvents.close();
      await rotationQueue.close();
      await Promise.allSettled([redis.quit(), blocking.quit(), rotationBlocking.quit()]);
    },
  };
}
