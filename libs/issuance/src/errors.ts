// Failures of the issuance pipeline itself (not of a provider or of Redis, which have their own
// error classes). Each has a stable code, the HTTP status the gateway answers with, whether a
// retry may help, and a message telling the operator what to do. Never carries key material.
import { FsmError } from '@fsm-certs/core';

export type IssuanceErrorCode =
  | 'CERTIFICATE_NOT_FOUND' // a scheduled rotation for a name released in the meantime
  | 'CSR_REQUIRED' // a CSR-mode certificate must be rotated with its CSR, which the record lacks
  | 'NAME_BUSY' // another issuance for the same name held the lock too long
  | 'KEK_INVALID' // the key-encryption key in config or in the secret store is unusable
  | 'ROTATION_UNSUPPORTED' // a staged root rotation asked of a provider that has none (Vault, cert-manager)
  | 'INTERNAL'; // anything unexpected: a bug, reported without internals

const STATUS: Record<IssuanceErrorCode, number> = {
  CERTIFICATE_NOT_FOUND: 404,
  CSR_REQUIRED: 409,
  NAME_BUSY: 503,
  KEK_INVALID: 500,
  ROTATION_UNSUPPORTED: 409,
  INTERNAL: 500,
};

const RETRYABLE: ReadonlySet<IssuanceErrorCode> = new Set(['NAME_BUSY']);

export class IssuanceError extends FsmError<IssuanceErrorCode> {
  override readonly name = 'IssuanceError';

  constructor(code: IssuanceErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { httpStatus: STATUS[code], retryable: RETRYABLE.has(code), cause: options.cause });
  }
}

export function isIssuanceError(value: unknown): value is IssuanceError {
  return value instanceof IssuanceError;
}
