// IssueClient over BullMQ: one `issue` job per batch, awaited through QueueEvents. Failures are
// mapped to what the HTTP caller should do: Redis or the queue unreachable -> 503 (retry later),
// no result in time -> 504, job failed for good -> 502.
import type { Job, Queue, QueueEvents } from 'bullmq';
import {
  ISSUE_JOB_OPTIONS,
  JOB_NAMES,
  issueJobResultSchema,
  type IssueItem,
  type IssueItemResult,
  type IssueJobPayload,
  type IssueJobResult,
} from '@fsm-certs/queue';
import { GatewayError } from '../errors.js';
import type { IssueBatchOptions, IssueClient } from './issue-client.js';

export interface BullMqIssueClientOptions {
  /**
   * The `issue` queue. Give it a connection with `enableOfflineQueue: false` so that an add
   * while Redis is down fails at once instead of being replayed later, unawaited.
   */
  readonly queue: Queue<IssueJobPayload, IssueJobResult>;
  readonly queueEvents: QueueEvents;
  /** How long adding the job may take before the gateway answers 503. Default 2000 ms. */
  readonly enqueueTimeoutMs?: number;
  /** Retry-After sent with 503. Default 2 s. */
  readonly retryAfterSeconds?: number;
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class BullMqIssueClient implements IssueClient {
  private readonly queue: Queue<IssueJobPayload, IssueJobResult>;
  private readonly queueEvents: QueueEvents;
  private readonly enqueueTimeoutMs: number;
  private readonly retryAfterSeconds: number;

  constructor(options: BullMqIssueClientOptions) {
    this.queue = options.queue;
    this.queueEvents = options.queueEvents;
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
  }

  async issueBatch(items: readonly IssueItem[], options: IssueBatchOptions): Promise<readonly IssueItemResult[]> {
    const payload: IssueJobPayload = { version: 1, requests: [...items] };
    let job: Job<IssueJobPayload, IssueJobResult>;
    try {
      job = await withTimeout(this.queue.add(JOB_NAMES.issueBatch, payload, { ...ISSUE_JOB_OPTIONS }), this.enqueueTimeoutMs);
    } catch (error) {
      throw this.unavailable(error);
    }
    let raw: unknown;
    try {
      raw = await withTimeout(job.waitUntilFinished(this.queueEvents, options.timeoutMs + 1_000), options.timeoutMs);
    } catch (error) {
      if (error instanceof TimeoutError || (error instanceof Error && error.message.includes('timed out before finishing'))) {
        await this.abandon(job);
        throw new GatewayError('ISSUANCE_TIMEOUT', `No certificate arrived within ${options.timeoutMs} ms; the CA service may be overloaded or down. Retry later.`, {
          cause: error,
        });
      }
      if (error instanceof Error && /Connection is closed|ECONNREFUSED|ECONNRESET/.test(error.message)) throw this.unavailable(error);
      throw new GatewayError('ISSUANCE_FAILED', 'The CA service failed this batch after its retries; see the ca-service logs.', { cause: error });
    }
    const parsed = issueJobResultSchema.safeParse(raw);
    if (!parsed.success) {
      throw new GatewayError('ISSUANCE_FAILED', 'The CA service returned a result this gateway cannot read; check that both run the same version.', {
        cause: parsed.error,
      });
    }
    return parsed.data.results;
  }

  async queueDepth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    // Queue and QueueEvents belong to whoever built them (the composition root closes them).
  }

  private unavailable(cause: unknown): GatewayError {
    return new GatewayError('BACKEND_UNAVAILABLE', 'The issue queue (Redis) is unreachable; retry after the indicated delay.', {
      cause,
      retryAfterSeconds: this.retryAfterSeconds,
    });
  }

  /** A timed-out job that no worker picked up yet is removed so it is not issued unawaited. */
  private async abandon(job: Job<IssueJobPayload, IssueJobResult>): Promise<void> {
    try {
      if ((await job.getState()) === 'waiting') await job.remove();
    } catch {
      // Best effort: a worker took it meanwhile; its result lands in the inventory (idempotent).
    }
  }
}
