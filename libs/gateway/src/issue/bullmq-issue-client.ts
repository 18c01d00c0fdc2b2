// IssueClient over BullMQ: one `issue` job per batch, its result read from the queue's events
// stream. Failures are mapped to what the HTTP caller should do: Redis or the queue unreachable
// -> 503 (retry later), no result in time -> 504, job failed for good -> 502.
//
// Waiting: the job id is chosen here and the waiter registered with the FinishedJobReader before
// the job is added, so its completion event cannot pass unseen and no per-job "is it finished
// already?" Lua call is needed (what job.waitUntilFinished does). The reader (libs/queue) looks
// only at `completed` / `failed` entries and parses only the results of this gateway's jobs.
// Until it has fixed where it reads from (start()), jobs are also checked in Redis, like BullMQ.
//
// Retention: a job added before the reader is ready keeps its result in the job hash for that
// check (ISSUE_JOB_OPTIONS); every later job is deleted as it completes
// (ISSUE_JOB_OPTIONS_RESULT_BY_EVENT), since its result reaches this gateway only through the
// event. Nobody else reads a completed issue job; a job that fails for good is kept either way.
// Should the stream be trimmed past what the reader has read (it fell ~10,000 events behind),
// every waiting job is looked up in Redis: answered from a kept job hash, or told at once that
// its result is gone (503: retrying with the same request ids returns the stored certificates).
import type { Job, Queue } from 'bullmq';
import { randomUuid, withTimeout } from '@fsm-certs/core';
import {
  FinishedJobReader,
  ISSUE_JOB_OPTIONS,
  ISSUE_JOB_OPTIONS_RESULT_BY_EVENT,
  JOB_NAMES,
  QUEUE_NAMES,
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
  /**
   * A connection for the events stream's blocking reads alone ('worker' role); the client takes
   * it over and disconnects it in close(). Reading starts with start().
   */
  readonly eventsConnection: ConstructorParameters<typeof FinishedJobReader>[0];
  /** A read of the events stream failed (Redis down); reading resumes where it stopped. */
  readonly onEventsError?: (error: unknown) => void;
  /** How long adding the job may take before the gateway answers 503. Default 2000 ms. */
  readonly enqueueTimeoutMs?: number;
  /** Retry-After sent with 503. Default 2 s. */
  readonly retryAfterSeconds?: number;
  /**
   * The inventory, to fill in compact (v2) results from its trust bundle and read the records v3
   * results name. Given: results are requested as v2 (the CA PEMs are not repeated per record),
   * or v3 (see storedResults). Absent: v1 results.
   */
  readonly compactResults?: CompactResultSource;
  /**
   * With compactResults: ask for v3 results, which name the stored certificates instead of
   * carrying them, for jobs of at least this many items; smaller jobs ask for v2. Default
   * STORED_RESULTS_MIN_ITEMS; Infinity: never.
   */
  readonly storedResultsMinItems?: number;
}

/**
 * Reading a v3 result's records back costs a round trip per job, however many items it has; what
 * it saves (each record's ~1.7 KB through Redis, its AOF and the ca-service's JSON) grows with the
 * items. A lone request (one client) was answered slower and at more CPU per certificate with v3
 * (bench README, "2026-12-01 (res3)"), so a job of one item asks for v2.
 */
export const STORED_RESULTS_MIN_ITEMS = 2;

/** How often a job is polled while the events reader has not fixed its start. */
const WARM_UP_POLL_MS = 50;

class TimeoutError extends Error {}

/** The job finished and was deleted, but its `completed` event was trimmed before it was read. */
class ResultLostError extends Error {}


interface Waiter {
  resolve(returnvalue: unknown): void;
  reject(error: Error): void;
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
  private readonly results: FinishedJobReader;
  private readonly enqueueTimeoutMs: number;
  private readonly retryAfterSeconds: number;
  private readonly waiters = new Map<string, Waiter>();
  /** Jobs whose add Redis confirmed (a job missing from Redis is finished only if it was added). */
  private readonly added = new Set<string>();
  private readonly compact: { readonly source: CompactResultSource; readonly cache: TrustBundleCache } | undefined;
  /** What a payload adds to ask for the result version this gateway reads best, by the job's size. */
  private readonly resultRequest: (items: number) => Pick<IssueJobPayload, 'resultVersion' | 'maxResultVersion'>;

  constructor(options: BullMqIssueClientOptions) {
    this.queue = options.queue;
    const prefix = options.queue.opts.prefix;
    this.results = new FinishedJobReader(options.eventsConnection, QUEUE_NAMES.issue, {
      ...(prefix === undefined ? {} : { prefix }),
      ...(options.onEventsError === undefined ? {} : { onError: options.onEventsError }),
      onGap: () => void this.recoverAfterGap(),
    });
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
    const source = options.compactResults;
    this.compact = source === undefined ? undefined : { source, cache: new TrustBundleCache(source) };
    // resultVersion stays 2 beside maxResultVersion: a ca-service that predates v3 answers v2.
    const minItems = options.storedResultsMinItems ?? STORED_RESULTS_MIN_ITEMS;
    const v2 = { resultVersion: 2 } as const;
    const v3 = { resultVersion: 2, maxResultVersion: 3 } as const;
    this.resultRequest = source === undefined ? () => ({}) : (items) => (items >= minItems ? v3 : v2);
  }

