// Collects concurrent issue requests into one job, so the queue hop and the ca-service's per-job
// overhead are paid once per batch instead of once per request. Identical concurrent requests
// share one item (single-flight): N callers for the same name and parameters cause one issuance
// and all get its answer.
//
// When to send: a batch goes as soon as it holds its share of the current demand, else when the
// window (default 2 ms) ends. Demand is the most requests the gateway had outstanding (pending
// or in a job) at once within the last second; a batch's share is demand / pipelineDepth
// (default 2), at most maxItems. So clients that wait for their answer before asking again
// (closed loop) settle into pipelineDepth jobs that take turns: while the ca-service works on
// one, the answered clients fill the next, and nobody waits for a timer. An idle gateway sends a
// lone request at once (demand 1), and requests that arrive in the same event-loop turn still
// leave together. Nor does waiting tax light traffic: when no job is in flight and requests
// arrived less often than one per window over the last second, a batch leaves at the end of its
// turn whatever its share (on arrival, or when the last job in flight is answered), since
// company would rarely come and no job ahead of it is running.
import { randomUUID } from 'node:crypto';
import { MAX_ISSUE_BATCH, type CertificateRecord, type IssueItem, type IssueItemResult, type JobError } from '@fsm-certs/queue';
import { GatewayError, type GatewayErrorCode } from '../errors.js';
import { zodDetail } from '../http/validate.js';
import { checkIssueItem } from './checked-item.js';
import type { IssueClient } from './issue-client.js';

export type IssueRequestItem = Omit<IssueItem, 'requestId'>;

export interface BatcherOptions {
  /** The longest the first request of a batch waits for company, in ms. Default 2. */
  readonly windowMs?: number;
  /** Flush as soon as this many items are pending. Default 64, capped at MAX_ISSUE_BATCH. */
  readonly maxItems?: number;
  /** How many jobs the batcher aims to keep in flight under steady demand. Default 2. */
  readonly pipelineDepth?: number;
  /** Milliseconds clock for the demand estimate; injectable for tests. */
  readonly now?: () => number;
  /** Passed to IssueClient.issueBatch. */
  readonly timeoutMs: number;
  /** Request ids; injectable so tests are deterministic. */
  readonly newRequestId?: () => string;
}

export interface BatchObserver {
  /** Called once per flushed batch with its size (for metrics / logs). */
  onBatch?(size: number): void;
}

interface Pending {
  /** The single-flight key, removed from inFlight when this request is settled. */
  readonly key: string;
  readonly item: IssueItem;
  readonly resolve: (record: CertificateRecord) => void;
  readonly reject: (error: unknown) => void;
}

/** A sorted copy, or the array itself when it has nothing to sort (the common case). */
function sorted(values: readonly string[]): readonly string[] {
  return values.length < 2 ? values : [...values].sort();
}

