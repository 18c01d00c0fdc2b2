// The running issuer-gateway: Redis connections, the issue queue + its events, inventory, event
// stream, readiness checks, optional HTTPS, and an orderly close. apps/issuer-gateway maps the
// configuration onto these options and installs the signal handlers.
import { Registry, collectDefaultMetrics } from 'prom-client';
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
  type KeyEncryptionKey,
} from '@fsm-certs/queue';
import { createGatewayApp, type GatewayApp } from '../app.js';
import type { GatewayAppOptions, GatewayLogger } from '../deps.js';
import { BullMqIssueClient } from '../issue/bullmq-issue-client.js';
import { BullMqRootRotation } from '../rotation/root-rotation-port.js';
import { x509CsrCheck } from '../issue/csr-check.js';
import { systemClock, type Clock } from '@fsm-certs/core';
import { listen, type RunningServer } from './listen.js';
import { obtainServerCertificate } from './server-certificate.js';

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
}

export interface IssuerGateway {
  readonly url: string;
  readonly gateway: GatewayApp;
  /** Stops HTTP (ends SSE streams), flushes batches in flight, closes queue and Redis. */
  close(): Promise<void>;
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
  const queueEvents = createQueueEvents(blocking, QUEUE_NAMES.issue, prefix);
  queue.on('error', (error: Error) => logger.warn({ err: error.message }, 'issue queue error'));
  queueEvents.on('error', (error: Error) => logger.warn({ err: error.message }, 'issue queue events error'));
  const rotationQueue = createRootRotationQueue(redis, prefix);
  const rotationEvents = createQueueEvents(rotationBlocking, QUEUE_NAMES.rootRotation, prefix);
  rotationQueue.on('error', (error: Error) => logger.warn({ err: error.message }, 'root-rotation queue error'));
  rotationEvents.on('error', (error: Error) => logger.warn({ err: error.message }, 'root-rotation queue events error'));
  await Promise.all([queueEvents.waitUntilReady(), rotationEvents.waitUntilReady()]);
  const inventory = new Inventory(redis, { prefix });
  const issueClient = new BullMqIssueClient({ queue, queueEvents, retryAfterSeconds: options.app.retryAfterSeconds ?? 2, compactResults: inventory });
  const events = new EventStream(redis, { prefix });
  const role = options.caServiceRole ?? 'ca-service';
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const gateway = createGatewayApp({
    options: options.app,
    inventory,
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
    readiness: {
      redis: async () => {
        await redis.ping();
      },
      queue: async () => {
        await issueClient.queueDepth();
      },
      [role]: async () => {
        if ((await liveInstances(redis, role, prefix)).length === 0) throw new Error(`no live ${role} heartbeat`);
      },
    },
  });

  let server: RunningServer;
  try {
    let tls: { certificateChainPem: string; privateKeyPem: string } | undefined;
    if (options.tls) {
      const cert = await obtainServerCertificate(issueClient, options.kek, {
        namespace: options.namespace,
        timeoutMs: options.app.issueTimeoutMs,
        onRetry: (error) => logger.info({ err: error instanceof Error ? error.message : String(error) }, 'waiting for the ca-service to issue the gateway certificate'),
      });
      logger.info({ serialNumber: cert.serialNumber, notAfter: cert.notAfter }, 'serving HTTPS with the mesh-issued gateway certificate');
      tls = cert;
    }
    server = await listen(gateway.handler, { host: options.host, port: options.port, ...(tls === undefined ? {} : { tls }) });
  } catch (error) {
    await queueEvents.close().catch(() => undefined);
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
    async close() {
      gateway.closeStreams();
      await heartbeat.stop();
      await server.close();
      await gateway.drain();
      await queueEvents.close();
      await queue.close();
      await rotationEvents.close();
      await rotationQueue.close();
      await Promise.allSettled([redis.quit(), blocking.quit(), rotationBlocking.quit()]);
    },
  };
}
