// Default BullMQ job options per queue. Completed jobs are kept for a while because the gateway
// reads results back and the rotate queue relies on a kept job id to swallow duplicates.
import type { DefaultJobOptions } from 'bullmq';

const HOUR_S = 3600;

export const ISSUE_JOB_OPTIONS: Readonly<DefaultJobOptions> = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 250 },
  removeOnComplete: { age: HOUR_S, count: 10_000 },
  removeOnFail: { age: 24 * HOUR_S, count: 10_000 },
};

export const ROTATE_JOB_OPTIONS: Readonly<DefaultJobOptions> = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  // Kept for a day: a sweep re-finding the same (name, serial) adds a job with the same id,
  // which BullMQ ignores while the old job exists.
  removeOnComplete: { age: 24 * HOUR_S, count: 100_000 },
  removeOnFail: { age: 7 * 24 * HOUR_S, count: 10_000 },
};

export const ROOT_ROTATION_JOB_OPTIONS: Readonly<DefaultJobOptions> = {
  // An action is answered once: the processor turns every failure into a result, and a stalled
  // job (its replica killed) is taken over and decided again against the stored stage.
  attempts: 1,
  removeOnComplete: { age: 24 * HOUR_S, count: 1_000 },
  removeOnFail: { age: 7 * 24 * HOUR_S, count: 1_000 },
};
