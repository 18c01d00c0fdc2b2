// A job whose processor was cancelled (its ca-service is stopping and the shutdown budget is
// nearly spent) goes straight back to the queue for another replica, without counting as a
// failed attempt: the cancel says nothing about the job, and answered items are found again by
// request id, so nothing is issued twice.
import { DelayedError, type Job } from 'bullmq';

export async function handBackIfCancelled(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted !== true || token === undefined) return;
  await job.moveToDelayed(Date.now(), token);
  throw new DelayedError(`job ${String(job.id)} handed back to the queue: its ca-service is shutting down`);
}
