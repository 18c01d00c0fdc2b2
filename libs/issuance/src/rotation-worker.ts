// Wires the rotation-worker: a BullMQ job scheduler fires a sweep every interval on the
// `rotation-sweep` queue; whichever replica takes that job sweeps the renew-time index and
// enqueues `rotate` jobs (deduplicated per name and serial). Replicas share one schedule
// (same scheduler id), so adding replicas adds availability, not duplicate sweeps.
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  Inventory,
  createRedisConnection,
  createRotateQueue,
  parseJobPayload,
  publishHeartbeat,
  waitForRedis,
  type Heartbeat,
  type RotateQueue,
} from '@fsm-certs/queue';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '@fsm-certs/core';
import { sweepOnce, type SweepResult } from './rotation-sweep.js';

export const ROTATION_SWEEP_QUEUE = 'rotation-sweep';
export const ROTATION_SCHEDULER_ID = 'rotation-sweep';
export const ROTATION_WORKER_ROLE = 'rotation-worker';

const sweepPayloadSchema = z.object({ version: z.literal(1) });
type SweepPayload = z.infer<typeof sweepPayloadSchema>;

export interface RotationWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly instanceId: string;
  readonly logger: Logger;
  /** Sweep period; default 5000. */
  readonly intervalMs?: number;
  /** Most certificates one sweep enqueues; default 500. */
  readonly limit?: number;
  readonly clock?: Clock;
}

export interface RotationWorker {
  readonly sweepQueue: Queue<SweepPayload, SweepResult>;
  readonly rotateQueue: RotateQueue;
  /** Runs one sweep now, outside the schedule (tests, `fsm-certs check`-style tooling). */
  sweepNow(): Promise<SweepResult>;
  /** For /readyz: Redis answers, the sweep schedule is registered, the sweep worker runs. */
  readonly readiness: Readonly<Record<string, () => Promise<void>>>;
  close(): Promise<void>;
}

function connection(url: string, name: string, logger: Logger): Redis {
  const redis = createRedisConnection(url, { role: 'worker', connectionName: name });
  redis.on('error', (error: Error) => logger.debug({ connection: name, err: error.message }, 'redis connection error'));
  return redis;
}

export async function startRotationWorker(options: RotationWorkerOptions): Promise<RotationWorker> {
  const { logger, prefix } = options;
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 5_000;
  const limit = options.limit ?? 500;
  const commands = connection(options.redisUrl, 'fsm-certs-rotation-worker', logger);
  const workerConnection = connection(options.redisUrl, 'fsm-certs-rotation-worker-sweep', logger);
  const connections = [commands, workerConnection];
  try {
    await waitForRedis(commands, 30_000);
  } catch (error) {
    for (const c of connections) c.disconnect();
    throw error;
  }

  const inventory = new Inventory(commands, { prefix });
  const rotateQueue = createRotateQueue(commands, prefix);
  const sweepQueue = new Queue<SweepPayload, SweepResult>(ROTATION_SWEEP_QUEUE, {
    connection: commands,
    prefix,
    defaultJobOptions: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
  });
  rotateQueue.on('error', (error: Error) => logger.debug({ err: error.message }, 'rotate queue error'));
  sweepQueue.on('error', (error: Error) => logger.debug({ err: error.message }, 'sweep queue error'));

  const sweep = (): Promise<SweepResult> => sweepOnce({ inventory, rotateQueue, clock, logger, limit });
  const schedule = async (): Promise<void> => {
    await sweepQueue.upsertJobScheduler(
      ROTATION_SCHEDULER_ID,
      { every: intervalMs },
      { name: 'sweep', data: { version: 1 }, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    );
  };
  await schedule();
  // A Redis that restarted without its data lost the schedule too: put it back on reconnect.
  let connectedOnce = commands.status === 'ready';
  commands.on('ready', () => {
    if (!connectedOnce) {
      connectedOnce = true;
      return;
    }
    logger.info('redis reconnected: re-registering the sweep schedule');
    schedule().catch((error: unknown) => logger.warn({ err: error }, 're-registering the sweep schedule failed'));
  });

  const worker = new Worker<SweepPayload, SweepResult>(
    ROTATION_SWEEP_QUEUE,
    async (job: Job<SweepPayload, SweepResult>) => {
      parseJobPayload(sweepPayloadSchema, job.data);
      return sweep();
    },
    { connection: workerConnection, prefix, concurrency: 1, name: options.instanceId },
  );
  worker.on('error', (error: Error) => logger.warn({ err: error.message }, 'sweep worker error (retrying)'));
  worker.on('failed', (job, error) => logger.warn({ jobId: job?.id, err: error.message }, 'sweep failed; the next one retries'));

  const heartbeat: Heartbeat = publishHeartbeat(commands, {
    role: ROTATION_WORKER_ROLE,
    instanceId: options.instanceId,
    ttlMs: 10_000,
    prefix,
    onError: (error) => logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'heartbeat failed'),
  });
  await Promise.all([worker.waitUntilReady(), heartbeat.ready]);
  logger.info({ instanceId: options.instanceId, intervalMs, limit }, 'rotation-worker ready');

  let closing: Promise<void> | undefined;
  return {
    sweepQueue,
    rotateQueue,
    sweepNow: sweep,
    readiness: {
      redis: async () => {
        await commands.ping();
      },
      // A Redis that came back empty has lost it until the reconnect handler puts it back.
      scheduler: async () => {
        if ((await sweepQueue.getJobScheduler(ROTATION_SCHEDULER_ID)) === undefined) throw new Error(`sweep schedule ${ROTATION_SCHEDULER_ID} is not registered`);
      },
      worker: () => (worker.isRunning() && worker.closing === undefined ? Promise.resolve() : Promise.reject(new Error('the sweep worker is not consuming'))),
    },
    close() {
      closing ??= (async () => {
        await worker.close();
        await heartbeat.stop();
        await Promise.all([sweepQueue.close(), rotateQueue.close()]);
        await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return closing;
    },
  };
}
