// Queue names are persisted in Redis key names: renaming one strands its jobs. BullMQ refuses
// ':' in queue names, and none of ours may collide with the lib's own key segments (see keys.ts).
export const QUEUE_NAMES = {
  /** Issue (and re-issue) certificates; a job carries a batch of 1..N requests. */
  issue: 'issue',
  /** Rotate one certificate identified by (commonName, serialNumber). */
  rotate: 'rotate',
  /** An admin's action on the staged root rotation (start, activate, retire, pause, resume, rollback). */
  rootRotation: 'root-rotation',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/** BullMQ job names used inside the queues (informational: workers dispatch on the queue). */
export const JOB_NAMES = {
  issueBatch: 'issue-batch',
  rotate: 'rotate',
  rootRotation: 'root-rotation',
} as const;
