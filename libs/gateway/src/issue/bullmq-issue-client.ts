// IssueClient over BullMQ: one `issue` job per batch, awaited through QueueEvents. Failures are
// mapped to what the HTTP caller should do: Redis or the queue unreachable -> 503 (retry later),
// no result in time -> 504, job failed for good -> 502.
//
// Waiting: the job id is chosen here and the waiter registered before the job is added, so its
// completion event cannot pass unseen and no per-job "is it finished already?" Lua call is needed
// (what job.waitUntilFinished does). One 'completed' and one 'failed' listener serve every
// waiter through a map. Until QueueEvents has shown that its read loop is running (it delivered
// an event: from then on it reads on from that event, reconnects included, so every event of a
// job added later reaches it), the first jobs are still checked once, like BullMQ.
//
// Retention: a job added before events are seen flowing keeps its result in the job hash for
// that check (ISSUE_JOB_OPTIONS); every later job is deleted as it completes
// (ISSUE_JOB_OPTIONS_RESULT_BY_EVENT), since its result reaches this gateway only through the
// event. Nobody else reads a completed issue job; a job that fails for good is kept either way.
import { randomUUID } from 'node:crypto';
import type { Job, Queue, QueueEvents } from 'bullmq';
import {
  ISSUE_JOB_OPTIONS,
  ISSUE_JOB_OPTIONS_RESULT_BY_EVENT,
  JOB_NAMES,
  issueJobResultSchema,
  type IssueItem,
  type IssueItemResult,
  type IssueJobPayload,
  type IssueJobResult,
} from '@fsm-certs/queue';
import { GatewayError } from '../errors.js';
import { checkIssueItem } from './checked-item.js';
import { isPlainIssueJobResult } from './checked-result.js';
import { zodDetail } from '../http/validate.js';
import { TrustBundleCache, expandIssueResult, type CompactResultSource } from './compact-results.js';
import { noteAuditCommitted } from '../audit/committed.js';
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
  /**
   * The inventory, to fill in compact (v2) results from its trust bundle. Given: results are
   * requested as v2 (the CA PEMs are not repeated per record). Absent: v1 results.
   */
  readonly compactResults?: CompactResultSource;
}

/** How often a job is polled while QueueEvents has not yet proven that it delivers events. */
const WARM_UP_POLL_MS = 50;

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

interface Finished {
  readonly jobId: string;
  readonly returnvalue?: unknown;
  readonly failedReason?: string;
}

/** Marks the certificates whose audit record the ca-service's commit stored (`auditId`). */
function noteAudits(raw: ReadonlyArray<{ readonly requestId: string; readonly ok: boolean; readonly auditId?: string | undefined }>, results: readonly IssueItemResult[]): readonly IssueItemResult[] {
  const ids = new Map<string, string>();
  for (const r of raw) if (r.ok && r.auditId !== undefined) ids.set(r.requestId, r.auditId);
  if (ids.size === 0) return results;
  for (const result of results) {
    const id = result.ok ? ids.get(result.requestId) : undefined;
    if (result.ok && id !== undefined) noteAuditCommitted(result.certificate, id);
  }
  return results;
}

export class BullMqIssueClient implements IssueClient {
  private readonly queue: Queue<IssueJobPayload, IssueJobResult>;
  private readonly queueEvents: QueueEvents;
  private readonly enqueueTimeoutMs: number;
  private readonly retryAfterSeconds: number;
  private readonly waiters = new Map<string, Waiter>();
  /** True once QueueEvents delivered an event (any job's): its read loop runs. */
  private eventsFlowing = false;
  private readonly compact: { readonly source: CompactResultSource; readonly cache: TrustBundleCache } | undefined;

