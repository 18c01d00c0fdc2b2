// The `rotate` queue's processor: one job per (name, serial), deduplicated by job id, executed
// only if the inventory still holds that serial. Permanent failures become UnrecoverableError.
import { UnrecoverableError, type Job } from 'bullmq';
import { parseJobPayload, rotateJobPayloadSchema, type RotateJobPayload, type RotateJobResult } from '@fsm-certs/queue';
import type { Logger } from 'pino';
import type { CertificateIssuer } from './certificate-issuer.js';
import { handBackIfCancelled } from './cancelled-job.js';
import { attemptContext } from './issue-processor.js';
import { toJobError } from './job-error.js';
import type { RenewalYield } from './renewals-yield.js';

export interface RotateProcessorDeps {
  readonly issuer: CertificateIssuer;
  readonly logger: Logger;
  /** Lanes shared with interactive issuance: a renewal waits for one (see renewals-yield.ts). */
  readonly renewals?: Pick<RenewalYield, 'acquire'>;
}

export function createRotateProcessor(deps: RotateProcessorDeps) {
  return async (job: Job<RotateJobPayload, RotateJobResult>, token?: string, signal?: AbortSignal): Promise<RotateJobResult> => {
    const payload = parseJobPayload(rotateJobPayloadSchema, job.data);
    let release: (() => void) | undefined;
    try {
      release = await deps.renewals?.acquire(signal);
      const outcome = await deps.issuer.rotate(payload.commonName, payload.serialNumber, payload.reason, attemptContext(job, signal));
      deps.logger.debug({ commonName: payload.commonName, serialNumber: payload.serialNumber, outcome: outcome.kind }, 'rotate job done');
      return {
        version: 1,
        commonName: payload.commonName,
        previousSerialNumber: payload.serialNumber,
        outcome: outcome.kind,
        ...(outcome.kind === 'not-found' ? {} : { certificate: outcome.record }),
      };
    } catch (error) {
      await handBackIfCancelled(job, token, signal);
      const jobError = toJobError(error, String(job.id));
      deps.logger.warn({ commonName: payload.commonName, serialNumber: payload.serialNumber, code: jobError.code }, 'rotation failed');
      if (jobError.retryable) throw error;
      throw new UnrecoverableError(`${jobError.code}: ${jobError.message}`);
    } finally {
      release?.();
    }
  };
}
