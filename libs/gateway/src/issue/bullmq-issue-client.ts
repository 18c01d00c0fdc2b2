// IssueClient over BullMQ: one `issue` job per batch. Failures are mapped to what the HTTP caller
// should do: Redis or the queue unreachable -> 503 (retry later), no result in time -> 504, job
// failed for good -> 502.
//
// Waiting: the job names this gateway's reply inbox (`replyTo`), and the ca-service pushes the
// result there as soon as it has it (IssueReplies; the composition root feeds deliver() from an
// IssueReplyInbox). The gateway so wakes once per result of its own jobs, instead of reading
// every event of every job of the queue through QueueEvents. The result stays on the job too:
// a job still unanswered after resultPollMs (a ca-service that predates replies, a reply lost
// with a connection, a job failed for good, which is never replied) is looked up on the queue,
// and again at growing intervals until it is finished or the request times out.
import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
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
import { checkIssueItem } from './checked-item.js';
import { zodDetail } from '../http/validate.js';
import { TrustBundleCache, expandIssueResult, type CompactResultSource } from './compact-results.js';
import type { IssueBatchOptions, IssueClient } from './issue-client.js';

export interface BullMqIssueClientOptions {
  /**
   * The `issue` queue. Give it a connection with `enableOfflineQueue: false` so that an add
   * while Redis is down fails at once instead of being replayed later, unawaited.
   */
  readonly queue: Queue<IssueJobPayload, IssueJobResult>;
  /** This gateway's reply inbox id (IssueReplyInbox.id); its replies must be passed to deliver(). */
  readonly replyInbox: string;
  /** How long a job may go without a reply before its result is looked up on the queue (then after twice as long, up to 2 s). Default 200 ms. */
  readonly resultPollMs?: number;
  /** How long adding the job may take before the gateway answers 503. Default 2000 ms. */
  readonly enqueueTimeoutMs?: number;
  /** Retry-After sent with 503. Default 2 s. */
  readonly retryAfterSeconds?: number;
  /**
   * The inventory, to fill in compact (v2) results from its trust bundle. Given: results are
   * requested as v2 (the CA PEMs are not repeated per record). Absent: v1 results.
   */
  readonly compactResults?: CompactResultSource;
}

/** The longest wait between two look-ups of one job without a reply. */
const MAX_RESULT_POLL_MS = 2_000;

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Waiter {
  resolve(returnvalue: unknown): void;
  reject(error: Error): void;
}

export class BullMqIssueClient implements IssueClient {
  private readonly queue: Queue<IssueJobPayload, IssueJobResult>;
  /** The inbox id every job names as `replyTo`. */
  readonly replyInbox: string;
  private readonly resultPollMs: number;
  private readonly enqueueTimeoutMs: number;
  private readonly retryAfterSeconds: number;
  private readonly waiters = new Map<string, Waiter>();
  private readonly compact: { readonly source: CompactResultSource; readonly cache: TrustBundleCache } | undefined;

  constructor(options: BullMqIssueClientOptions) {
    this.queue = options.queue;
    this.replyInbox = options.replyInbox;
    this.resultPollMs = options.resultPollMs ?? 200;
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
    const source = options.compactResults;
    this.compact = source === undefined ? undefined : { source, cache: new TrustBundleCache(source) };
  }

  /** A reply read from this gateway's inbox; one for a job nobody waits for (any more) is dropped. */
  deliver(jobId: string, result: unknown): void {
    this.waiters.get(jobId)?.resolve(result);
  }

  /**
   * Items the job contract refuses are answered here (400, per item) and never enqueued: a
   * payload the ca-service cannot parse fails as a whole, taking the valid items with it.
   */
  async issueBatch(items: readonly IssueItem[], options: IssueBatchOptions): Promise<readonly IssueItemResult[]> {
    const valid: IssueItem[] = [];
    const refused: IssueItemResult[] = [];
    for (const item of items) {
      const checked = checkIssueItem(item);
      if (checked.success) valid.push(checked.data);
      else {
        refused.push({
          requestId: item.requestId,
          ok: false,
          error: { code: 'INVALID_BODY', message: `The request cannot be queued for issuance: ${zodDetail(checked.error)}.`, httpStatus: 400, retryable: false },
        });
      }
    }
    if (valid.length === 0) return refused;
    const results = await this.enqueue(valid, options);
    return refused.length === 0 ? results : [...results, ...refused];
  }