  constructor(options: BullMqIssueClientOptions) {
    this.queue = options.queue;
    this.queueEvents = options.queueEvents;
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
    const source = options.compactResults;
    this.compact = source === undefined ? undefined : { source, cache: new TrustBundleCache(source) };
    this.queueEvents.on('completed', (args: Finished) => {
      this.eventsFlowing = true;
      this.waiters.get(args.jobId)?.resolve(args.returnvalue);
    });
    this.queueEvents.on('failed', (args: Finished) => {
      this.eventsFlowing = true;
      this.waiters.get(args.jobId)?.reject(new Error(args.failedReason ?? 'job failed'));
    });
    this.queueEvents.on('added', () => {
      this.eventsFlowing = true;
    });
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
      this.compact === undefined ? { version: 1, requests: [...items] } : { version: 1, requests: [...items], resultVersion: 2 };
    const jobId = randomUUID();
    const finished = this.waitFor(jobId, options.timeoutMs);
    // Rejections of `finished` are handled below, or dropped with the job when the add fails.
    finished.promise.catch(() => undefined);
    // One reading decides both: a job deleted at completion is never looked for in Redis.
    const byEvent = this.eventsFlowing;
    const jobOptions = byEvent ? ISSUE_JOB_OPTIONS_RESULT_BY_EVENT : ISSUE_JOB_OPTIONS;
    let job: Job<IssueJobPayload, IssueJobResult>;
    try {
      job = await withTimeout(this.queue.add(JOB_NAMES.issueBatch, payload, { ...jobOptions, jobId }), this.enqueueTimeoutMs);
    } catch (error) {
      finished.cancel();
      throw this.unavailable(error);
    }
    if (!byEvent) void this.checkFinished(job);
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
    // The result as the ca-service writes it passes a hand check; anything else meets the schema.
    const parsed = isPlainIssueJobResult(raw) ? { success: true as const, data: raw } : issueJobResultSchema.safeParse(raw);
    if (!parsed.success) {
      throw new GatewayError('ISSUANCE_FAILED', 'The CA service returned a result this gateway cannot read; check that both run the same version.', {
        cause: parsed.error,
      });
    }
    if (parsed.data.version === 1) return noteAudits(parsed.data.results, parsed.data.results);
    if (this.compact === undefined) {
      throw new GatewayError('ISSUANCE_FAILED', 'The CA service answered with compact (v2) results this gateway did not ask for; check that both run compatible versions.');
    }
    let expanded: readonly IssueItemResult[];
    try {
      expanded = await expandIssueResult(parsed.data, this.compact.cache, this.compact.source);
    } catch (error) {
      throw this.unavailable(error);
    }
    return noteAudits(parsed.data.results, expanded);
  }

  async queueDepth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    // Queue and QueueEvents belong to whoever built them (the composition root closes them).
  }

  /** Registers the waiter for jobId (before the job exists) with its timeout. */
  private waitFor(jobId: string, timeoutMs: number): { promise: Promise<unknown>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const cancel = (): void => {
      clearTimeout(timer);
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
    return { promise, cancel };
  }

  /**
   * Until events are known to flow: polls the job's state, in case QueueEvents' read loop had
   * not started when the job completed (BullMQ checks once; polling also covers a loop that
   * starts late). Stops as soon as the waiter is answered or events are seen flowing.
   */
  private async checkFinished(job: Job<IssueJobPayload, IssueJobResult>): Promise<void> {
    const jobId = job.id ?? '';
    try {
      await this.queueEvents.waitUntilReady();
      while (this.waiters.has(jobId)) {
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') {
          const fresh = await this.queue.getJob(jobId);
          const waiter = this.waiters.get(jobId);
          if (fresh === undefined || waiter === undefined) return;
          if (state === 'completed') waiter.resolve(fresh.returnvalue);
          else waiter.reject(new Error(fresh.failedReason || 'job failed'));
          return;
        }
        if (this.eventsFlowing) return;
        await new Promise((resolve) => setTimeout(resolve, WARM_UP_POLL_MS));
      }
    } catch {
      // The events path still answers, or the timeout does.
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
