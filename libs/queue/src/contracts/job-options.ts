// Default BullMQ job options per queue. Completed issue jobs are kept for a while only for the
// gateway's warm-up check (see ISSUE_JOB_OPTIONS_RESULT_BY_EVENT); the rotate queue relies on a
// kept job id to swallow duplicates.
import type { DefaultJobOptions } from 'bullmq';

const HOUR_S = 3600;

/**
 * How long a completed issue job (its result: every certificate record of the batch, ~1 KB per
 * item) stays in Redis. Its one reader is the gateway, within moments of completion: through the
 * `completed` event, or, until its event reader is known to run (just after start-up), by reading
 * the job itself; only the jobs added in that window are kept (the others are added with
 * ISSUE_JOB_OPTIONS_RESULT_BY_EVENT). Nobody reads it later, so a minute and the last 1,000 jobs are plenty. Keeping
 * 10,000 for an hour held ~13 KB per job of 7 items: ~130 MB of Redis memory at steady load.
 */
export const ISSUE_JOB_RETENTION = { age: 60, count: 1_000 } as const;

export const ISSUE_JOB_OPTIONS: Readonly<DefaultJobOptions> = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 250 },
  removeOnComplete: { ...ISSUE_JOB_RETENTION },
  removeOnFail: { age: 24 * HOUR_S, count: 10_000 },
};

/**
 * An issue job whose producer reads its result from the `completed` event alone (a gateway whose
 * FinishedJobReader had fixed its start in the events stream before the job was added): deleted
 * as it completes. Its result is then written once,
 * to the event, instead of also into the job hash, and moveToFinished neither adds it to the
 * completed set nor trims that set (one old job deleted per job finished). Retention is a job's
 * own option, honoured by any ca-service, so this is the producer's choice alone. A job that fails
 * for good is kept as ISSUE_JOB_OPTIONS keeps it.
 */
export const ISSUE_JOB_OPTIONS_RESULT_BY_EVENT: Readonly<DefaultJobOptions> = {
  ...ISSUE_JOB_OPTIONS,
  removeOnComplete: true,
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