  /** Starts reading the events stream; resolves once every job added from now on is answered by its event. */
  start(): Promise<void> {
    return this.results.start();
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
    const payload: IssueJobPayload = { version: 1, requests: [...items], ...this.resultRequest(items.length) };
    const jobId = randomUuid();
    const finished = this.waitFor(jobId, options.timeoutMs);
    // Rejections of `finished` are handled below, or dropped with the job when the add fails.
    finished.promise.catch(() => undefined);
    // One reading decides both: a job deleted at completion is never looked for in Redis.
    const byEvent = this.results.ready;
    const jobOptions = byEvent ? ISSUE_JOB_OPTIONS_RESULT_BY_EVENT : ISSUE_JOB_OPTIONS;
    let job: Job<IssueJobPayload, IssueJobResult>;
    try {
      job = await withTimeout(this.queue.add(JOB_NAMES.issueBatch, payload, { ...jobOptions, jobId }), this.enqueueTimeoutMs, () => new TimeoutError(`timed out after ${this.enqueueTimeoutMs} ms`));
    } catch (error) {
      finished.cancel();
      throw this.unavailable(error);
    }
    this.added.add(jobId);
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
      if (error instanceof ResultLostError) {
        throw new GatewayError('BACKEND_UNAVAILABLE', 'The result of this batch was trimmed from the issue queue\'s event stream before this gateway read it (the gateway fell behind); retry: the same request ids return the certificates already issued.', {
          cause: error,
          retryAfterSeconds: this.retryAfterSeconds,
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
      throw new GatewayError('ISSUANCE_FAILED', `The CA service answered with v${parsed.data.version} results this gateway did not ask for; check that both run compatible versions.`);
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

  /** Stops reading events (the queue belongs to whoever built it). */
  async close(): Promise<void> {
    await this.results.close();
  }

  /** Registers the waiter for jobId (before the job exists) with its timeout. */
  private waitFor(jobId: string, timeoutMs: number): { promise: Promise<unknown>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const cancel = (): void => {
      clearTimeout(timer);
      this.waiters.delete(jobId);
      this.added.delete(jobId);
      this.results.unwatch(jobId);
    };
    const promise = new Promise<unknown>((resolve, reject) => {
      timer = setTimeout(() => {
        cancel();
        reject(new TimeoutError(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (value) => {
          cancel();
          resolve(value);
        },
        reject: (error) => {
          cancel();
          reject(error);
        },
      };
      this.waiters.set(jobId, waiter);
      this.results.watch(jobId, waiter);
    });
    return { promise, cancel };
  }

  /**
   * Until the events reader is ready: polls the job's state, in case the job finished before the
   * reader fixed its start (BullMQ checks once; polling also covers a reader that starts late).
   * Readiness is read before the state: a job not finished then finishes after the reader's
   * start, so its event reaches the reader and polling may stop.
   */
  private async checkFinished(job: Job<IssueJobPayload, IssueJobResult>): Promise<void> {
    const jobId = job.id ?? '';
    try {
      while (this.waiters.has(jobId)) {
        const readyBefore = this.results.ready;
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') {
          const fresh = await this.queue.getJob(jobId);
          const waiter = this.waiters.get(jobId);
          if (fresh === undefined || waiter === undefined) return;
          if (state === 'completed') waiter.resolve(fresh.returnvalue);
          else waiter.reject(new Error(fresh.failedReason || 'job failed'));
          return;
        }
        if (readyBefore) return;
        await new Promise((resolve) => setTimeout(resolve, WARM_UP_POLL_MS));
      }
    } catch {
      // The events path still answers, or the timeout does.
    }
  }

  /**
   * Events were trimmed unread: each added job still awaited is looked up. A job still in Redis
   * either has not finished (its event is still to come) or kept its result; a job gone from Redis
   * finished and was deleted, so its result was in a trimmed event.
   */
  private async recoverAfterGap(): Promise<void> {
    for (const jobId of [...this.added]) {
      const waiter = this.waiters.get(jobId);
      if (waiter === undefined) continue;
      try {
        const job = await this.queue.getJob(jobId);
        if (!this.waiters.has(jobId)) continue;
        if (job === undefined) waiter.reject(new ResultLostError(`job ${jobId} finished but its result event was trimmed unread`));
        else if (job.finishedOn !== undefined && job.failedReason) waiter.reject(new Error(job.failedReason));
        else if (job.finishedOn !== undefined) waiter.resolve(job.returnvalue);
      } catch {
        // Redis unreachable: the event (if still to come) or the timeout answers.
      }
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
