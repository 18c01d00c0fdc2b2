// Factories that apply the shared prefix and default job options, so no app hand-builds queue
// names or keys. Connections are ioredis instances from createRedisConnection (BullMQ cannot
// load ioredis by itself under native ESM); Worker and QueueEvents need a 'worker'-role one.
import { Queue, QueueEvents, Worker, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IssueJobPayload, IssueJobResult } from './contracts/issue-job.js';
import { ISSUE_JOB_OPTIONS, ROOT_ROTATION_JOB_OPTIONS, ROTATE_JOB_OPTIONS } from './contracts/job-options.js';
import { QUEUE_NAMES, type QueueName } from './contracts/queue-names.js';
import type { RotateJobPayload, RotateJobResult } from './contracts/rotate-job.js';
import type { RootRotationJobPayload, RootRotationJobResult } from './contracts/root-rotation-job.js';
import { QueueError } from './errors.js';
import { DEFAULT_PREFIX, assertValidPrefix } from './keys.js';

export type IssueQueue = Queue<IssueJobPayload, IssueJobResult>;
export type RotateQueue = Queue<RotateJobPayload, RotateJobResult>;
export type RootRotationQueue = Queue<RootRotationJobPayload, RootRotationJobResult>;

function checked(prefix: string): string {
  assertValidPrefix(prefix);
  return prefix;
}

function requireBlockingSafe(connection: Redis, what: string): void {
  if (connection.options.maxRetriesPerRequest !== null) {
    throw new QueueError(
      'INVALID_ARGUMENT',
      `${what} needs a connection created with createRedisConnection(url, { role: 'worker' }) (maxRetriesPerRequest: null).`,
    );
  }
}

export function createIssueQueue(connection: Redis, prefix: string = DEFAULT_PREFIX): IssueQueue {
  return new Queue<IssueJobPayload, IssueJobResult>(QUEUE_NAMES.issue, {
    connection,
    prefix: checked(prefix),
    defaultJobOptions: { ...ISSUE_JOB_OPTIONS },
  });
}

export function createRotateQueue(connection: Redis, prefix: string = DEFAULT_PREFIX): RotateQueue {
  return new Queue<RotateJobPayload, RotateJobResult>(QUEUE_NAMES.rotate, {
    connection,
    prefix: checked(prefix),
    defaultJobOptions: { ...ROTATE_JOB_OPTIONS },
  });
}

/** Completion/failure events of a queue (the gateway awaits job results through these). */
export function createQueueEvents(connection: Redis, queueName: QueueName, prefix: string = DEFAULT_PREFIX): QueueEvents {
  requireBlockingSafe(connection, 'QueueEvents');
  return new QueueEvents(queueName, { connection, prefix: checked(prefix) });
}

export type WorkerSettings = Omit<WorkerOptions, 'connection' | 'prefix'>;

export function createIssueWorker(
  connection: Redis,
  processor: Processor<IssueJobPayload, IssueJobResult>,
  settings: WorkerSettings = {},
  prefix: string = DEFAULT_PREFIX,
  /** A subclass of BullMQ's Worker (the ca-service's skips a search after a blocking wait, see MarkerAwareWorker). */
  WorkerClass: typeof Worker<IssueJobPayload, IssueJobResult> = Worker,
): Worker<IssueJobPayload, IssueJobResult> {
  requireBlockingSafe(connection, 'Worker');
  return new WorkerClass(QUEUE_NAMES.issue, processor, { ...settings, connection, prefix: checked(prefix) });
}

export function createRotateWorker(
  connection: Redis,
  processor: Processor<RotateJobPayload, RotateJobResult>,
  settings: WorkerSettings = {},
  prefix: string = DEFAULT_PREFIX,
): Worker<RotateJobPayload, RotateJobResult> {
  requireBlockingSafe(connection, 'Worker');
  return new Worker<RotateJobPayload, RotateJobResult>(QUEUE_NAMES.rotate, processor, { ...settings, connection, prefix: checked(prefix) });
}

export function createRootRotationQueue(connection: Redis, prefix: string = DEFAULT_PREFIX): RootRotationQueue {
  return new Queue<RootRotationJobPayload, RootRotationJobResult>(QUEUE_NAMES.rootRotation, {
    connection,
    prefix: checked(prefix),
    defaultJobOptions: { ...ROOT_ROTATION_JOB_OPTIONS },
  });
}

export function createRootRotationWorker(
  connection: Redis,
  processor: Processor<RootRotationJobPayload, RootRotationJobResult>,
  settings: WorkerSettings = {},
  prefix: string = DEFAULT_PREFIX,
): Worker<RootRotationJobPayload, RootRotationJobResult> {
  requireBlockingSafe(connection, 'Worker');
  return new Worker<RootRotationJobPayload, RootRotationJobResult>(QUEUE_NAMES.rootRotation, processor, { ...settings, connection, prefix: checked(prefix) });
}
