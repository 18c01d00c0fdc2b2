// One error class for this lib's failures, each with a stable code, the HTTP status the gateway
// should answer with, whether retrying may help, and the cause. Messages tell the operator what
// to do and never contain key material.
import { UnrecoverableError } from 'bullmq';
import { FsmError } from '@fsm-certs/core';

export type QueueErrorCode =
  | 'REDIS_NOT_INSTALLED' // redis-server is not on PATH and no REDIS_URL was given
  | 'REDIS_START_FAILED' // redis-server started but never answered PING
  | 'REDIS_UNAVAILABLE' // a command failed because Redis is down: retry later
  | 'INVALID_KEK' // the key-encryption key from config is not 32 bytes of base64/hex
  | 'ENVELOPE_INVALID' // an encrypted key blob is malformed, tampered with or under another KEK
  | 'RECORD_INVALID' // a record to be stored fails its schema, or a stored trust bundle / event does
  | 'RECORD_UNREADABLE' // a stored certificate record does not decode (corrupted, or another version's)
  | 'INVALID_ARGUMENT'; // a caller passed a value this lib refuses (e.g. limit <= 0)

const STATUS: Record<QueueErrorCode, number> = {
  REDIS_NOT_INSTALLED: 500,
  REDIS_START_FAILED: 500,
  REDIS_UNAVAILABLE: 503,
  INVALID_KEK: 500,
  ENVELOPE_INVALID: 500,
  RECORD_INVALID: 500,
  RECORD_UNREADABLE: 500,
  INVALID_ARGUMENT: 400,
};

export class QueueError extends FsmError<QueueErrorCode> {
  override readonly name = 'QueueError';

  constructor(code: QueueErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { httpStatus: STATUS[code], retryable: code === 'REDIS_UNAVAILABLE', cause: options.cause });
  }
}

/**
 * A job whose payload fails its schema. Extends BullMQ's UnrecoverableError so a worker that
 * lets it propagate fails the job at once instead of retrying a payload that can never parse.
 * It cannot also extend FsmError, so it implements FsmError's fields (code, httpStatus,
 * retryable, cause) itself; code that maps errors to job results reads those fields, not the class.
 */
export class InvalidJobPayloadError
  extends UnrecoverableError
  implements Pick<FsmError<'INVALID_JOB_PAYLOAD'>, 'code' | 'httpStatus' | 'retryable'>
{
  override readonly name = 'InvalidJobPayloadError';
  readonly code = 'INVALID_JOB_PAYLOAD' as const;
  readonly httpStatus = 400;
  readonly retryable = false;
  /** Dotted paths of the failing fields, e.g. `requests.0.validityMs`. */
  readonly fields: readonly string[];

  constructor(message: string, fields: readonly string[], options: { cause?: unknown } = {}) {
    super(message);
    this.fields = fields;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isQueueError(value: unknown): value is QueueError {
  return value instanceof QueueError;
}
