// One sweep of the renew-time index: every certificate whose renewAt has passed gets a `rotate`
// job with the dedupe id rotateJobId(name, serial). Two replicas (or two sweeps) adding the same
// id produce one job; the ca-service also refuses to rotate a serial that is no longer current,
// so a cert is rotated once however often it is found due. Cost: O(due), never O(inventory).
import type { Inventory, RotateQueue } from '@fsm-certs/queue';
import { rotateJobId } from '@fsm-certs/queue';
import type { Logger } from 'pino';
import type { Clock } from '@fsm-certs/core';

export interface SweepDeps {
  readonly inventory: Pick<Inventory, 'due' | 'get'>;
  readonly rotateQueue: Pick<RotateQueue, 'getJob' | 'add'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Most certificates enqueued per sweep. */
  readonly limit: number;
  /** A rotation that failed for good is tried again after this long; default 300000 (5 min). */
  readonly retryFailedAfterMs?: number;
}

export interface SweepResult {
  readonly due: number;
  /** Jobs newly added (not already waiting/active/done under the same id). */
  readonly enqueued: number;
  /** Finished (failed) rotations of a still-current serial sent back to the queue. */
  readonly retried: number;
}

export async function sweepOnce(deps: SweepDeps): Promise<SweepResult> {
  const now = deps.clock.now();
  const candidates = await deps.inventory.due(now, deps.limit);
  // due() reads the index and the serials in two steps: a rotation landing in between pairs the
  // name with its NEW serial, which is not due at all. Re-read each record (one consistent
  // value) and keep only serials that are current and due, or that new cert would rotate again.
  const records = await Promise.all(candidates.map((c) => deps.inventory.get(c.commonName)));
  const due = candidates.filter((c, i) => {
    const record = records[i];
    return record !== undefined && record.serialNumber === c.serialNumber && Date.parse(record.renewAt) <= now;
  });
  let enqueued = 0;
  let retried = 0;
  for (const entry of due) {
    const jobId = rotateJobId(entry.commonName, entry.serialNumber);
    const existing = await deps.rotateQueue.getJob(jobId);
    if (existing !== undefined) {
      // A finished job keeps its id for hours (failed: days) and would swallow the new one, yet
      // the serial is still current — the rotation failed for good, or the record was restored
      // after it ran. Clear it so this (name, serial) is tried again; waiting/active jobs stay.
      const state = await existing.getState();
      if (state !== 'failed' && state !== 'completed') continue;
      const finishedAgo = deps.clock.now() - (existing.finishedOn ?? 0);
      if (state === 'failed' && finishedAgo < (deps.retryFailedAfterMs ?? 300_000)) continue;
      deps.logger.warn({ commonName: entry.commonName, serialNumber: entry.serialNumber, state, failedReason: existing.failedReason }, 'still due after a finished rotation; trying again');
      await existing.remove().catch(() => undefined); // another replica may have removed it first
      retried += 1;
    }
    await deps.rotateQueue.add(
      'rotate',
      { version: 1, commonName: entry.commonName, serialNumber: entry.serialNumber, reason: 'rotate-scheduled' },
      { jobId },
    );
    if (existing === undefined) enqueued += 1;
  }
  if (due.length > 0) deps.logger.info({ due: due.length, enqueued, retried }, 'rotation sweep');
  return { due: due.length, enqueued, retried };
}
