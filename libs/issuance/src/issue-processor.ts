// The `issue` queue's processor: validate the batch at the edge (a bad payload fails at once,
// never retried), answer every item independently (one bad item fails only itself), and retry
// the whole job only for transient failures while attempts remain — items already answered
// are found again by request id, so a retry never issues twice.
import type { Job } from 'bullmq';
import {
  LATEST_ISSUE_RESULT_VERSION,
  parseIssueJobPayload,
  type IssueItemResult,
  type IssueItemResultV2,
  type IssueItemResultV3,
  type IssueJobPayload,
  type IssueJobResult,
} from '@fsm-certs/queue';
import type { Logger } from 'pino';
import { handBackIfCancelled } from './cancelled-job.js';
import type { AttemptContext, CertificateIssuer } from './certificate-issuer.js';
import { toJobError } from './job-error.js';

export class TransientBatchError extends Error {
  override readonly name = 'TransientBatchError';
  readonly code = 'BATCH_RETRY' as const;
  readonly httpStatus = 503;
  readonly retryable = true;
}

/** The trust bundle this ca-service publishes, with its digest (trustBundleDigest). */
export interface PublishedTrustBundle {
  readonly digest: string;
  readonly issuingCaPem: string;
  readonly trustedCasPem: readonly string[];
}

export interface IssueProcessorDeps {
  readonly issuer: CertificateIssuer;
  readonly logger: Logger;
  /** For v2 results; undefined (or returning undefined) means every record carries its PEMs. */
  readonly trustBundle?: () => PublishedTrustBundle | undefined;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * v2 results: records whose CA PEMs are exactly the published bundle's reference it by digest
 * instead of repeating them; any other record (e.g. reused from before a CA change) stays whole.
 */
export function compactResults(results: readonly IssueItemResult[], bundle: PublishedTrustBundle | undefined): IssueItemResultV2[] {
  return results.map((result): IssueItemResultV2 => {
    if (!result.ok || bundle === undefined) return result;
    const { issuingCaPem, trustedCasPem, ...rest } = result.certificate;
    if (issuingCaPem !== bundle.issuingCaPem || !sameStrings(trustedCasPem, bundle.trustedCasPem)) return result;
    const compact: IssueItemResultV2 = { requestId: result.requestId, ok: true, certificate: rest, trustBundleDigest: bundle.digest };
    return result.auditId === undefined ? compact : { ...compact, auditId: result.auditId };
  });
}

/**
 * v3 results: every certificate an item is answered with is its name's current record in the
 * inventory (stored by this batch's commit, or found there by its lookup), so it is named, not
 * carried; the gateway reads it back and answers only with that serial.
 */
export function namedResults(results: readonly IssueItemResult[]): IssueItemResultV3[] {
  return results.map((result): IssueItemResultV3 => {
    if (!result.ok) return result;
    const { commonName, serialNumber } = result.certificate;
    const named: IssueItemResultV3 = { requestId: result.requestId, ok: true, commonName, serialNumber };
    return result.auditId === undefined ? named : { ...named, auditId: result.auditId };
  });
}

/** The result version to answer with: the highest this release writes, up to the one the producer reads. */
function resultVersionFor(payload: IssueJobPayload): number {
  return Math.min(LATEST_ISSUE_RESULT_VERSION, Math.max(payload.resultVersion ?? 1, payload.maxResultVersion ?? 1));
}

/** An attempt after a crash, a stall or a retry may find work of an earlier attempt half done. */
export function attemptContext(job: Job, signal: AbortSignal | undefined): AttemptContext {
  const mayBeRetry = job.attemptsMade > 0 || job.attemptsStarted > 1 || job.stalledCounter > 0;
  return signal === undefined ? { mayBeRetry } : { mayBeRetry, signal };
}

function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function backendRetriesSpent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'backendRetriesSpent' in error && error.backendRetriesSpent === true;
}

export function createIssueProcessor(deps: IssueProcessorDeps) {
  return async (job: Job<IssueJobPayload, IssueJobResult>, token?: string, signal?: AbortSignal): Promise<IssueJobResult> => {
    const payload = parseIssueJobPayload(job.data);
    const attempt = attemptContext(job, signal);
    const answers = await deps.issuer.handleItems(payload.requests, attempt);
    await handBackIfCancelled(job, token, signal);
    const results = payload.requests.map((item, i): IssueItemResult => {
      const answer = answers[i];
      if (answer?.ok === true) {
        // Only a certificate this attempt stored had its audit record stored with it; a retry
        // answering from an earlier attempt leaves the record to the gateway (same id, no duplicate).
        const auditId = answer.outcome.kind === 'issued' ? item.audit?.id : undefined;
        return auditId === undefined
          ? { requestId: item.requestId, ok: true, certificate: answer.outcome.record }
          : { requestId: item.requestId, ok: true, certificate: answer.outcome.record, auditId };
      }
      const error = answer === undefined ? new Error('no answer') : answer.error;
      const jobError = toJobError(error, item.requestId);
      const log = jobError.httpStatus >= 500 ? deps.logger.error.bind(deps.logger) : deps.logger.info.bind(deps.logger);
      log(
        { requestId: item.requestId, commonName: item.commonName, code: jobError.code, jobId: job.id, err: jobError.httpStatus >= 500 ? error : undefined },
        'issue item failed',
      );
      return { requestId: item.requestId, ok: false, error: jobError };
    });
    // A backend that already spent its own retries (a Vault outage) is answered now with 503 +
    // Retry-After: retrying the job too would stack waits on the caller for the same outcome.
    const transient = results.filter((r, i) => !r.ok && r.error.retryable && !backendRetriesSpent(answers[i]?.ok === false ? answers[i].error : undefined)).length;
    if (transient > 0 && !isLastAttempt(job)) {
      throw new TransientBatchError(
        `${transient} of ${results.length} items hit a transient failure (backend or Redis unavailable); retrying the batch — answered items are returned again, not re-issued.`,
      );
    }
    const version = resultVersionFor(payload);
    if (version === 3) return { version: 3, results: namedResults(results) };
    if (version === 2) return { version: 2, results: compactResults(results, deps.trustBundle?.()) };
    return { version: 1, results };
  };
}
