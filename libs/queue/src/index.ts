// Public API of @fsm-certs/queue: the contracts every app shares (queue names, payload and
// result schemas, records, events), plus the Redis-backed pieces built on them.
export * from './errors.js';
export * from './keys.js';
export * from './contracts/queue-names.js';
export * from './contracts/common.js';
export * from './contracts/certificate-record.js';
export * from './contracts/issue-job.js';
export * from './contracts/rotate-job.js';
export * from './contracts/root-rotation-job.js';
export * from './rotation-status-store.js';
export * from './contracts/job-options.js';
export * from './contracts/parse.js';
export * from './contracts/events.js';
export * from './redis/launcher.js';
export * from './redis/connection.js';
export * from './crypto/key-envelope.js';
export * from './inventory/inventory.js';
export * from './inventory/issue-batch-store.js';
export * from './inventory/overdue.js';
export * from './inventory/trust-bundle-digest.js';
export { DEFAULT_RECORD_FORMAT, RECORD_FORMATS, type RecordFormat } from './inventory/compact-record.js';
export * from './events/event-stream.js';
export * from './heartbeat.js';
export * from './queues.js';
export { answersMarker, decodeRecord, encodeRecord, fieldsOf, isUnreadableRecord, type LeafFacts, parseRequestMarker, requestMarker, UnreadableRecordError, type EncodedRecord, type RecordFields } from './inventory/record-codec.js';
export * from './rate-limit/shared-rate-limiter.js';
export * from './audit/audit-log.js';
export * from './audit/issuance-record.js';
