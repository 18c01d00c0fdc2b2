// The `root-rotation` queue's processor: an admin's action, carried out by the controller. Every
// outcome is a result (ok with the status, or the error the gateway answers with), so the job
// itself never fails and is never retried: an action applies once, or is refused.
import type { Job } from 'bullmq';
import { parseJobPayload, rootRotationJobPayloadSchema, type RootRotationJobPayload, type RootRotationJobResult } from '@fsm-certs/queue';
import type { Logger } from 'pino';
import { toJobError } from '../job-error.js';
import type { RootRotationController } from './controller.js';

export function createRootRotationProcessor(controller: RootRotationController, logger: Logger) {
  return async (job: Job<RootRotationJobPayload, RootRotationJobResult>): Promise<RootRotationJobResult> => {
    const payload = parseJobPayload(rootRotationJobPayloadSchema, job.data);
    try {
      return { version: 1, ok: true, status: await controller.act(payload) };
    } catch (error) {
      const jobError = toJobError(error, String(job.id));
      logger.info({ action: payload.action, code: jobError.code, requestedBy: payload.requestedBy }, `root rotation action refused: ${jobError.message}`);
      return { version: 1, ok: false, error: jobError };
    }
  };
}
