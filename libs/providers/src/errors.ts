// One error class per failure kind, each with a stable code, an HTTP status for the gateway,
// whether retrying may help, and the cause. Messages tell the operator what to do.
import { FsmError } from '@fsm-certs/core';

export type ProviderErrorCode =
  | 'INVALID_REQUEST' // 400: the request itself is wrong (bad name, bad CSR, bad validity)
  | 'NAME_NOT_ALLOWED' // 403: the backend's policy refuses this name (e.g. Vault role)
  | 'ISSUANCE_DENIED' // 403: a cert-manager approver denied the request
  | 'ISSUANCE_FAILED' // 502: the backend tried and failed
  | 'ISSUANCE_TIMEOUT' // 504: no answer in time
  | 'BACKEND_UNAVAILABLE' // 503: network error, 5xx, sealed Vault: retry later
  | 'BACKEND_AUTH_FAILED' // 502: our credentials are bad (token invalid / lacks permission)
  | 'CA_BUNDLE_INVALID' // 500: the CA secret exists but is unusable
  | 'CA_BUNDLE_MISSING' // 500: the CA secret is required and absent
  | 'UNSUPPORTED_ISSUER' // 500: e.g. an ACME issuer for cert-manager
  | 'SECRET_ALREADY_EXISTS' // 409
  | 'SECRET_CONFLICT' // 409: stale resourceVersion
  | 'SECRET_STORE_ERROR' // 500
  | 'ROTATION_CONFLICT' // 409: a root-rotation step does not apply to the stored stage (or it changed meanwhile)
  | 'CONFIGURATION_INVALID'; // 500

const STATUS: Record<ProviderErrorCode, number> = {
  INVALID_REQUEST: 400,
  NAME_NOT_ALLOWED: 403,
  ISSUANCE_DENIED: 403,
  ISSUANCE_FAILED: 502,
  ISSUANCE_TIMEOUT: 504,
  BACKEND_UNAVAILABLE: 503,
  BACKEND_AUTH_FAILED: 502,
  CA_BUNDLE_INVALID: 500,
  CA_BUNDLE_MISSING: 500,
  UNSUPPORTED_ISSUER: 500,
  SECRET_ALREADY_EXISTS: 409,
  SECRET_CONFLICT: 409,
  SECRET_STORE_ERROR: 500,
  ROTATION_CONFLICT: 409,
  CONFIGURATION_INVALID: 500,
};

const RETRYABLE: ReadonlySet<ProviderErrorCode> = new Set(['BACKEND_UNAVAILABLE', 'ISSUANCE_TIMEOUT', 'SECRET_CONFLICT']);

export class ProviderError extends FsmError<ProviderErrorCode> {
  override readonly name = 'ProviderError';

  constructor(code: ProviderErrorCode, message: string, options: { cause?: unknown; retryable?: boolean; httpStatus?: number } = {}) {
    super(code, message, {
      httpStatus: options.httpStatus ?? STATUS[code],
      retryable: options.retryable ?? RETRYABLE.has(code),
      cause: options.cause,
    });
  }
}

export function isProviderError(value: unknown): value is ProviderError {
  return value instanceof ProviderError;
}