/** The same DNS name, case aside; the everyday answer carries the name as asked, so no copies are made for it. */
function sameName(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** Key for single-flight: every parameter that changes what would be issued. */
export function singleFlightKey(item: IssueRequestItem): string {
  return JSON.stringify([
    item.commonName.toLowerCase(),
    sorted(item.dnsNames),
    sorted(item.uris),
    sorted(item.ipAddresses),
    item.validityMs,
    item.keyAlgorithm,
    item.csrPem ?? '',
    item.reason,
    item.expectSerial ?? '',
  ]);
}

function codeForStatus(status: number): GatewayErrorCode {
  if (status === 400) return 'INVALID_BODY';
  if (status === 403) return 'NAME_NOT_ALLOWED';
  if (status === 404) return 'CERTIFICATE_NOT_FOUND';
  if (status === 503) return 'BACKEND_UNAVAILABLE';
  if (status === 504) return 'ISSUANCE_TIMEOUT';
  return 'ISSUANCE_FAILED';
}

/** An item the ca-service refused: keep its own code and status, they are part of its contract. */
export function itemError(error: JobError): GatewayError {
  const code = codeForStatus(error.httpStatus);
  return new GatewayError(code, error.message, {
    httpStatus: error.httpStatus,
    publicCode: error.code,
    ...(code === 'BACKEND_UNAVAILABLE' ? { retryAfterSeconds: 2 } : {}),
  });
}

/** How long a peak of outstanding requests counts as the current demand, in two buckets of half. */
const DEMAND_BUCKET_MS = 500;

/**
 * The most requests outstanding at once within the last two buckets (at least the last one's
 * DEMAND_BUCKET_MS): the buckets take turns, so a peak is forgotten within a second. The same
 * buckets count arrivals, for the recent arrival rate.
 */
class DemandPeak {
  private current = 0;
  private previous = 0;
  private arrivals = 0;
  private previousArrivals = 0;
  /** How long the previous bucket lasted, in ms; 0 when it says nothing about now. */
  private previousSpan = 0;
  private bucketStart: number;

  constructor(private readonly now: () => number) {
    this.bucketStart = now();
  }

  /** Records one arrival with this many requests outstanding; returns the demand. */
  observe(outstanding: number): number {
    const now = this.now();
    const elapsed = now - this.bucketStart;
    if (elapsed >= DEMAND_BUCKET_MS) {
      // A bucket that ended more than a bucket ago says nothing about now.
      const stale = elapsed >= 2 * DEMAND_BUCKET_MS;
      this.previous = stale ? 0 : this.current;
      this.previousArrivals = stale ? 0 : this.arrivals;
      this.previousSpan = stale ? 0 : elapsed;
      this.current = 0;
      this.arrivals = 0;
      this.bucketStart = now;
    }
    this.arrivals += 1;
    if (outstanding > this.current) this.current = outstanding;
    return Math.max(this.current, this.previous);
  }

  /** Whether requests arrived less often than one per `windowMs` over the buckets' span. */
  sparse(windowMs: number): boolean {
    const span = this.previousSpan + (this.now() - this.bucketStart);
    return (this.previousArrivals + this.arrivals) * windowMs < span;
  }
}

export class IssueBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly inFlight = new Map<string, Promise<CertificateRecord>>();
  private readonly windowMs: number;
  private readonly maxItems: number;
  private readonly pipelineDepth: number;
  private readonly newRequestId: () => string;
  private readonly inProgress = new Set<Promise<void>>();
  private readonly demand: DemandPeak;
  /** Items in batches sent and not yet answered. */
  private sentItems = 0;

  constructor(
    private readonly client: IssueClient,
    private readonly options: BatcherOptions,
    private readonly observer: BatchObserver = {},
  ) {
    this.windowMs = options.windowMs ?? 2;
    this.maxItems = Math.min(Math.max(1, options.maxItems ?? 64), MAX_ISSUE_BATCH);
    this.pipelineDepth = Math.max(1, options.pipelineDepth ?? 2);
    this.newRequestId = options.newRequestId ?? randomUUID;
    this.demand = new DemandPeak(options.now ?? Date.now);
  }

  /**
   * Resolves with the issued (or reused) record; rejects with a GatewayError. An item its job
   * contract (issueItemSchema) refuses is refused here, 400 for this request alone: it never
   * joins a batch, where the ca-service would fail the whole job.
   */
  submit(request: IssueRequestItem): Promise<CertificateRecord> {
    const key = singleFlightKey(request);
    const shared = this.inFlight.get(key);
    if (shared !== undefined) return shared;
    const checked = checkIssueItem({ ...request, requestId: this.newRequestId() });
    if (!checked.success) {
      return Promise.reject(
        new GatewayError('INVALID_BODY', `The request cannot be queued for issuance: ${zodDetail(checked.error)}; ask for fewer or shorter names.`, {
          cause: checked.error,
        }),
      );
    }
    const item = checked.data;
    const promise = new Promise<CertificateRecord>((resolve, reject) => {
      this.pending.push({ key, item, resolve, reject });
    });
    this.inFlight.set(key, promise);
    const demand = this.demand.observe(this.sentItems + this.pending.length);
    const share = Math.min(this.maxItems, Math.ceil(demand / this.pipelineDepth));
    if (this.pending.length >= this.maxItems) this.flush();
    // At the end of this event-loop turn, so requests read in the same turn go together. With no
    // job in flight and sparse arrivals, waiting for the share would only delay this batch.
    else if (this.pending.length >= share || this.idleAndSparse()) this.flushAtEndOfTurn();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    return promise;
  }

  /** Sends what is pending now. Called by the timer, on a full batch or share, and on close. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.observer.onBatch?.(batch.length);
    this.sentItems += batch.length;
    const run: Promise<void> = this.send(batch).finally(() => {
      this.sentItems -= batch.length;
      this.inProgress.delete(run);
      // The pipeline just went idle: what waits for company leaves, as a new arrival would.
      if (this.pending.length > 0 && this.idleAndSparse()) this.flushAtEndOfTurn();
    });
    this.inProgress.add(run);
  }

  /** No job in flight, and requests arrived less often than one per window: company would rarely come. */
  private idleAndSparse(): boolean {
    return this.sentItems === 0 && this.demand.sparse(this.windowMs);
  }

  /** Sends what is pending at the end of this event-loop turn, with whatever else the turn reads. */
  private flushAtEndOfTurn(): void {
    this.immediate ??= setImmediate(() => this.flush());
  }

  /** Flushes what is pending and waits for every batch in flight (graceful shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inProgress]);
  }

  private async send(batch: readonly Pending[]): Promise<void> {
    let results: readonly IssueItemResult[];
    try {
      results = await this.client.issueBatch(
        batch.map((p) => p.item),
        { timeoutMs: this.options.timeoutMs },
      );
    } catch (error) {
      for (const p of batch) {
        // Settled requests leave the single-flight map at once (no .finally() promise per request).
        this.inFlight.delete(p.key);
        p.reject(error);
      }
      return;
    }
    const byId = new Map(results.map((r) => [r.requestId, r]));
    for (const p of batch) {
      this.inFlight.delete(p.key);
      const result = byId.get(p.item.requestId);
      if (result === undefined) {
        p.reject(new GatewayError('ISSUANCE_FAILED', 'The CA service answered the batch without a result for this request; retry.'));
      } else if (result.ok) {
        // Whatever the result version (carried, or named and read back), a certificate is handed
        // only to the request for its name: the gateway authorized that name, not another.
        if (sameName(result.certificate.commonName, p.item.commonName)) p.resolve(result.certificate);
        else p.reject(new GatewayError('ISSUANCE_FAILED', 'The CA service answered this request with a certificate for another name, which was not handed out; check that the gateway and the ca-service run compatible versions, and report it.'));
      } else {
        p.reject(itemError(result.error));
      }
    }
  }
}