  private async enqueue(items: readonly IssueItem[], options: IssueBatchOptions): Promise<readonly IssueItemResult[]> {
    const payload: IssueJobPayload =
      this.compact === undefined
        ? { version: 1, requests: [...items], replyTo: this.replyInbox }
        : { version: 1, requests: [...items], resultVersion: 2, replyTo: this.replyInbox };
    const jobId = randomUUID();
    const finished = this.waitFor(jobId, options.timeoutMs);
    // Rejections of `finished` are handled below, or dropped with the job when the add fails.
    finished.promise.catch(() => undefined);
    let job: Job<IssueJobPayload, IssueJobResult>;
    try {
      job = await withTimeout(this.queue.add(JOB_NAMES.issueBatch, payload, { ...ISSUE_JOB_OPTIONS, jobId }), this.enqueueTimeoutMs);
    } catch (error) {
      finished.cancel();
      throw this.unavailable(error);
    }
    finished.pollAfterAdd(job);
    let raw: unknown;
    try {
      raw = await finished.promise;
    } catch (error) {
      if (error instanceof TimeoutError) {
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
    if (parsed.data.version === 1) return parsed.data.results;
    if (this.compact === undefined) {
      throw new GatewayError('ISSUANCE_FAILED', 'The CA service answered with compact (v2) results this gateway did not ask for; check that both run compatible versions.');
    }
    try {
      return await expandIssueResult(parsed.data, this.compact.cache, this.compact.source);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  async queueDepth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    // The queue and the reply inbox belong to whoever built them (the composition root closes them).
  }

  /**
   * Registers the waiter for jobId (before the job exists, so no reply can pass unseen) with
   * its timeout; once the job is added, pollAfterAdd starts looking it up while no reply came.
   */
  private waitFor(jobId: string, timeoutMs: number): { promise: Promise<unknown>; cancel(): void; pollAfterAdd(job: Job<IssueJobPayload, IssueJobResult>): void } {
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    const cancel = (): void => {
      clearTimeout(timer);
      clearTimeout(poll);
      this.waiters.delete(jobId);
    };
    const promise = new Promise<unknown>((resolve, reject) => {
      timer = setTimeout(() => {
        cancel();
        reject(new TimeoutError(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(jobId, {
        resolve: (value) => {
          cancel();
          resolve(value);
        },
        reject: (error) => {
          cancel();
          reject(error);
        },
      });
    });
    const pollAfterAdd = (job: Job<IssueJobPayload, IssueJobResult>): void => {
      // A job that is slow (queued behind others) is looked up less and less often.
      const next = (delayMs: number): void => {
        poll = setTimeout(() => {
          void this.lookUp(job).then((more) => {
            if (more && this.waiters.has(jobId)) next(Math.min(delayMs * 2, MAX_RESULT_POLL_MS));
          });
        }, delayMs);
      };
      if (this.waiters.has(jobId)) next(this.resultPollMs);
    };
    return { promise, cancel, pollAfterAdd };
  }

  /**
   * The job's result as stored on the queue, for a job that got no reply: answers its waiter
   * when the job is finished. True while it is not finished yet (look again later).
   */
  private async lookUp(job: Job<IssueJobPayload, IssueJobResult>): Promise<boolean> {
    const jobId = job.id ?? '';
    try {
      const fresh = await this.queue.getJob(jobId);
      const waiter = this.waiters.get(jobId);
      if (waiter === undefined) return false;
      // Gone (removed meanwhile) or not finished: the reply or the timeout still answers.
      if (fresh === undefined || fresh.finishedOn === undefined) return true;
      if (fresh.failedReason !== undefined && fresh.failedReason !== '' && (fresh.returnvalue === null || fresh.returnvalue === undefined)) {
        waiter.reject(new Error(fresh.failedReason));
      } else {
        waiter.resolve(fresh.returnvalue);
      }
      return false;
    } catch {
      // Redis unreachable for the moment: the reply, the next look or the timeout answers.
      return true;
    }
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
