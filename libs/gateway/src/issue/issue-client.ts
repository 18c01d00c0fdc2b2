// The gateway's only way to get a certificate signed: hand a batch of items to the ca-service
// and wait for the answer. The BullMQ implementation is bullmq-issue-client.ts; tests pass a fake.
import type { IssueItem, IssueItemResult } from '@fsm-certs/queue';

export interface IssueBatchOptions {
  /** Give up after this long with ISSUANCE_TIMEOUT (504). */
  readonly timeoutMs: number;
}

export interface IssueClient {
  /**
   * Enqueues ONE job carrying all items and resolves with one result per item (matched by
   * requestId, any order). Throws GatewayError BACKEND_UNAVAILABLE when Redis / the queue cannot
   * take the job, ISSUANCE_TIMEOUT when no result arrives in time, ISSUANCE_FAILED when the job
   * itself failed.
   */
  issueBatch(items: readonly IssueItem[], options: IssueBatchOptions): Promise<readonly IssueItemResult[]>;
  /** Jobs waiting, delayed or active on the issue queue (for /metrics); throws when unreachable. */
  queueDepth(): Promise<number>;
  close(): Promise<void>;
}
